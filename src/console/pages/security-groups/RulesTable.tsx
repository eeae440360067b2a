// A group's rules of one direction, as the details page of the AWS console lists them (one row
// per rule, with its id), and the button to the editor.
import type { SecurityGroupRule } from "@aws-sdk/client-ec2";
import Button from "@cloudscape-design/components/button";
import Link from "@cloudscape-design/components/link";
import type { TableProps } from "@cloudscape-design/components/table";
import type { Direction } from "../../api/security-groups.ts";
import { href, useFollow } from "../../app/navigation.ts";
import { ResourceTable } from "../shared/ResourceTable.tsx";
import { peerOf, portRangeText, protocolText, typeLabel } from "./rule-model.ts";

export function RulesTable(p: {
  direction: Direction;
  rules: SecurityGroupRule[];
  loading: boolean;
  onEdit(): void;
}) {
  const follow = useFollow();
  const title = p.direction === "inbound" ? "Inbound rules" : "Outbound rules";
  const columns: TableProps.ColumnDefinition<SecurityGroupRule>[] = [
    {
      id: "id",
      header: "Security group rule ID",
      cell: (r) => r.SecurityGroupRuleId,
      sortingField: "SecurityGroupRuleId",
      isRowHeader: true,
    },
    {
      id: "ip-version",
      header: "IP version",
      cell: (r) => (r.CidrIpv6 ? "IPv6" : r.CidrIpv4 ? "IPv4" : "-"),
    },
    {
      id: "type",
      header: "Type",
      cell: typeLabel,
      sortingComparator: (a, b) => typeLabel(a).localeCompare(typeLabel(b)),
    },
    { id: "protocol", header: "Protocol", cell: (r) => protocolText(r.IpProtocol) },
    { id: "ports", header: "Port range", cell: portRangeText },
    {
      id: "peer",
      header: p.direction === "inbound" ? "Source" : "Destination",
      cell: (r) => {
        const group = r.ReferencedGroupInfo?.GroupId;
        return group ? (
          <Link href={href(`/security-groups/${group}`)} onFollow={follow}>
            {group}
          </Link>
        ) : (
          peerOf(r)
        );
      },
      sortingComparator: (a, b) => peerOf(a).localeCompare(peerOf(b)),
    },
    { id: "description", header: "Description", cell: (r) => r.Description || "-" },
  ];
  return (
    <ResourceTable<SecurityGroupRule>
      variant="container"
      title={title}
      items={p.rules}
      columns={columns}
      trackBy="SecurityGroupRuleId"
      loading={p.loading}
      emptyText={`This security group has no ${p.direction} rules.`}
      actions={<Button onClick={p.onEdit}>{`Edit ${p.direction} rules`}</Button>}
      pageSize={20}
    />
  );
}
