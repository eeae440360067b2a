// Create volume: empty of a size, or from a snapshot (then at least the snapshot's size), in an
// Availability Zone of the region (DescribeAvailabilityZones), of a volume type. As the AWS console's
// "Create volume" page and "Create volume from snapshot" action.
import type { Snapshot, VolumeType } from "@aws-sdk/client-ec2";
import Box from "@cloudscape-design/components/box";
import FormField from "@cloudscape-design/components/form-field";
import Input from "@cloudscape-design/components/input";
import Select from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorText } from "../../api/errors.ts";
import { availabilityZones, createVolume, VOLUME_TYPES, volumeKeys } from "../../api/volumes.ts";
import { useNotify } from "../../app/notifications.tsx";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { FormModal } from "../shared/FormModal.tsx";

export function CreateVolumeModal(p: {
  visible: boolean;
  /** From this snapshot (the "Create volume from snapshot" action); empty otherwise. */
  snapshot?: Snapshot;
  onClose(): void;
}) {
  const { region } = useSession();
  const ec2 = useEc2();
  const queries = useQueryClient();
  const { notify } = useNotify();
  const zones = useQuery({ queryKey: volumeKeys.zones(region), queryFn: () => availabilityZones(ec2) });
  const minimum = p.snapshot?.VolumeSize ?? 1;
  const [zone, setZone] = useState("");
  const [size, setSize] = useState("");
  const [snapshotId, setSnapshotId] = useState("");
  const [type, setType] = useState<VolumeType>("gp3");
  const az = zone || zones.data?.[0] || "";
  const sizeText = size || String(minimum);
  const fromSnapshot = p.snapshot?.SnapshotId ?? snapshotId.trim();
  const sizeNumber = Number(sizeText);
  const sizeError =
    !Number.isInteger(sizeNumber) || sizeNumber < minimum
      ? `Enter a whole number of GiB, at least ${minimum}${p.snapshot ? " (the snapshot's size)" : ""}.`
      : "";
  const create = useMutation({
    mutationFn: () =>
      createVolume(ec2, {
        availabilityZone: az,
        sizeGiB: !p.snapshot && fromSnapshot && !size ? undefined : sizeNumber,
        snapshotId: fromSnapshot || undefined,
        volumeType: type,
      }),
    onSuccess: (id) => {
      notify({
        type: "success",
        header: `Created volume ${id}`,
        content: fromSnapshot ? `From ${fromSnapshot}` : undefined,
      });
      queries.invalidateQueries({ queryKey: volumeKeys.all(region) });
      close();
    },
  });
  const close = () => {
    create.reset();
    setSize("");
    setSnapshotId("");
    p.onClose();
  };
  const title = p.snapshot ? "Create volume from snapshot" : "Create volume";
  return (
    <FormModal
      visible={p.visible}
      header={title}
      submitLabel="Create volume"
      busy={create.isPending}
      error={create.error}
      submitDisabled={!!sizeError || !az}
      onSubmit={() => {
        if (!sizeError && az) create.mutate();
      }}
      onClose={close}
    >
      <SpaceBetween size="m">
        {p.snapshot && (
          <Box>
            Snapshot <b>{p.snapshot.SnapshotId}</b> ({p.snapshot.VolumeSize} GiB)
          </Box>
        )}
        {!p.snapshot && (
          <FormField label="Snapshot ID (optional)" description="Restore the volume from this snapshot.">
            <Input
              value={snapshotId}
              onChange={(e) => setSnapshotId(e.detail.value)}
              placeholder="snap-..."
            />
          </FormField>
        )}
        <FormField label="Availability Zone">
          <Select
            selectedOption={az ? { value: az, label: az } : null}
            options={(zones.data ?? []).map((z) => ({ value: z, label: z }))}
            onChange={(e) => setZone(e.detail.selectedOption.value ?? "")}
            statusType={zones.isLoading ? "loading" : zones.error ? "error" : "finished"}
            errorText={zones.error ? errorText(zones.error) : undefined}
            loadingText="Loading zones"
          />
        </FormField>
        <FormField label="Size (GiB)" errorText={size ? sizeError : undefined}>
          <Input
            type="number"
            inputMode="numeric"
            value={sizeText}
            onChange={(e) => setSize(e.detail.value)}
          />
        </FormField>
        <FormField label="Volume type">
          <Select
            selectedOption={{ value: type, label: type }}
            options={VOLUME_TYPES.map((t) => ({ value: t, label: t }))}
            onChange={(e) => setType((e.detail.selectedOption.value ?? "gp3") as VolumeType)}
          />
        </FormField>
      </SpaceBetween>
    </FormModal>
  );
}
