// "Delete security group", confirmed first. EC2 refuses to delete a VPC's default group
// (CannotDelete) and a group an interface or another group's rule still uses
// (DependencyViolation): the API's code and message are shown as it gave them.
import type { SecurityGroup } from "@aws-sdk/client-ec2";
import Box from "@cloudscape-design/components/box";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { deleteSecurityGroup, securityGroupKeys } from "../../api/security-groups.ts";
import { useNotify } from "../../app/notifications.tsx";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { ConfirmModal } from "../shared/ConfirmModal.tsx";

export function DeleteSecurityGroupModal(p: {
  group: SecurityGroup | undefined;
  onClose(): void;
  onDeleted?(): void;
}) {
  const { region } = useSession();
  const ec2 = useEc2();
  const queries = useQueryClient();
  const { notify, fail } = useNotify();
  const id = p.group?.GroupId ?? "";
  const remove = useMutation({
    mutationFn: () => deleteSecurityGroup(ec2, id),
    onSuccess: () => {
      notify({ type: "success", content: `Deleted security group ${id}.` });
      p.onDeleted?.();
    },
    onError: (e) => fail(`Could not delete security group ${id}`, e),
    onSettled: () => {
      p.onClose();
      return queries.invalidateQueries({ queryKey: securityGroupKeys.all(region) });
    },
  });
  return (
    <ConfirmModal
      visible={!!p.group}
      title="Delete security group"
      confirmLabel="Delete"
      busy={remove.isPending}
      onConfirm={() => remove.mutate()}
      onCancel={p.onClose}
    >
      <Box>
        Delete security group <strong>{id}</strong> ({p.group?.GroupName})? This cannot be undone.
      </Box>
    </ConfirmModal>
  );
}
