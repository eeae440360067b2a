import type * as EC2 from "@aws-sdk/client-ec2";
import { StrataError } from "../../../errors.ts";
import { isId } from "../../../ids.ts";
import type { BlockDeviceMappingRecord, ImageRecord } from "../../../storage/metadata/catalog-store.ts";
import { dryRunCheck, type Out, type RequestContext, required, resolveOwners } from "../context.ts";
import { needsTags, ownerAliases, splitFilters } from "../describe.ts";
import { applyFilters, type FilterFields } from "../filters.ts";
import { noMaxResultsWithIds, pageOf, pageWindow } from "../pagination.ts";
import { toImage } from "../shapes.ts";
import { tagsFromSpecifications } from "../tagging.ts";

export function checkImageId(id: string): string {
  if (!isId("ami", id))
    throw new StrataError("InvalidAMIID.Malformed", `Invalid id: "${id}" (expecting "ami-...")`);
  return id;
}

export function toMappings(mappings: EC2.BlockDeviceMapping[] | undefined): BlockDeviceMappingRecord[] {
  return (mappings ?? []).map((m) => ({
    deviceName: required(m.DeviceName, "BlockDeviceMapping.DeviceName"),
    virtualName: m.VirtualName,
    noDevice: m.NoDevice !== undefined ? true : undefined,
    ebs: m.Ebs && {
      snapshotId: m.Ebs.SnapshotId,
      volumeSize: m.Ebs.VolumeSize,
      volumeType: m.Ebs.VolumeType,
      deleteOnTermination: m.Ebs.DeleteOnTermination ?? true,
      encrypted: m.Ebs.Encrypted ?? false,
      iops: m.Ebs.Iops,
      throughput: m.Ebs.Throughput,
    },
  }));
}

export async function RegisterImage(
  ctx: RequestContext,
  input: EC2.RegisterImageCommandInput,
): Promise<Out<EC2.RegisterImageCommandOutput>> {
  const name = required(input.Name, "Name");
  if (input.ImageLocation) {
    throw new StrataError(
      "InvalidParameterValue",
      "Instance-store (S3 manifest) images are not supported: register EBS snapshots",
    );
  }
  const tags = tagsFromSpecifications(input.TagSpecifications, "image");
  if (input.DryRun) {
    // Validate like a real registration would, without keeping it.
    if (!input.BlockDeviceMappings?.length) required(undefined, "BlockDeviceMapping");
    dryRunCheck(input);
  }
  const image = await ctx.region.images.register(
    ctx.accountId,
    {
      name,
      description: input.Description,
      architecture: input.Architecture,
      virtualizationType: input.VirtualizationType,
      rootDeviceName: input.RootDeviceName,
      bootMode: input.BootMode,
      enaSupport: input.EnaSupport,
      sriovNetSupport: input.SriovNetSupport,
      imdsSupport: input.ImdsSupport,
      tpmSupport: input.TpmSupport,
      blockDeviceMappings: toMappings(input.BlockDeviceMappings),
    },
    {},
    tags,
  );
  return { ImageId: image.id };
}

// Filters the database answers directly (see splitFilters).
const IMAGE_COLUMNS = { "image-id": "id", "owner-id": "owner_id", name: "name", state: "state" };

const imageFilters: FilterFields<ImageRecord> = {
  architecture: (i) => i.architecture,
  "block-device-mapping.delete-on-termination": (i) =>
    i.blockDeviceMappings.map((m) => m.ebs && String(m.ebs.deleteOnTermination)),
  "block-device-mapping.device-name": (i) => i.blockDeviceMappings.map((m) => m.deviceName),
  "block-device-mapping.snapshot-id": (i) => i.blockDeviceMappings.map((m) => m.ebs?.snapshotId),
  "block-device-mapping.volume-size": (i) =>
    i.blockDeviceMappings.map((m) => m.ebs && String(m.ebs.volumeSize)),
  "block-device-mapping.volume-type": (i) => i.blockDeviceMappings.map((m) => m.ebs?.volumeType ?? "gp3"),
  "block-device-mapping.encrypted": (i) => i.blockDeviceMappings.map((m) => m.ebs && String(m.ebs.encrypted)),
  "creation-date": (i) => i.creationDate,
  description: (i) => i.description,
  "ena-support": (i) => i.enaSupport,
  hypervisor: () => "xen",
  "image-id": (i) => i.id,
  "image-type": (i) => i.imageType,
  name: (i) => i.name,
  "owner-id": (i) => i.ownerId,
  "platform-details": (i) => i.platformDetails,
  "root-device-name": (i) => i.rootDeviceName,
  "root-device-type": (i) => i.rootDeviceType,
  "source-image-id": (i) => i.sourceImageId ?? undefined,
  "source-image-region": (i) => i.sourceRegion ?? undefined,
  state: (i) => i.state,
  "state-reason-code": (i) => i.stateReason?.code,
  "state-reason-message": (i) => i.stateReason?.message,
  "sriov-net-support": (i) => i.sriovNetSupport ?? undefined,
  "usage-operation": (i) => i.usageOperation,
  "virtualization-type": (i) => i.virtualizationType,
  "boot-mode": (i) => i.bootMode ?? undefined,
  "deprecation-time": (i) => i.deprecationTime ?? undefined,
  "imds-support": (i) => i.imdsSupport ?? undefined,
};

