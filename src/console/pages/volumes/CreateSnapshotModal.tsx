// Create snapshot of a volume (description), as the AWS console's Actions > Create snapshot.
import FormField from "@cloudscape-design/components/form-field";
import Input from "@cloudscape-design/components/input";
import Link from "@cloudscape-design/components/link";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { createSnapshot, snapshotKeys } from "../../api/snapshots.ts";
import { href, useFollow } from "../../app/navigation.ts";
import { useNotify } from "../../app/notifications.tsx";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { FormModal } from "../shared/FormModal.tsx";

export function CreateSnapshotModal(p: { volumeId: string | undefined; onClose(): void }) {
  const { region } = useSession();
  const ec2 = useEc2();
  const queries = useQueryClient();
  const follow = useFollow();
  const { notify } = useNotify();
  const [description, setDescription] = useState("");
  const create = useMutation({
    mutationFn: () => createSnapshot(ec2, p.volumeId ?? "", description),
    onSuccess: (id) => {
      notify({
        type: "success",
        header: "Snapshot started",
        content: (
          <>
            Created{" "}
            <Link href={href(`/snapshots/${id}`)} onFollow={follow} color="inverted">
              {id}
            </Link>{" "}
            of {p.volumeId}
          </>
        ),
      });
      queries.invalidateQueries({ queryKey: snapshotKeys.all(region) });
      close();
    },
  });
  const close = () => {
    create.reset();
    setDescription("");
    p.onClose();
  };
  return (
    <FormModal
      visible={!!p.volumeId}
      header="Create snapshot"
      submitLabel="Create snapshot"
      busy={create.isPending}
      error={create.error}
      onSubmit={() => create.mutate()}
      onClose={close}
    >
      <SpaceBetween size="m">
        <FormField label="Volume ID">
          <Input value={p.volumeId ?? ""} readOnly />
        </FormField>
        <FormField label="Description">
          <Input value={description} onChange={(e) => setDescription(e.detail.value)} />
        </FormField>
      </SpaceBetween>
    </FormModal>
  );
}
