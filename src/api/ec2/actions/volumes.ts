import type * as EC2 from "@aws-sdk/client-ec2";
import { StrataError } from "../../../errors.ts";
import { idempotent } from "../../../services/access/idempotency.ts";
import { checkDeviceName } from "../../../services/images/device-names.ts";
import { checkAvailabilityZone, VOLUME_TYPES } from "../../../services/volumes/volume-service.ts";
import type { VolumeRecord } from "../../../storage/metadata/metadata-store.ts";
import { dryRunCheck, type Out, type RequestContext, required } from "../context.ts";
import { applyFilters, type FilterFields } from "../filters.ts";
import { noMaxResultsWithIds, paginate } from "../pagination.ts";
import { toVolume } from "../shapes.ts";
import { tagsFromSpecifications } from "../tagging.ts";

export async function CreateVolume(
  ctx: RequestContext,
  input: EC2.CreateVolumeCommandInput,
): Promise<Out<EC2.CreateVolumeCommandOutput>> {
  const az = required(input.AvailabilityZone, "AvailabilityZone");
  checkAvailabilityZone(ctx.regionName, az);
  if (input.SnapshotId !== undefined) {
    await ctx.region.snapshots.visible(ctx.accountId, input.SnapshotId);
  } else if (input.Size === undefined) {
    throw new StrataError("MissingParameter", "The request must contain the parameter size or snapshotId");
  }
  const tags = tagsFromSpecifications(input.TagSpecifications, "volume");
  if (input.DryRun) {
    if (input.VolumeType && !VOLUME_TYPES.includes(input.VolumeType)) {
      throw new StrataError("InvalidParameterValue", `Invalid value '${input.VolumeType}' for VolumeType`);
    }
    dryRunCheck(input);
  }
  // The SDK sends a ClientToken with every CreateVolume: its retries make one volume.
  const v = await idempotent(
    {
      catalog: ctx.region.catalog,
      locks: ctx.region.locks,
      scope: ctx.regionName,
      ownerId: ctx.accountId,
      token: input.ClientToken,
      action: "CreateVolume",
      request: { ...input, ClientToken: undefined },
      mismatch: () =>
        new StrataError(
          "IdempotentParameterMismatch",
          `Client token '${input.ClientToken}' was already used with different parameters`,
        ),
    },
    (id) => ctx.region.volumes.owned(ctx.accountId, id),
    async () => {
      const created = await ctx.region.volumes.create({
        ownerId: ctx.accountId,
        sizeGiB: input.Size,
        snapshotId: input.SnapshotId,
        availabilityZone: az,
        volumeType: input.VolumeType ?? "gp2",
        iops: input.Iops,
        tags,
      });
      return { resourceId: created.id, result: created };
    },
  );
  return toVolume(v, tags);
}

const volumeFilters: FilterFields<VolumeRecord> = {
  "volume-id": (v) => v.id,
  "availability-zone": (v) => v.availabilityZone,
  "create-time": (v) => v.createdAt,
  size: (v) => v.sizeGiB,
  "snapshot-id": (v) => v.sourceSnapshotId ?? undefined,
  status: (v) => v.state,
  "volume-type": (v) => v.volumeType,
  encrypted: () => false,
  "multi-attach-enabled": () => false,
};

export async function DescribeVolumes(
  ctx: RequestContext,
  input: EC2.DescribeVolumesCommandInput,
): Promise<Out<EC2.DescribeVolumesCommandOutput>> {
  noMaxResultsWithIds(input.VolumeIds, input.MaxResults, "volumeIds");
  const volumes = await ctx.region.volumes.described(ctx.accountId, input.VolumeIds);
  const tags = await ctx.region.catalog.tagsOf(volumes.map((v) => v.id));
  const matched = applyFilters(volumes, input.Filters, volumeFilters, (v) => tags.get(v.id) ?? []);
  dryRunCheck(input);
  const { page, nextToken } = paginate(matched, (v) => v.id, input);
  return { Volumes: page.map((v) => toVolume(v, tags.get(v.id))), NextToken: nextToken };
}

export async function DeleteVolume(
  ctx: RequestContext,
  input: EC2.DeleteVolumeCommandInput,
): Promise<Out<EC2.DeleteVolumeCommandOutput>> {
  const v = await ctx.region.volumes.owned(ctx.accountId, required(input.VolumeId, "VolumeId"));
  dryRunCheck(input);
  await ctx.region.volumes.deleteOwned(ctx.accountId, v.id);
  return {};
}

