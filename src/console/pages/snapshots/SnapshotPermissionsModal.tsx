// Modify permissions (createVolumePermission): public or private, and the accounts it is shared
// with, as the AWS console's "Modify permissions" (and the AMI area's "Edit AMI permissions").
import type { Snapshot } from "@aws-sdk/client-ec2";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Form from "@cloudscape-design/components/form";
import FormField from "@cloudscape-design/components/form-field";
import Input from "@cloudscape-design/components/input";
import Modal from "@cloudscape-design/components/modal";
import RadioGroup from "@cloudscape-design/components/radio-group";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorText } from "../../api/errors.ts";
import {
  changePermissions,
  type SnapshotPermissions,
  snapshotKeys,
  snapshotPermissions,
} from "../../api/snapshots.ts";
import { useNotify } from "../../app/notifications.tsx";
import { useEc2, useSession } from "../../app/session-context.tsx";

export function SnapshotPermissionsModal(p: { snapshot: Snapshot | undefined; onClose(): void }) {
  const id = p.snapshot?.SnapshotId ?? "";
  const { region } = useSession();
  const ec2 = useEc2();
  const current = useQuery({
    queryKey: snapshotKeys.permissions(region, id),
    queryFn: () => snapshotPermissions(ec2, id),
    enabled: !!id,
  });
  return (
    <Modal
      visible={!!p.snapshot}
      header="Modify permissions"
      onDismiss={p.onClose}
      closeAriaLabel="Close dialog"
    >
      {current.error ? (
        <Box color="text-status-error">{errorText(current.error)}</Box>
      ) : current.data ? (
        <Editor key={id} id={id} before={current.data} onClose={p.onClose} />
      ) : (
        <Box>Loading permissions</Box>
      )}
    </Modal>
  );
}

function Editor(p: { id: string; before: SnapshotPermissions; onClose(): void }) {
  const { region } = useSession();
  const ec2 = useEc2();
  const queries = useQueryClient();
  const { notify } = useNotify();
  const [isPublic, setPublic] = useState(p.before.isPublic);
  const [accounts, setAccounts] = useState(p.before.accounts);
  const [account, setAccount] = useState("");
  const valid = /^\d{12}$/.test(account.trim());
  const save = useMutation({
    mutationFn: () => changePermissions(ec2, p.id, p.before, { isPublic, accounts }),
    onSuccess: () => {
      notify({ type: "success", header: `Permissions of ${p.id} saved` });
      queries.invalidateQueries({ queryKey: snapshotKeys.all(region) });
      p.onClose();
    },
  });
  const add = () => {
    if (valid && !accounts.includes(account.trim())) setAccounts([...accounts, account.trim()]);
    setAccount("");
  };
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <Form
        errorText={save.error ? errorText(save.error) : undefined}
        actions={
          <SpaceBetween direction="horizontal" size="xs">
            <Button formAction="none" variant="link" onClick={p.onClose}>
              Cancel
            </Button>
            <Button variant="primary" loading={save.isPending}>
              Save changes
            </Button>
          </SpaceBetween>
        }
      >
        <SpaceBetween size="m">
          <FormField label="Snapshot visibility">
            <RadioGroup
              value={isPublic ? "public" : "private"}
              onChange={(e) => setPublic(e.detail.value === "public")}
              items={[
                {
                  value: "public",
                  label: "Public",
                  description: "Every account can create volumes from it.",
                },
                { value: "private", label: "Private", description: "Only you and the accounts below." },
              ]}
            />
          </FormField>
          <FormField
            label="AWS account ID"
            errorText={account && !valid ? "An account ID is 12 digits." : undefined}
          >
            <SpaceBetween direction="horizontal" size="xs">
              <Input
                value={account}
                onChange={(e) => setAccount(e.detail.value)}
                onKeyDown={(e) => {
                  if (e.detail.key === "Enter") {
                    e.preventDefault();
                    add();
                  }
                }}
                placeholder="123456789012"
              />
              <Button formAction="none" onClick={add} disabled={!valid}>
                Add account
              </Button>
            </SpaceBetween>
          </FormField>
          <Box variant="h3">Shared with</Box>
          {accounts.length === 0 ? (
            <Box color="text-body-secondary">No accounts</Box>
          ) : (
            <ul aria-label="Shared accounts" style={{ margin: 0, paddingLeft: 0, listStyle: "none" }}>
              {accounts.map((a) => (
                <li key={a} style={{ display: "flex", gap: 8, alignItems: "center" }}>
                  <span>{a}</span>
                  <Button
                    formAction="none"
                    variant="inline-link"
                    ariaLabel={`Remove ${a}`}
                    onClick={() => setAccounts(accounts.filter((x) => x !== a))}
                  >
                    Remove
                  </Button>
                </li>
              ))}
            </ul>
          )}
        </SpaceBetween>
      </Form>
    </form>
  );
}
