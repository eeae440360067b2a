// The sections of an AMI's page: details, block devices, permissions, tags, storage.
import type { Image } from "@aws-sdk/client-ec2";
import Box from "@cloudscape-design/components/box";
import Container from "@cloudscape-design/components/container";
import Header from "@cloudscape-design/components/header";
import KeyValuePairs from "@cloudscape-design/components/key-value-pairs";
import Link from "@cloudscape-design/components/link";
import Spinner from "@cloudscape-design/components/spinner";
import Table from "@cloudscape-design/components/table";
import { useQuery } from "@tanstack/react-query";
import { errorText } from "../../api/errors.ts";
import { getLaunchPermissions, imageKeys, isProtected } from "../../api/images.ts";
import { href, useFollow } from "../../app/navigation.ts";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { formatDate } from "../shared/format.ts";
import { StateIndicator } from "../shared/StateIndicator.tsx";
import { ImageStorage } from "../storage/StorageUsage.tsx";

const text = (v: string | undefined) => v || "-";

export function ImageDetails({ image }: { image: Image }) {
  const protection = image.DeregistrationProtection ?? "disabled";
  return (
    <Container header={<Header variant="h2">Details</Header>}>
      <KeyValuePairs
        columns={3}
        items={[
          { label: "AMI ID", value: image.ImageId },
          { label: "AMI name", value: text(image.Name) },
          { label: "Owner account ID", value: text(image.OwnerId) },
          {
            label: "State",
            value: (
              <>
                <StateIndicator state={image.State} />
                {image.StateReason?.Message && (
                  <Box variant="small" display="block">
                    {image.StateReason.Code}: {image.StateReason.Message}
                  </Box>
                )}
              </>
            ),
          },
          { label: "Description", value: text(image.Description) },
          { label: "Visibility", value: image.Public ? "Public" : "Private" },
          { label: "Architecture", value: text(image.Architecture) },
          { label: "Platform details", value: text(image.PlatformDetails) },
          { label: "Virtualization type", value: text(image.VirtualizationType) },
          { label: "Boot mode", value: text(image.BootMode) },
          { label: "Root device name", value: text(image.RootDeviceName) },
          { label: "Root device type", value: text(image.RootDeviceType) },
          { label: "Creation date", value: formatDate(image.CreationDate) },
          {
            label: "Deprecation time",
            value: image.DeprecationTime ? formatDate(image.DeprecationTime) : "-",
          },
          {
            label: "Deregistration protection",
            value:
              isProtected(image) && protection.startsWith("disabled")
                ? `${protection} (still protected)`
                : protection,
          },
          { label: "Source AMI ID", value: text(image.SourceImageId) },
          { label: "Source region", value: text(image.SourceImageRegion) },
          { label: "Image location", value: text(image.ImageLocation) },
        ]}
      />
    </Container>
  );
}

export function BlockDevices({ image }: { image: Image }) {
  const follow = useFollow();
  const devices = image.BlockDeviceMappings ?? [];
  return (
    <Table
      variant="container"
      header={
        <Header variant="h2" counter={`(${devices.length})`}>
          Block devices
        </Header>
      }
      ariaLabels={{ tableLabel: "Block devices" }}
      items={devices}
      trackBy="DeviceName"
      empty={<Box color="text-body-secondary">No block devices</Box>}
      columnDefinitions={[
        { id: "device", header: "Device name", cell: (d) => d.DeviceName, isRowHeader: true },
        {
          id: "snapshot",
          header: "Snapshot",
          cell: (d) =>
            d.Ebs?.SnapshotId ? (
              <Link href={href(`/snapshots/${d.Ebs.SnapshotId}`)} onFollow={follow}>
                {d.Ebs.SnapshotId}
              </Link>
            ) : (
              (d.VirtualName ?? "-")
            ),
        },
        { id: "size", header: "Size (GiB)", cell: (d) => d.Ebs?.VolumeSize ?? "-" },
        { id: "type", header: "Volume type", cell: (d) => d.Ebs?.VolumeType ?? "-" },
        {
          id: "delete",
          header: "Delete on termination",
          cell: (d) => (d.Ebs ? (d.Ebs.DeleteOnTermination ? "Yes" : "No") : "-"),
        },
        {
          id: "encrypted",
          header: "Encrypted",
          cell: (d) => (d.Ebs ? (d.Ebs.Encrypted ? "Yes" : "No") : "-"),
        },
      ]}
    />
  );
}

/** Who may launch it: the owner's view of launchPermission (EC2 answers it to the owner only). */
export function ImagePermissions({ imageId }: { imageId: string }) {
  const { region } = useSession();
  const ec2 = useEc2();
  const q = useQuery({
    queryKey: imageKeys.launchPermission(region, imageId),
    queryFn: () => getLaunchPermissions(ec2, imageId),
  });
  return (
    <Container header={<Header variant="h2">Permissions</Header>}>
      {q.error ? (
        <Box color="text-status-error">{errorText(q.error)}</Box>
      ) : !q.data ? (
        <Spinner />
      ) : (
        <KeyValuePairs
          columns={2}
          items={[
            { label: "Availability", value: q.data.isPublic ? "Public" : "Private" },
            {
              label: "Shared with accounts",
              value: q.data.accounts.length ? (
                <ul aria-label="Shared with accounts" style={{ margin: 0, paddingLeft: 18 }}>
                  {q.data.accounts.map((a) => (
                    <li key={a}>{a}</li>
                  ))}
                </ul>
              ) : (
                "None"
              ),
            },
          ]}
        />
      )}
    </Container>
  );
}

export function ImageTags({ image }: { image: Image }) {
  const tags = image.Tags ?? [];
  return (
    <Table
      variant="container"
      header={
        <Header variant="h2" counter={`(${tags.length})`}>
          Tags
        </Header>
      }
      ariaLabels={{ tableLabel: "Tags" }}
      items={tags}
      trackBy="Key"
      empty={<Box color="text-body-secondary">No tags</Box>}
      columnDefinitions={[
        { id: "key", header: "Key", cell: (t) => t.Key, isRowHeader: true },
        { id: "value", header: "Value", cell: (t) => t.Value || "-" },
      ]}
    />
  );
}

/** The image's stored, unique and shared bytes: DescribeStorageUsage answers its owner only. */
export function ImageStorageSection({ image, owned }: { image: Image; owned: boolean }) {
  if (!owned) return null;
  return <ImageStorage imageId={image.ImageId!} pending={image.State === "pending"} />;
}
