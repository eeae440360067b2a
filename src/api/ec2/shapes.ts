// Strata records as the EC2 shapes the SDK v3 types describe.
import type { BlockDeviceMapping, Image, Snapshot, Volume } from "@aws-sdk/client-ec2";
import type { ImageRecord, Tag } from "../../storage/metadata/catalog-store.ts";
import type { SnapshotRecord, VolumeRecord } from "../../storage/metadata/metadata-store.ts";
import { toSdkTags } from "./tagging.ts";

export function toVolume(v: VolumeRecord, tags?: Tag[]): Volume {
  return {
    VolumeId: v.id,
    Size: v.sizeGiB,
    SnapshotId: v.sourceSnapshotId ?? "",
    AvailabilityZone: v.availabilityZone,
    State: v.state as Volume["State"],
    CreateTime: new Date(v.createdAt),
    VolumeType: v.volumeType as Volume["VolumeType"],
    Encrypted: false,
    MultiAttachEnabled: false,
    Attachments: v.attachment
      ? [
          {
            VolumeId: v.id,
            InstanceId: v.attachment.instanceId,
            Device: v.attachment.device,
            State: "attached",
            AttachTime: new Date(v.attachment.attachedAt),
            DeleteOnTermination: v.attachment.deleteOnTermination,
          },
        ]
      : [],
    Iops: v.iops ?? (v.volumeType === "gp3" ? 3000 : undefined),
    Throughput: v.volumeType === "gp3" ? 125 : undefined,
    Tags: toSdkTags(tags),
  };
}

export function toSnapshot(s: SnapshotRecord, tags?: Tag[], ownerAlias?: string): Snapshot {
  return {
    SnapshotId: s.id,
    // EC2 shows copies with the placeholder volume id vol-ffffffff.
    VolumeId: s.volumeId ?? "vol-ffffffff",
    State: s.state,
    StateMessage: s.stateMessage ?? undefined,
    Progress: `${s.progress}%`,
    StartTime: new Date(s.startedAt),
    CompletionTime: s.completedAt ? new Date(s.completedAt) : undefined,
    VolumeSize: s.volumeSizeGiB,
    OwnerId: s.ownerId,
    OwnerAlias: ownerAlias,
    Description: s.description,
    Encrypted: false,
    StorageTier: "standard",
    Tags: toSdkTags(tags),
  };
}

export function toImage(
  i: ImageRecord,
  extra: { tags?: Tag[]; ownerAlias?: string; isPublic: boolean },
): Image {
  return {
    ImageId: i.id,
    ImageLocation: `${extra.ownerAlias ?? i.ownerId}/${i.name}`,
    State: i.state,
    OwnerId: i.ownerId,
    ImageOwnerAlias: extra.ownerAlias,
    CreationDate: i.creationDate,
    Public: extra.isPublic,
    Architecture: i.architecture as Image["Architecture"],
    ImageType: i.imageType,
    Name: i.name,
    Description: i.description || undefined,
    RootDeviceType: i.rootDeviceType,
    RootDeviceName: i.rootDeviceName,
    BlockDeviceMappings: i.blockDeviceMappings.map(
      (m): BlockDeviceMapping => ({
        DeviceName: m.deviceName,
        VirtualName: m.virtualName,
        NoDevice: m.noDevice ? "" : undefined,
        Ebs: m.ebs && {
          SnapshotId: m.ebs.snapshotId,
          VolumeSize: m.ebs.volumeSize,
          VolumeType: (m.ebs.volumeType ?? "gp3") as NonNullable<BlockDeviceMapping["Ebs"]>["VolumeType"],
          DeleteOnTermination: m.ebs.deleteOnTermination,
          Encrypted: m.ebs.encrypted,
          Iops: m.ebs.iops,
          Throughput: m.ebs.throughput,
        },
      }),
    ),
    VirtualizationType: i.virtualizationType as Image["VirtualizationType"],
    Hypervisor: "xen",
    EnaSupport: i.enaSupport,
    SriovNetSupport: i.sriovNetSupport ?? undefined,
    BootMode: (i.bootMode ?? undefined) as Image["BootMode"],
    ImdsSupport: (i.imdsSupport ?? undefined) as Image["ImdsSupport"],
    TpmSupport: (i.tpmSupport ?? undefined) as Image["TpmSupport"],
    PlatformDetails: i.platformDetails,
    UsageOperation: i.usageOperation,
    DeprecationTime: i.deprecationTime ?? undefined,
    DeregistrationProtection: i.deregistrationProtection,
    SourceImageId: i.sourceImageId ?? undefined,
    SourceImageRegion: i.sourceRegion ?? undefined,
    StateReason: i.stateReason ? { Code: i.stateReason.code, Message: i.stateReason.message } : undefined,
    LastLaunchedTime: i.lastLaunchedTime ?? undefined,
    Tags: toSdkTags(extra.tags),
  };
}
