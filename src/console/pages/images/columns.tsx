// The AMIs table's rows and columns, as the AWS console's AMIs list shows them.
import type { Image } from "@aws-sdk/client-ec2";
import Link from "@cloudscape-design/components/link";
import type { TableProps } from "@cloudscape-design/components/table";
import { href } from "../../app/navigation.ts";
import { formatDate } from "../shared/format.ts";
import { StateIndicator } from "../shared/StateIndicator.tsx";

/**
 * A row: the fields the text filter searches (name and id; the collection hooks skip object
 * fields, so the image itself is not searched) and the image.
 */
export interface ImageRow {
  ImageId: string;
  Name: string;
  image: Image;
}

export const toRow = (image: Image): ImageRow => ({
  ImageId: image.ImageId ?? "",
  Name: image.Name ?? "",
  image,
});

const by =
  (f: (i: Image) => string | undefined) =>
  (a: ImageRow, b: ImageRow): number =>
    (f(a.image) ?? "").localeCompare(f(b.image) ?? "");

const text = (v: string | undefined) => v || "-";

export function imageColumns(
  follow: (e: CustomEvent<{ href?: string; external?: boolean }>) => void,
): TableProps.ColumnDefinition<ImageRow>[] {
  return [
    { id: "name", header: "Name", cell: (r) => text(r.Name), sortingField: "Name" },
    {
      id: "id",
      header: "AMI ID",
      cell: (r) => (
        <Link href={href(`/images/${r.ImageId}`)} onFollow={follow}>
          {r.ImageId}
        </Link>
      ),
      sortingField: "ImageId",
      isRowHeader: true,
    },
    {
      id: "status",
      header: "Status",
      cell: (r) => <StateIndicator state={r.image.State} />,
      sortingComparator: by((i) => i.State),
    },
    {
      id: "visibility",
      header: "Visibility",
      cell: (r) => (r.image.Public ? "Public" : "Private"),
      sortingComparator: by((i) => (i.Public ? "Public" : "Private")),
    },
    {
      id: "owner",
      header: "Owner",
      cell: (r) => text(r.image.ImageOwnerAlias ?? r.image.OwnerId),
      sortingComparator: by((i) => i.ImageOwnerAlias ?? i.OwnerId),
    },
    {
      id: "source",
      header: "Source",
      cell: (r) => text(r.image.ImageLocation),
      sortingComparator: by((i) => i.ImageLocation),
    },
    {
      id: "created",
      header: "Creation date",
      cell: (r) => formatDate(r.image.CreationDate),
      // ISO 8601 strings sort as the times they name.
      sortingComparator: by((i) => i.CreationDate),
    },
    {
      id: "platform",
      header: "Platform",
      cell: (r) => text(r.image.PlatformDetails),
      sortingComparator: by((i) => i.PlatformDetails),
    },
    {
      id: "architecture",
      header: "Architecture",
      cell: (r) => text(r.image.Architecture),
      sortingComparator: by((i) => i.Architecture),
    },
    {
      id: "rootDeviceType",
      header: "Root device type",
      cell: (r) => text(r.image.RootDeviceType),
      sortingComparator: by((i) => i.RootDeviceType),
    },
    {
      id: "deprecation",
      header: "Deprecation time",
      cell: (r) => (r.image.DeprecationTime ? formatDate(r.image.DeprecationTime) : "-"),
      sortingComparator: by((i) => i.DeprecationTime),
    },
    {
      // CopyImage's source, as EC2 records it on the copy.
      id: "copiedFrom",
      header: "Copied from",
      cell: (r) =>
        r.image.SourceImageId ? `${r.image.SourceImageId} (${r.image.SourceImageRegion ?? "?"})` : "-",
      sortingComparator: by((i) => i.SourceImageId),
    },
  ];
}