export async function DescribeImages(
  ctx: RequestContext,
  input: EC2.DescribeImagesCommandInput,
): Promise<Out<EC2.DescribeImagesCommandOutput>> {
  noMaxResultsWithIds(input.ImageIds, input.MaxResults, "imageIds");
  const window = pageWindow(input);
  const owners = input.Owners?.length ? await resolveOwners(ctx, input.Owners) : undefined;
  const split = splitFilters(input.Filters, IMAGE_COLUMNS);
  // Explicit ids are looked up one by one, so their filters all apply in memory.
  const filters = input.ImageIds?.length ? (input.Filters ?? []) : split.rest;
  // With nothing left to filter in memory, the database seeks straight to the page.
  const seek = !input.ImageIds?.length && !filters.length && !input.ExecutableUsers?.length;
  let images: ImageRecord[] = [];
  if (input.ImageIds?.length) {
    for (const id of input.ImageIds) images.push(await ctx.region.images.visible(ctx.accountId, id));
    if (owners) images = images.filter((i) => owners.has(i.ownerId));
  } else {
    // Without ids EC2 lists every image the caller may launch: its own, shared, public. As on
    // EC2, other owners' deprecated images are left out unless IncludeDeprecated is set.
    images = await ctx.region.images.listVisible(ctx.accountId, {
      ownerIds: owners && [...owners],
      where: split.pushed,
      hideDeprecatedAt: input.IncludeDeprecated ? undefined : new Date().toISOString(),
      ...(seek
        ? { after: window.after, limit: window.limit === undefined ? undefined : window.limit + 1 }
        : {}),
    });
  }
  const publicIds = await ctx.region.images.publicIds();
  if (input.ExecutableUsers?.length) {
    const users = new Set(input.ExecutableUsers.map((u) => (u === "self" ? ctx.accountId : u)));
    const keep: ImageRecord[] = [];
    for (const i of images) {
      for (const u of users) {
        if (await ctx.region.images.executableBy(i, u, ctx.accountId)) {
          keep.push(i);
          break;
        }
      }
    }
    images = keep;
  }
  const aliases = await ownerAliases(
    ctx,
    images.map((i) => i.ownerId),
  );
  // Tags are the owner's: an account an image is shared with does not see them (as on EC2).
  const allTags = needsTags(filters) ? await ctx.region.tags.visibleTo(ctx.accountId, images) : null;
  const fields: FilterFields<ImageRecord> = {
    ...imageFilters,
    "is-public": (i) => publicIds.has(i.id),
    "owner-alias": (i) => aliases.get(i.ownerId),
  };
  const matched = applyFilters(images, filters, fields, (i) => allTags?.get(i.id) ?? []);
  dryRunCheck(input);
  const after = window.after;
  const rest = seek || after === undefined ? matched : matched.filter((i) => i.id > after);
  const { page, nextToken } = pageOf(rest, (i) => i.id, window);
  const tags = allTags ?? (await ctx.region.tags.visibleTo(ctx.accountId, page));
  return {
    Images: page.map((i) =>
      toImage(i, { tags: tags.get(i.id), ownerAlias: aliases.get(i.ownerId), isPublic: publicIds.has(i.id) }),
    ),
    NextToken: nextToken,
  };
}

export async function CopyImage(
  ctx: RequestContext,
  input: EC2.CopyImageCommandInput,
): Promise<Out<EC2.CopyImageCommandOutput>> {
  const name = required(input.Name, "Name");
  const sourceRegion = required(input.SourceRegion, "SourceRegion");
  const sourceImageId = checkImageId(required(input.SourceImageId, "SourceImageId"));
  const tags = tagsFromSpecifications(input.TagSpecifications, "image");
  if (input.DryRun) {
    await ctx.engine.region(sourceRegion).images.visible(ctx.accountId, sourceImageId);
    dryRunCheck(input);
  }
  const image = await ctx.engine.copyImage(sourceRegion, sourceImageId, ctx.regionName, ctx.accountId, {
    name,
    description: input.Description,
    clientToken: input.ClientToken,
    copyTags: input.CopyImageTags,
    tags,
  });
  return { ImageId: image.id };
}

export async function DeregisterImage(
  ctx: RequestContext,
  input: EC2.DeregisterImageCommandInput,
): Promise<Out<EC2.DeregisterImageCommandOutput>> {
  const image = await ctx.region.images.owned(ctx.accountId, required(input.ImageId, "ImageId"));
  dryRunCheck(input);
  const results = await ctx.region.images.deregisterOwned(
    ctx.accountId,
    image.id,
    input.DeleteAssociatedSnapshots ?? false,
  );
  return {
    Return: true,
    DeleteSnapshotResults: input.DeleteAssociatedSnapshots
      ? results.map((r) => ({
          SnapshotId: r.snapshotId,
          ReturnCode: r.returnCode as EC2.SnapshotReturnCodes,
        }))
      : undefined,
  };
}
