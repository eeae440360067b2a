// Actions > Edit AMI permissions: public or private, and the accounts it is shared with. Loaded
// with DescribeImageAttribute launchPermission; "Save changes" sends only the difference
// (ModifyImageAttribute Add/Remove), as the AWS console does.
import type { Image } from "@aws-sdk/client-ec2";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import FormField from "@cloudscape-design/components/form-field";
import Input from "@cloudscape-design/components/input";
import RadioGroup from "@cloudscape-design/components/radio-group";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Spinner from "@cloudscape-design/components/spinner";
import Table from "@cloudscape-design/components/table";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import {
  getLaunchPermissions,
  imageKeys,
  type LaunchPermissions,
  saveLaunchPermissions,
} from "../../api/images.ts";
import { useNotify } from "../../app/notifications.tsx";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { ConfirmModal } from "../shared/ConfirmModal.tsx";
import { useInvalidateImages } from "./hooks.ts";
import { ModalError } from "./ModalError.tsx";

const ACCOUNT_ID = /^\d{12}$/;

export function PermissionsModal({ image, onClose }: { image: Image; onClose(): void }) {
  const { region } = useSession();
  const ec2 = useEc2();
  const { notify } = useNotify();
  const invalidate = useInvalidateImages();
  const queries = useQueryClient();
  const id = image.ImageId ?? "";
  const loaded = useQuery({
    queryKey: imageKeys.launchPermission(region, id),
    queryFn: () => getLaunchPermissions(ec2, id),
    staleTime: 0,
  });
  // The draft starts as what EC2 answered (set once, while rendering, when the answer arrives).
  const [draft, setDraft] = useState<LaunchPermissions>();
  if (!draft && loaded.data && !loaded.isFetching) setDraft(loaded.data);

  const save = useMutation({
    mutationFn: async () =>
      loaded.data && draft ? saveLaunchPermissions(ec2, id, loaded.data, draft) : false,
    onSuccess: async (changed) => {
      if (changed) notify({ type: "success", header: `Permissions of ${id} saved` });
      await queries.invalidateQueries({ queryKey: imageKeys.launchPermission(region, id) });
      await invalidate();
      onClose();
    },
  });

  return (
    <ConfirmModal
      visible
      title={`Edit AMI permissions: ${id}`}
      confirmLabel="Save changes"
      busy={save.isPending}
      onConfirm={() => draft && save.mutate()}
      onCancel={onClose}
    >
      {draft ? (
        <SpaceBetween size="m">
          <PermissionsForm image={image} draft={draft} onChange={setDraft} />
          <ModalError header="The permissions were not saved" error={save.error} />
        </SpaceBetween>
      ) : loaded.error ? (
        <ModalError header="Could not read the AMI's permissions" error={loaded.error} />
      ) : (
        <Spinner />
      )}
    </ConfirmModal>
  );
}

function PermissionsForm(p: {
  image: Image;
  draft: LaunchPermissions;
  onChange(d: LaunchPermissions): void;
}) {
  const { isPublic, accounts } = p.draft;
  const [typed, setTyped] = useState("");
  const [typedError, setTypedError] = useState<string>();
  const setAccounts = (a: string[]) => p.onChange({ isPublic, accounts: a });

  const add = () => {
    const account = typed.trim();
    if (!ACCOUNT_ID.test(account)) return setTypedError("An AWS account ID is 12 digits.");
    if (accounts.includes(account)) return setTypedError(`Already shared with ${account}.`);
    if (account === p.image.OwnerId) return setTypedError("That is the AMI's owner.");
    setAccounts([...accounts, account]);
    setTyped("");
    setTypedError(undefined);
  };

  return (
    <SpaceBetween size="m">
      <FormField label="AMI availability">
        <RadioGroup
          value={isPublic ? "public" : "private"}
          onChange={(e) => p.onChange({ isPublic: e.detail.value === "public", accounts })}
          items={[
            { value: "public", label: "Public", description: "Every account can launch it." },
            { value: "private", label: "Private", description: "Only you and the accounts below." },
          ]}
        />
      </FormField>
      <FormField
        label="AWS account ID"
        description="Share with another account: it can then launch and copy this AMI."
        errorText={typedError}
        secondaryControl={<Button onClick={add}>Add account</Button>}
      >
        <Input
          value={typed}
          inputMode="numeric"
          placeholder="123456789012"
          onChange={(e) => setTyped(e.detail.value)}
          onKeyDown={(e) => {
            if (e.detail.key === "Enter") add();
          }}
        />
      </FormField>
      <Table
        variant="embedded"
        ariaLabels={{ tableLabel: "Shared accounts" }}
        header={<Box variant="h3">Shared accounts ({accounts.length})</Box>}
        items={accounts.map((a) => ({ account: a }))}
        trackBy="account"
        empty={<Box color="text-body-secondary">Not shared with any account.</Box>}
        columnDefinitions={[
          { id: "account", header: "AWS account ID", cell: (r) => r.account, isRowHeader: true },
          {
            id: "remove",
            header: "Remove",
            cell: (r) => (
              <Button
                ariaLabel={`Remove ${r.account}`}
                onClick={() => setAccounts(accounts.filter((a) => a !== r.account))}
              >
                Remove
              </Button>
            ),
          },
        ]}
      />
    </SpaceBetween>
  );
}
