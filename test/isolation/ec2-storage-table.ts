// Probes for the EC2 actions on volumes, snapshots, images and tags: every way each takes an id.
import {
  AttachVolumeCommand,
  CopyImageCommand,
  CopySnapshotCommand,
  CreateSnapshotCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DeleteTagsCommand,
  DeleteVolumeCommand,
  DeregisterImageCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  DescribeTagsCommand,
  DescribeVolumeStatusCommand,
  DescribeVolumesCommand,
  DetachVolumeCommand,
  DisableImageDeprecationCommand,
  DisableImageDeregistrationProtectionCommand,
  EnableImageDeprecationCommand,
  EnableImageDeregistrationProtectionCommand,
  ModifyImageAttributeCommand,
  ModifySnapshotAttributeCommand,
  ModifyVolumeCommand,
  RegisterImageCommand,
  ResetImageAttributeCommand,
  ResetSnapshotAttributeCommand,
} from "@aws-sdk/client-ec2";
import { DescribeStorageUsageCommand } from "../../src/console/api/storage-usage.ts";
import { type Kind, type Probe, probe } from "./probes.ts";

const NEVER_INSTANCE = "i-0000000000000000f";
const inADay = () => new Date(Date.now() + 86_400_000);

/** CreateTags, DeleteTags and DescribeTags take any kind of id. */
function tagProbes(kinds: Kind[]): Record<string, Probe[]> {
  return {
    CreateTags: kinds.flatMap((k) => [
      probe(k, "Resources", (w, id) =>
        w.b.ec2.send(
          new CreateTagsCommand({ Resources: [id], Tags: [{ Key: "secret", Value: "b-was-here" }] }),
        ),
      ),
      // With one of B's own resources first: the call fails as a whole, B's volume untagged.
      probe(k, "Resources (after B's own volume)", (w, id) =>
        w.b.ec2.send(
          new CreateTagsCommand({ Resources: [w.bOwn.volumeId, id], Tags: [{ Key: "mixed", Value: "1" }] }),
        ),
      ),
    ]),
    DeleteTags: kinds.map((k) =>
      probe(k, "Resources", (w, id) =>
        w.b.ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: "secret" }] })),
      ),
    ),
    DescribeTags: kinds.map((k) =>
      probe(k, "Filter resource-id", (w, id) =>
        w.b.ec2.send(new DescribeTagsCommand({ Filters: [{ Name: "resource-id", Values: [id] }] })),
      ),
    ),
  };
}

