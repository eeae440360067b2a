// Security groups: the account's groups in the region, as the AWS console lists them (Name tag,
// id, group name, VPC, description, rule counts), with Create and Delete.
import type { SecurityGroup } from "@aws-sdk/client-ec2";
import Button from "@cloudscape-design/components/button";
import Link from "@cloudscape-design/components/link";
import SpaceBetween from "@cloudscape-design/components/space-between";
import type { TableProps } from "@cloudscape-design/components/table";
import { useEffect, useState } from "react";
import { useNavigate } from "react-router";
import { ruleCount } from "../../api/security-groups.ts";
import { href, useFollow } from "../../app/navigation.ts";
import { useNotify } from "../../app/notifications.tsx";
import { nameTag } from "../shared/format.ts";
import { ResourceTable } from "../shared/ResourceTable.tsx";
import { DeleteSecurityGroupModal } from "./DeleteSecurityGroupModal.tsx";
import { useSecurityGroups } from "./hooks.ts";

export function SecurityGroupsPage() {
  const follow = useFollow();
  const navigate = useNavigate();
  const { fail } = useNotify();
  const groups = useSecurityGroups();
  const [selected, setSelected] = useState<SecurityGroup[]>([]);
  const [deleting, setDeleting] = useState<SecurityGroup>();
  useEffect(() => {
    if (groups.error) fail("Could not list security groups", groups.error);
  }, [groups.error, fail]);
  // Keep the selection to groups that still exist (after a delete or a refresh).
  const items = groups.data ?? [];
  const chosen = selected.filter((s) => items.some((g) => g.GroupId === s.GroupId));

  const columns: TableProps.ColumnDefinition<SecurityGroup>[] = [
    {
      id: "name",
      header: "Name",
      cell: (g) => nameTag(g.Tags) || "-",
      sortingComparator: (a, b) => nameTag(a.Tags).localeCompare(nameTag(b.Tags)),
    },
    {
      id: "id",
      header: "Security group ID",
      cell: (g) => (
        <Link href={href(`/security-groups/${g.GroupId}`)} onFollow={follow}>
          {g.GroupId}
        </Link>
      ),
      sortingField: "GroupId",
      isRowHeader: true,
    },
    { id: "group-name", header: "Group name", cell: (g) => g.GroupName, sortingField: "GroupName" },
    { id: "vpc", header: "VPC ID", cell: (g) => g.VpcId ?? "-", sortingField: "VpcId" },
    { id: "description", header: "Description", cell: (g) => g.Description, sortingField: "Description" },
    {
      id: "inbound",
      header: "Inbound rules count",
      cell: (g) => ruleCount(g.IpPermissions),
      sortingComparator: (a, b) => ruleCount(a.IpPermissions) - ruleCount(b.IpPermissions),
    },
    {
      id: "outbound",
      header: "Outbound rules count",
      cell: (g) => ruleCount(g.IpPermissionsEgress),
      sortingComparator: (a, b) => ruleCount(a.IpPermissionsEgress) - ruleCount(b.IpPermissionsEgress),
    },
  ];

  return (
    <>
      <ResourceTable<SecurityGroup>
        title="Security groups"
        items={items}
        columns={columns}
        trackBy="GroupId"
        loading={groups.isPending}
        selectionType="single"
        selected={chosen}
        onSelect={setSelected}
        defaultSort={{ column: "group-name" }}
        description="A security group is a stateful firewall for the network interfaces it is attached to."
        emptyText="No security groups"
        actions={
          <SpaceBetween direction="horizontal" size="xs">
            <Button
              iconName="refresh"
              ariaLabel="Refresh security groups"
              loading={groups.isFetching}
              onClick={() => groups.refetch()}
            />
            <Button disabled={chosen.length !== 1} onClick={() => setDeleting(chosen[0])}>
              Delete security group
            </Button>
            <Button
              variant="primary"
              href={href("/security-groups/create")}
              onFollow={(e) => {
                e.preventDefault();
                navigate("/security-groups/create");
              }}
            >
              Create security group
            </Button>
          </SpaceBetween>
        }
      />
      <DeleteSecurityGroupModal
        group={deleting}
        onClose={() => setDeleting(undefined)}
        onDeleted={() => setSelected([])}
      />
    </>
  );
}
