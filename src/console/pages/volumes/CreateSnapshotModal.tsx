// Create snapshot of a volume (description), as the AWS console's Actions > Create snapshot.
import Button from "@cloudscape-design/components/button";
import Form from "@cloudscape-design/components/form";
import FormField from "@cloudscape-design/components/form-field";
import Input from "@cloudscape-design/components/input";
import Link from "@cloudscape-design/components/link";
import Modal from "@cloudscape-design/components/modal";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorText } from "../../api/errors.ts";
import { createSnapshot, snapshotKeys } from "../../api/snapshots.ts";
import { href, useFollow } from "../../app/navigation.ts";
import { useNotify } from "../../app/notifications.tsx";
import { useEc2, useSession } from "../../app/session-context.tsx";

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
    <Modal visible={!!p.volumeId} header="Create snapshot" onDismiss={close} closeAriaLabel="Close dialog">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <Form
          errorText={create.error ? errorText(create.error) : undefined}
          actions={
            <SpaceBetween direction="horizontal" size="xs">
              <Button formAction="none" variant="link" onClick={close}>
                Cancel
              </Button>
              <Button variant="primary" loading={create.isPending}>
                Create snapshot
              </Button>
            </SpaceBetween>
          }
        >
          <SpaceBetween size="m">
            <FormField label="Volume ID">
              <Input value={p.volumeId ?? ""} readOnly />
            </FormField>
            <FormField label="Description">
              <Input value={description} onChange={(e) => setDescription(e.detail.value)} />
            </FormField>
          </SpaceBetween>
        </Form>
      </form>
    </Modal>
  );
}
