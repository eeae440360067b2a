// The "Instance state" menu of the list and details pages: stop, start, reboot, terminate the
// selected instances, each confirmed in a modal naming them (as the EC2 console asks).
import type { Instance } from "@aws-sdk/client-ec2";
import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import ButtonDropdown from "@cloudscape-design/components/button-dropdown";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { changeState, instanceKeys, type StateAction } from "../../api/instances.ts";
import { useNotify } from "../../app/notifications.tsx";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { ConfirmModal } from "../shared/ConfirmModal.tsx";
import { nameTag } from "../shared/format.ts";
import { ACTION_NAMES, actionAllowed } from "./instance-state.ts";

const ACTIONS: StateAction[] = ["stop", "start", "reboot", "terminate"];

export function InstanceStateMenu({ selected }: { selected: Instance[] }) {
  const { region } = useSession();
  const ec2 = useEc2();
  const queries = useQueryClient();
  const { notify, fail } = useNotify();
  const [pending, setPending] = useState<{ action: StateAction; instances: Instance[] }>();
  const mutation = useMutation({
    mutationFn: (p: { action: StateAction; ids: string[] }) => changeState(ec2, p.action, p.ids),
    onSuccess: (_r, p) =>
      notify({
        type: "success",
        header: `Successfully initiated ${ACTION_NAMES[p.action].progress.toLowerCase()} of ${p.ids.join(", ")}`,
      }),
    onError: (e, p) => fail(`Failed to ${p.action} ${p.ids.join(", ")}`, e),
    onSettled: () => {
      setPending(undefined);
      void queries.invalidateQueries({ queryKey: instanceKeys.all(region) });
    },
  });
  const ids = pending?.instances.map((i) => i.InstanceId ?? "") ?? [];
  const names = pending ? ACTION_NAMES[pending.action] : undefined;

  return (
    <>
      <ButtonDropdown
        disabled={selected.length === 0}
        disabledReason="Select one or more instances"
        items={ACTIONS.map((a) => ({
          id: a,
          text: ACTION_NAMES[a].item,
          disabled: !actionAllowed(a, selected),
          disabledReason: `Not available for instances in the ${[...new Set(selected.map((i) => i.State?.Name))].join(", ")} state`,
        }))}
        onItemClick={(e) => setPending({ action: e.detail.id as StateAction, instances: selected })}
      >
        Instance state
      </ButtonDropdown>
      <ConfirmModal
        visible={!!pending}
        title={`${names?.verb ?? ""} ${ids.length > 1 ? "instances" : "instance"}?`}
        confirmLabel={names?.verb ?? ""}
        busy={mutation.isPending}
        onCancel={() => setPending(undefined)}
        onConfirm={() => pending && mutation.mutate({ action: pending.action, ids })}
      >
        {pending && <ConfirmBody action={pending.action} instances={pending.instances} />}
      </ConfirmModal>
    </>
  );
}

function ConfirmBody({ action, instances }: { action: StateAction; instances: Instance[] }) {
  return (
    <SpaceBetween size="m">
      {action === "terminate" && (
        <Alert type="warning" header="Terminated instances cannot be recovered">
          The instances are deleted, and so are their EBS volumes marked Delete on termination (the root
          volume by default, as on EC2). Other volumes are detached and kept.
        </Alert>
      )}
      {action === "stop" && (
        <Box>The instances shut down; their EBS volumes are kept and they can be started again.</Box>
      )}
      <Box>
        {ACTION_NAMES[action].verb} the following {instances.length > 1 ? "instances" : "instance"}:
      </Box>
      <ul aria-label="Instances to change">
        {instances.map((i) => (
          <li key={i.InstanceId}>
            <Box variant="strong" display="inline">
              {i.InstanceId}
            </Box>
            {nameTag(i.Tags) ? ` (${nameTag(i.Tags)})` : ""}
            {action === "terminate" && <DeletedVolumes instance={i} />}
          </li>
        ))}
      </ul>
    </SpaceBetween>
  );
}

function DeletedVolumes({ instance }: { instance: Instance }) {
  const deleted = (instance.BlockDeviceMappings ?? []).filter((m) => m.Ebs?.DeleteOnTermination);
  if (deleted.length === 0) return null;
  return (
    <Box variant="small" display="block">
      Volumes deleted with it: {deleted.map((m) => `${m.Ebs?.VolumeId} (${m.DeviceName})`).join(", ")}
    </Box>
  );
}
