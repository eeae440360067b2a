// The Instances table's rows and columns. Rows are flat (the name tag, addresses and zone lifted
// out of the Instance) so the text filter finds them; the Instance itself rides along for the menus.
import type { Instance } from "@aws-sdk/client-ec2";
import Link from "@cloudscape-design/components/link";
import type { TableProps } from "@cloudscape-design/components/table";
import { href, type useFollow } from "../../app/navigation.ts";
import { formatDate, nameTag } from "../shared/format.ts";
import { StateIndicator } from "../shared/StateIndicator.tsx";
import { stateOf } from "./instance-state.ts";

export interface InstanceRow {
  id: string;
  name: string;
  state: string;
  type: string;
  imageId: string;
  publicIp: string;
  privateIp: string;
  /** A Date (an object, like `instance`: the text filter skips it; the column sorts on it). */
  launchTime?: Date;
  keyName: string;
  zone: string;
  /** An object: the default text filter skips it. */
  instance: Instance;
}

export function toRow(i: Instance): InstanceRow {
  return {
    id: i.InstanceId ?? "",
    name: nameTag(i.Tags),
    state: stateOf(i),
    type: i.InstanceType ?? "",
    imageId: i.ImageId ?? "",
    publicIp: i.PublicIpAddress ?? "",
    privateIp: i.PrivateIpAddress ?? "",
    launchTime: i.LaunchTime ? new Date(i.LaunchTime) : undefined,
    keyName: i.KeyName ?? "",
    zone: i.Placement?.AvailabilityZone ?? "",
    instance: i,
  };
}

const dash = (s: string) => s || "-";

export function instanceColumns(
  follow: ReturnType<typeof useFollow>,
): TableProps.ColumnDefinition<InstanceRow>[] {
  return withSortLabels([
    { id: "name", header: "Name", cell: (r) => dash(r.name), sortingField: "name" },
    {
      id: "id",
      header: "Instance ID",
      cell: (r) => (
        <Link href={href(`/instances/${r.id}`)} onFollow={follow}>
          {r.id}
        </Link>
      ),
      sortingField: "id",
      isRowHeader: true,
    },
    {
      id: "state",
      header: "Instance state",
      cell: (r) => <StateIndicator state={r.state} />,
      sortingField: "state",
    },
    { id: "type", header: "Instance type", cell: (r) => dash(r.type), sortingField: "type" },
    {
      id: "imageId",
      header: "AMI ID",
      cell: (r) =>
        r.imageId ? (
          <Link href={href(`/images/${r.imageId}`)} onFollow={follow}>
            {r.imageId}
          </Link>
        ) : (
          "-"
        ),
      sortingField: "imageId",
    },
    {
      id: "publicIp",
      header: "Public IPv4 address",
      cell: (r) => dash(r.publicIp),
      sortingField: "publicIp",
    },
    {
      id: "privateIp",
      header: "Private IPv4 address",
      cell: (r) => dash(r.privateIp),
      sortingField: "privateIp",
    },
    {
      id: "launchTime",
      header: "Launch time",
      cell: (r) => formatDate(r.launchTime),
      sortingComparator: (a, b) => (a.launchTime?.getTime() ?? 0) - (b.launchTime?.getTime() ?? 0),
    },
    { id: "keyName", header: "Key name", cell: (r) => dash(r.keyName), sortingField: "keyName" },
    { id: "zone", header: "Availability Zone", cell: (r) => dash(r.zone), sortingField: "zone" },
  ]);
}

/**
 * Sortable headers are buttons; named "Instance state, not sorted" (and so on) they say their
 * sorting state and are not mistaken for the page's "Instance state" menu button.
 */
function withSortLabels(
  columns: TableProps.ColumnDefinition<InstanceRow>[],
): TableProps.ColumnDefinition<InstanceRow>[] {
  return columns.map((c) => ({
    ...c,
    ariaLabel: ({ sorted, descending }) =>
      `${String(c.header)}, ${sorted ? `sorted ${descending ? "descending" : "ascending"}` : "not sorted"}`,
  }));
}