export async function ModifyVolume(
  ctx: RequestContext,
  input: EC2.ModifyVolumeCommandInput,
): Promise<Out<EC2.ModifyVolumeCommandOutput>> {
  const v = await ctx.region.volumes.owned(ctx.accountId, required(input.VolumeId, "VolumeId"));
  if (input.VolumeType && !VOLUME_TYPES.includes(input.VolumeType)) {
    throw new StrataError("InvalidParameterValue", `Invalid value '${input.VolumeType}' for VolumeType`);
  }
  if (input.Size !== undefined && input.Size < v.sizeGiB) {
    throw new StrataError(
      "InvalidParameterValue",
      `New size cannot be smaller than existing size (${input.Size} < ${v.sizeGiB})`,
    );
  }
  if (input.Size !== undefined && input.Size !== v.sizeGiB && v.attachment) {
    const i = await ctx.region.instances.get(v.attachment.instanceId);
    // The guest's disk is served from the volume's open handle; growing reopens it.
    if (i && i.state !== "stopped") {
      throw new StrataError(
        "IncorrectModificationState",
        `Volume ${v.id} is attached to ${i.id}, which is ${i.state}: stop the instance to change the size`,
      );
    }
  }
  dryRunCheck(input);
  const start = new Date();
  const updated = await ctx.region.volumes.modifyOwned(ctx.accountId, v.id, {
    sizeGiB: input.Size,
    volumeType: input.VolumeType,
    iops: input.Iops,
  });
  return {
    VolumeModification: {
      VolumeId: v.id,
      ModificationState: "completed",
      TargetSize: updated.sizeGiB,
      OriginalSize: v.sizeGiB,
      TargetVolumeType: updated.volumeType as EC2.VolumeType,
      OriginalVolumeType: v.volumeType as EC2.VolumeType,
      TargetIops: updated.iops ?? undefined,
      OriginalIops: v.iops ?? undefined,
      Progress: 100,
      StartTime: start,
      EndTime: new Date(),
    },
  };
}

export async function AttachVolume(
  ctx: RequestContext,
  input: EC2.AttachVolumeCommandInput,
): Promise<Out<EC2.AttachVolumeCommandOutput>> {
  const device = required(input.Device, "Device");
  const v = await ctx.region.volumes.owned(ctx.accountId, required(input.VolumeId, "VolumeId"));
  const i = await ctx.region.instances.owned(ctx.accountId, required(input.InstanceId, "InstanceId"));
  checkDeviceName(device);
  if (v.availabilityZone !== i.availabilityZone) {
    throw new StrataError(
      "InvalidVolume.ZoneMismatch",
      `The volume '${v.id}' is not in the same availability zone as instance '${i.id}'`,
    );
  }
  dryRunCheck(input);
  const a = await ctx.region.instances.attachVolume(i.id, v.id, device);
  return {
    VolumeId: v.id,
    InstanceId: i.id,
    Device: a.device,
    State: "attaching",
    AttachTime: new Date(a.attachedAt),
    DeleteOnTermination: a.deleteOnTermination,
  };
}

export async function DetachVolume(
  ctx: RequestContext,
  input: EC2.DetachVolumeCommandInput,
): Promise<Out<EC2.DetachVolumeCommandOutput>> {
  const v = await ctx.region.volumes.owned(ctx.accountId, required(input.VolumeId, "VolumeId"));
  const at = v.attachment;
  if (!at) throw new StrataError("IncorrectState", `Volume '${v.id}' is in the 'available' state.`);
  if (
    (input.InstanceId && input.InstanceId !== at.instanceId) ||
    (input.Device && input.Device !== at.device)
  ) {
    throw new StrataError(
      "InvalidAttachment.NotFound",
      `The volume '${v.id}' is not attached to ${input.InstanceId ?? at.instanceId} as ${input.Device ?? at.device}`,
    );
  }
  dryRunCheck(input);
  const a = await ctx.region.instances.detachVolume(v.id, input.Force ?? false);
  return {
    VolumeId: v.id,
    InstanceId: a.instanceId,
    Device: a.device,
    State: "detaching",
    AttachTime: new Date(a.attachedAt),
    DeleteOnTermination: a.deleteOnTermination,
  };
}
