// Copy snapshot: to a region of the daemon (useRegions), with a description. EC2 takes CopySnapshot
// in the destination region, naming the source region, which is how the AWS console calls it too.
import type { Snapshot } from "@aws-sdk/client-ec2";
import FormField from "@cloudscape-design/components/form-field";
import Input from "@cloudscape-design/components/input";
import Select from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { copySnapshot, snapshotKeys } from "../../api/snapshots.ts";
import { useNotify } from "../../app/notifications.tsx";
import { useRegions } from "../../app/regions.ts";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { FormModal } from "../shared/FormModal.tsx";

export function CopySnapshotModal(p: { snapshot: Snapshot | undefined; onClose(): void }) {
  const { region } = useSession();
  const { regions } = useRegions();
  const queries = useQueryClient();
  const { notify } = useNotify();
  const [destination, setDestination] = useState("");
  const [description, setDescription] = useState("");
  const target = destination || region;
  const ec2 = useEc2(target);
  const copy = useMutation({
    mutationFn: () =>
      copySnapshot(
        ec2,
        region,
        p.snapshot?.SnapshotId ?? "",
        description || `Copy of ${p.snapshot?.SnapshotId} from ${region}`,
      ),
    onSuccess: (id) => {
      notify({ type: "success", header: "Snapshot copy started", content: `${id} in ${target}` });
      queries.invalidateQueries({ queryKey: snapshotKeys.all(target) });
      close();
    },
  });
  const close = () => {
    copy.reset();
    setDestination("");
    setDescription("");
    p.onClose();
  };
  return (
    <FormModal
      visible={!!p.snapshot}
      header="Copy snapshot"
      submitLabel="Copy snapshot"
      busy={copy.isPending}
      error={copy.error}
      onSubmit={() => copy.mutate()}
      onClose={close}
    >
      <SpaceBetween size="m">
        <FormField label="Source snapshot">
          <Input value={p.snapshot?.SnapshotId ?? ""} readOnly />
        </FormField>
        <FormField label="Destination Region">
          <Select
            selectedOption={{ value: target, label: target }}
            options={regions.map((r) => ({ value: r, label: r }))}
            onChange={(e) => setDestination(e.detail.selectedOption.value ?? "")}
          />
        </FormField>
        <FormField label="Description">
          <Input value={description} onChange={(e) => setDescription(e.detail.value)} />
        </FormField>
      </SpaceBetween>
    </FormModal>
  );
}
