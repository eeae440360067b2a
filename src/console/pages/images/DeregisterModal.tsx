// Actions > Deregister AMI, with the AWS console's option to delete the image's snapshots too:
// one DeregisterImage with DeleteAssociatedSnapshots; EC2 answers a result per snapshot, and any
// that was not deleted is shown with its return code.
import type { Image } from "@aws-sdk/client-ec2";
import Box from "@cloudscape-design/components/box";
import Checkbox from "@cloudscape-design/components/checkbox";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { deregisterImage } from "../../api/images.ts";
import { useNotify } from "../../app/notifications.tsx";
import { useEc2 } from "../../app/session-context.tsx";
import { ConfirmModal } from "../shared/ConfirmModal.tsx";
import { useInvalidateImages } from "./hooks.ts";
import { ModalError } from "./ModalError.tsx";

export function DeregisterModal(p: { image: Image; onClose(): void; onDeregistered(): void }) {
  const ec2 = useEc2();
  const { notify } = useNotify();
  const invalidate = useInvalidateImages();
  const id = p.image.ImageId ?? "";
  const snapshots = (p.image.BlockDeviceMappings ?? []).flatMap((m) =>
    m.Ebs?.SnapshotId ? [m.Ebs.SnapshotId] : [],
  );
  const [deleteSnapshots, setDeleteSnapshots] = useState(false);

  const deregister = useMutation({
    mutationFn: () => deregisterImage(ec2, id, deleteSnapshots),
    onSuccess: async (results) => {
      const deleted = results.filter((r) => r.returnCode === "success").map((r) => r.snapshotId);
      const failed = results.filter((r) => r.returnCode !== "success");
      notify({
        type: "success",
        header: `Deregistered ${id}`,
        content: deleted.length ? `Deleted snapshots: ${deleted.join(", ")}` : undefined,
      });
      for (const f of failed) {
        notify({
          type: "error",
          header: `Snapshot ${f.snapshotId} of ${id} was not deleted`,
          content: `${f.returnCode}: the snapshot is kept; delete it from Snapshots once nothing uses it.`,
        });
      }
      p.onDeregistered();
      p.onClose();
      await invalidate();
    },
  });

  return (
    <ConfirmModal
      visible
      title={`Deregister AMI ${id}`}
      confirmLabel="Deregister AMI"
      busy={deregister.isPending}
      onConfirm={() => deregister.mutate()}
      onCancel={p.onClose}
    >
      <SpaceBetween size="m">
        <Box variant="p">
          {p.image.Name ? `${p.image.Name} (${id})` : id} can no longer be launched once deregistered.
          Instances already launched from it keep running.
        </Box>
        <Checkbox
          checked={deleteSnapshots}
          onChange={(e) => setDeleteSnapshots(e.detail.checked)}
          description={
            snapshots.length ? `Snapshots: ${snapshots.join(", ")}` : "This AMI has no EBS snapshots."
          }
        >
          Delete associated snapshots
        </Checkbox>
        <ModalError header="The AMI was not deregistered" error={deregister.error} />
      </SpaceBetween>
    </ConfirmModal>
  );
}