export const storageProbes: Record<string, Probe[]> = {
  CreateVolume: [
    probe("snapshot", "SnapshotId", (w, id) =>
      w.b.ec2.send(new CreateVolumeCommand({ SnapshotId: id, AvailabilityZone: "us-east-1a" })),
    ),
  ],
  DescribeVolumes: [
    probe("volume", "VolumeIds", (w, id) => w.b.ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] }))),
    probe("volume", "VolumeIds (after B's own)", (w, id) =>
      w.b.ec2.send(new DescribeVolumesCommand({ VolumeIds: [w.bOwn.volumeId, id] })),
    ),
    probe("volume", "Filter volume-id", (w, id) =>
      w.b.ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: "volume-id", Values: [id] }] })),
    ),
    probe("snapshot", "Filter snapshot-id", (w, id) =>
      w.b.ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: "snapshot-id", Values: [id] }] })),
    ),
  ],
  DeleteVolume: [
    probe("volume", "VolumeId", (w, id) => w.b.ec2.send(new DeleteVolumeCommand({ VolumeId: id }))),
  ],
  ModifyVolume: [
    probe("volume", "VolumeId", (w, id) => w.b.ec2.send(new ModifyVolumeCommand({ VolumeId: id, Size: 3 }))),
  ],
  AttachVolume: [
    probe("volume", "VolumeId", (w, id) =>
      w.b.ec2.send(new AttachVolumeCommand({ VolumeId: id, InstanceId: NEVER_INSTANCE, Device: "/dev/sdf" })),
    ),
    probe("instance", "InstanceId (B's volume)", (w, id) =>
      w.b.ec2.send(
        new AttachVolumeCommand({ VolumeId: w.bOwn.volumeId, InstanceId: id, Device: "/dev/sdf" }),
      ),
    ),
  ],
  DetachVolume: [
    probe("volume", "VolumeId", (w, id) => w.b.ec2.send(new DetachVolumeCommand({ VolumeId: id }))),
    probe("volume", "VolumeId, Force", (w, id) =>
      w.b.ec2.send(new DetachVolumeCommand({ VolumeId: id, Force: true })),
    ),
  ],
  CreateSnapshot: [
    probe("volume", "VolumeId", (w, id) => w.b.ec2.send(new CreateSnapshotCommand({ VolumeId: id }))),
  ],
  DescribeVolumeStatus: [
    probe("volume", "VolumeIds", (w, id) =>
      w.b.ec2.send(new DescribeVolumeStatusCommand({ VolumeIds: [id] })),
    ),
    probe("volume", "VolumeIds (after B's own)", (w, id) =>
      w.b.ec2.send(new DescribeVolumeStatusCommand({ VolumeIds: [w.bOwn.volumeId, id] })),
    ),
  ],
  // Only the owner may ask: a snapshot or image shared with B is as unknown to it as A's private one.
  DescribeStorageUsage: [
    probe("snapshot", "SnapshotIds", (w, id) =>
      w.b.ec2.send(new DescribeStorageUsageCommand({ SnapshotIds: [id] })),
    ),
    probe("snapshot", "SnapshotIds (after B's own)", (w, id) =>
      w.b.ec2.send(new DescribeStorageUsageCommand({ SnapshotIds: [w.bOwn.snapshotId, id] })),
    ),
    probe("image", "ImageIds", (w, id) => w.b.ec2.send(new DescribeStorageUsageCommand({ ImageIds: [id] }))),
    probe("image", "ImageIds (after B's own)", (w, id) =>
      w.b.ec2.send(new DescribeStorageUsageCommand({ ImageIds: [w.bOwn.imageId, id] })),
    ),
  ],
  DescribeSnapshots: [
    probe("snapshot", "SnapshotIds", (w, id) =>
      w.b.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] })),
    ),
    probe("snapshot", "SnapshotIds (after B's own)", (w, id) =>
      w.b.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [w.bOwn.snapshotId, id] })),
    ),
    probe("snapshot", "Filter snapshot-id", (w, id) =>
      w.b.ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: "snapshot-id", Values: [id] }] })),
    ),
    probe("volume", "Filter volume-id", (w, id) =>
      w.b.ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: "volume-id", Values: [id] }] })),
    ),
  ],
  DeleteSnapshot: [
    probe("snapshot", "SnapshotId", (w, id) => w.b.ec2.send(new DeleteSnapshotCommand({ SnapshotId: id }))),
  ],
  CopySnapshot: [
    probe("snapshot", "SourceSnapshotId (same region)", (w, id) =>
      w.b.ec2.send(new CopySnapshotCommand({ SourceSnapshotId: id, SourceRegion: "us-east-1" })),
    ),
    probe("snapshot", "SourceSnapshotId (to eu-west-1)", (w, id) =>
      w.b.ec2Eu.send(new CopySnapshotCommand({ SourceSnapshotId: id, SourceRegion: "us-east-1" })),
    ),
  ],
  ModifySnapshotAttribute: [
    probe("snapshot", "SnapshotId (add B)", (w, id) =>
      w.b.ec2.send(
        new ModifySnapshotAttributeCommand({
          SnapshotId: id,
          Attribute: "createVolumePermission",
          CreateVolumePermission: { Add: [{ UserId: w.b.account.accountId }] },
        }),
      ),
    ),
    probe("snapshot", "SnapshotId (add all)", (w, id) =>
      w.b.ec2.send(
        new ModifySnapshotAttributeCommand({
          SnapshotId: id,
          Attribute: "createVolumePermission",
          CreateVolumePermission: { Add: [{ Group: "all" }] },
        }),
      ),
    ),
  ],
  DescribeSnapshotAttribute: [
    probe("snapshot", "SnapshotId", (w, id) =>
      w.b.ec2.send(
        new DescribeSnapshotAttributeCommand({ SnapshotId: id, Attribute: "createVolumePermission" }),
      ),
    ),
  ],
  ResetSnapshotAttribute: [
    probe("snapshot", "SnapshotId", (w, id) =>
      w.b.ec2.send(
        new ResetSnapshotAttributeCommand({ SnapshotId: id, Attribute: "createVolumePermission" }),
      ),
    ),
  ],
  RegisterImage: [
    probe("snapshot", "root mapping's SnapshotId", (w, id) =>
      w.b.ec2.send(
        new RegisterImageCommand({
          Name: "b-on-others-snapshot",
          RootDeviceName: "/dev/xvda",
          BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: id } }],
        }),
      ),
    ),
    probe("snapshot", "data mapping's SnapshotId (root: B's own)", (w, id) =>
      w.b.ec2.send(
        new RegisterImageCommand({
          Name: "b-with-others-data",
          RootDeviceName: "/dev/xvda",
          BlockDeviceMappings: [
            { DeviceName: "/dev/xvda", Ebs: { SnapshotId: w.bOwn.snapshotId } },
            { DeviceName: "/dev/sdf", Ebs: { SnapshotId: id } },
          ],
        }),
      ),
    ),
  ],
  DescribeImages: [
    probe("image", "ImageIds", (w, id) => w.b.ec2.send(new DescribeImagesCommand({ ImageIds: [id] }))),
    probe("image", "ImageIds (after B's own)", (w, id) =>
      w.b.ec2.send(new DescribeImagesCommand({ ImageIds: [w.bOwn.imageId, id] })),
    ),
    probe("image", "Filter image-id", (w, id) =>
      w.b.ec2.send(new DescribeImagesCommand({ Filters: [{ Name: "image-id", Values: [id] }] })),
    ),
    {
      ...probe("snapshot", "Filter block-device-mapping.snapshot-id", (w, id) =>
        w.b.ec2.send(
          new DescribeImagesCommand({
            Filters: [{ Name: "block-device-mapping.snapshot-id", Values: [id] }],
          }),
        ),
      ),
      // A snapshot backing an image shared with B finds that image: B may see it and its mappings.
      appliesTo: (t) => !t.backsSharedImage,
    },
  ],
  CopyImage: [
    probe("image", "SourceImageId (same region)", (w, id, t) =>
      w.b.ec2.send(
        new CopyImageCommand({ SourceImageId: id, SourceRegion: "us-east-1", Name: `copy-${t.state}` }),
      ),
    ),
    probe("image", "SourceImageId (to eu-west-1, CopyImageTags)", (w, id, t) =>
      w.b.ec2Eu.send(
        new CopyImageCommand({
          SourceImageId: id,
          SourceRegion: "us-east-1",
          Name: `copy-${t.state}`,
          CopyImageTags: true,
        }),
      ),
    ),
  ],
  DeregisterImage: [
    probe("image", "ImageId", (w, id) => w.b.ec2.send(new DeregisterImageCommand({ ImageId: id }))),
    probe("image", "ImageId, DeleteAssociatedSnapshots", (w, id) =>
      w.b.ec2.send(new DeregisterImageCommand({ ImageId: id, DeleteAssociatedSnapshots: true })),
    ),
  ],
  ModifyImageAttribute: [
    probe("image", "ImageId (launchPermission add B)", (w, id) =>
      w.b.ec2.send(
        new ModifyImageAttributeCommand({
          ImageId: id,
          LaunchPermission: { Add: [{ UserId: w.b.account.accountId }] },
        }),
      ),
    ),
    probe("image", "ImageId (launchPermission add all)", (w, id) =>
      w.b.ec2.send(
        new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Add: [{ Group: "all" }] } }),
      ),
    ),
    probe("image", "ImageId (description)", (w, id) =>
      w.b.ec2.send(new ModifyImageAttributeCommand({ ImageId: id, Description: { Value: "b-was-here" } })),
    ),
  ],
  DescribeImageAttribute: ["launchPermission", "description", "blockDeviceMapping"].map((attribute) =>
    probe("image", `ImageId (${attribute})`, (w, id) =>
      w.b.ec2.send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: attribute as "description" })),
    ),
  ),
  ResetImageAttribute: [
    probe("image", "ImageId", (w, id) =>
      w.b.ec2.send(new ResetImageAttributeCommand({ ImageId: id, Attribute: "launchPermission" })),
    ),
  ],
  EnableImageDeprecation: [
    probe("image", "ImageId", (w, id) =>
      w.b.ec2.send(new EnableImageDeprecationCommand({ ImageId: id, DeprecateAt: inADay() })),
    ),
  ],
  DisableImageDeprecation: [
    probe("image", "ImageId", (w, id) => w.b.ec2.send(new DisableImageDeprecationCommand({ ImageId: id }))),
  ],
  EnableImageDeregistrationProtection: [
    probe("image", "ImageId", (w, id) =>
      w.b.ec2.send(new EnableImageDeregistrationProtectionCommand({ ImageId: id, WithCooldown: true })),
    ),
  ],
  DisableImageDeregistrationProtection: [
    probe("image", "ImageId", (w, id) =>
      w.b.ec2.send(new DisableImageDeregistrationProtectionCommand({ ImageId: id })),
    ),
  ],
  ...tagProbes([
    "volume",
    "snapshot",
    "image",
    "instance",
    "keyId",
    "vpc",
    "subnet",
    "internetGateway",
    "routeTable",
    "securityGroup",
    "securityGroupRule",
    "allocation",
    "networkInterface",
  ]),
};
