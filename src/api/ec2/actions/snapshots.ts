import type * as EC2 from "@aws-sdk/client-ec2";
import { StrataError } from "../../../errors.ts";
import { isId } from "../../../ids.ts";
import type { Tag } from "../../../storage/metadata/catalog-store.ts";
import type { SnapshotRecord } from "../../../storage/metadata/metadata-store.ts";
import { dryRunCheck, type Out, type RequestContext, required, resolveOwners } from "../context.ts";
import { needsTags, ownerAliases, splitFilters } from "../describe.ts";
import { applyFilters, type FilterFields } from "../filters.ts";
import { noMaxResultsWithIds, pageOf, pageWindow } from "../pagination.ts";
import { permissionChanges, toPermissions } from "../permissions.ts";
import { toSnapshot } from "../shapes.ts";
import { tagsFromSpecifications } from "../tagging.ts";
import { ownedInstance } from "./instances.ts";
import { ownedVolume } from "./volumes.ts";

function notFound(id: string): StrataError {
  return new StrataError("InvalidSnapshot.NotFound", `The snapshot '${id}' does not exist.`);
}

function checkId(id: string): void {
  if (!isId("snap", id))
    throw new StrataError("InvalidSnapshotID.Malformed", `Invalid id: "${id}" (expecting "snap-...")`);
}

/** A snapshot the caller may read (owner, createVolumePermission, public); NotFound otherwise. */
export async function visibleSnapshot(
  ctx: RequestContext,
  id: string,
  region = ctx.region,
): Promise<SnapshotRecord> {
  checkId(id);
  const s = await region.meta.getSnapshot(id);
  if (!s || !(await region.images.snapshotVisibleTo(s, ctx.accountId))) throw notFound(id);
  return s;
}

async function ownedSnapshot(ctx: RequestContext, id: string): Promise<SnapshotRecord> {
  const s = await visibleSnapshot(ctx, id);
  if (s.ownerId !== ctx.accountId)
    throw new StrataError("UnauthorizedOperation", `You are not authorized to modify snapshot ${id}`);
  return s;
}

export async function CreateSnapshot(
  ctx: RequestContext,
  input: EC2.CreateSnapshotCommandInput,
): Promise<Out<EC2.CreateSnapshotCommandOutput>> {
  const v = await ownedVolume(ctx, required(input.VolumeId, "VolumeId"));
  const description = input.Description ?? "";
  if (description.length > 255)
    throw new StrataError("InvalidParameterValue", "Description exceeds 255 characters");
  const tags = tagsFromSpecifications(input.TagSpecifications, "snapshot");
  dryRunCheck(input);
  const s = await ctx.region.snapshots.create(v.id, description);
  if (tags.length) await ctx.region.catalog.setTags([s.id], tags);
  return toSnapshot(s, tags);
}

// Filters the database answers directly (see splitFilters).
const SNAPSHOT_COLUMNS = {
  "snapshot-id": "id",
  "owner-id": "owner_id",
  status: "state",
  description: "description",
};

const snapshotFilters: FilterFields<SnapshotRecord> = {
  description: (s) => s.description,
  encrypted: () => false,
  "owner-id": (s) => s.ownerId,
  progress: (s) => `${s.progress}%`,
  "snapshot-id": (s) => s.id,
  "start-time": (s) => s.startedAt,
  status: (s) => s.state,
  "storage-tier": () => "standard",
  "volume-id": (s) => s.volumeId ?? "vol-ffffffff",
  "volume-size": (s) => s.volumeSizeGiB,
};

export async function DescribeSnapshots(
  ctx: RequestContext,
  input: EC2.DescribeSnapshotsCommandInput,
): Promise<Out<EC2.DescribeSnapshotsCommandOutput>> {
  noMaxResultsWithIds(input.SnapshotIds, input.MaxResults, "snapshotIds");
  const catalog = ctx.region.catalog;
  const window = pageWindow(input);
  const ownerIds = input.OwnerIds?.length ? [...(await resolveOwners(ctx, input.OwnerIds))] : undefined;
  const split = splitFilters(input.Filters, SNAPSHOT_COLUMNS);
  // Explicit ids are looked up one by one, so their filters all apply in memory.
  const filters = input.SnapshotIds?.length ? (input.Filters ?? []) : split.rest;
  // With nothing to filter in memory, the database seeks to the page: 101 rows, not 10,000.
  const seek = !input.SnapshotIds?.length && !filters.length && !input.RestorableByUserIds?.length;
  let snaps: SnapshotRecord[] = [];
  if (input.SnapshotIds?.length) {
    for (const id of input.SnapshotIds) snaps.push(await visibleSnapshot(ctx, id));
    if (ownerIds) snaps = snaps.filter((s) => ownerIds.includes(s.ownerId));
  } else {
    // Without ids EC2 lists every snapshot the caller may restore: its own, shared, public.
    snaps = await ctx.region.meta.snapshotsVisibleTo(ctx.accountId, {
      ownerIds,
      where: split.pushed,
      ...(seek
        ? { after: window.after, limit: window.limit === undefined ? undefined : window.limit + 1 }
        : {}),
    });
  }
  if (input.RestorableByUserIds?.length) {
    const users = await resolveOwners(ctx, input.RestorableByUserIds);
    const keep: SnapshotRecord[] = [];
    for (const s of snaps) {
      const grants = users.has(s.ownerId) ? [] : await catalog.permissions(s.id);
      if ([...users].some((u) => s.ownerId === u || grants.includes(u) || grants.includes("all")))
        keep.push(s);
    }
    snaps = keep;
  }
  const aliases = await ownerAliases(
    ctx,
    snaps.map((s) => s.ownerId),
  );
  const allTags = needsTags(filters) ? await catalog.tagsOf(snaps.map((s) => s.id)) : null;
  const fields = { ...snapshotFilters, "owner-alias": (s: SnapshotRecord) => aliases.get(s.ownerId) };
  const matched = applyFilters(snaps, filters, fields, (s) => allTags?.get(s.id) ?? []);
  dryRunCheck(input);
  const after = window.after;
  const rest = seek || after === undefined ? matched : matched.filter((s) => s.id > after);
  const { page, nextToken } = pageOf(rest, (s) => s.id, window);
  const tags = allTags ?? (await catalog.tagsOf(page.map((s) => s.id)));
  return {
    Snapshots: page.map((s) => toSnapshot(s, tags.get(s.id), aliases.get(s.ownerId))),
    NextToken: nextToken,
  };
}

export async function DeleteSnapshot(
  ctx: RequestContext,
  input: EC2.DeleteSnapshotCommandInput,
): Promise<Out<EC2.DeleteSnapshotCommandOutput>> {
  const s = await ownedSnapshot(ctx, required(input.SnapshotId, "SnapshotId"));
  dryRunCheck(input);
  await ctx.region.snapshots.delete(s.id);
  return {};
}

export async function CopySnapshot(
  ctx: RequestContext,
  input: EC2.CopySnapshotCommandInput,
): Promise<Out<EC2.CopySnapshotCommandOutput>> {
  const sourceRegion = ctx.engine.region(required(input.SourceRegion, "SourceRegion"));
  const src = await visibleSnapshot(ctx, required(input.SourceSnapshotId, "SourceSnapshotId"), sourceRegion);
  if (src.state !== "completed") {
    throw new StrataError(
      "IncorrectState",
      `Snapshot '${src.id}' is ${src.state}; only completed snapshots can be copied.`,
    );
  }
  if ((input.Description ?? "").length > 255)
    throw new StrataError("InvalidParameterValue", "Description exceeds 255 characters");
  const tags = tagsFromSpecifications(input.TagSpecifications, "snapshot");
  dryRunCheck(input);
  const copy = await ctx.region.snapshots.copyFrom(sourceRegion.snapshots, src.id, {
    ownerId: ctx.accountId,
    // The default names the source and keeps its description, within the same 255 characters.
    description:
      input.Description ??
      `[Copied ${src.id} from ${sourceRegion.name}] ${src.description}`.trim().slice(0, 255),
  });
  if (tags.length) await ctx.region.catalog.setTags([copy.id], tags);
  return {
    SnapshotId: copy.id,
    Tags: tags.length ? tags.map((t) => ({ Key: t.key, Value: t.value })) : undefined,
  };
}

function checkAttribute(attribute: string | undefined): void {
  if (required(attribute, "Attribute") !== "createVolumePermission") {
    throw new StrataError(
      "InvalidParameterValue",
      `Attribute '${attribute}' is not supported: use createVolumePermission`,
    );
  }
}

export async function ModifySnapshotAttribute(
  ctx: RequestContext,
  input: EC2.ModifySnapshotAttributeCommandInput,
): Promise<Out<EC2.ModifySnapshotAttributeCommandOutput>> {
  const s = await ownedSnapshot(ctx, required(input.SnapshotId, "SnapshotId"));
  checkAttribute(input.Attribute ?? "createVolumePermission");
  const { add, remove } = permissionChanges(input.CreateVolumePermission, input, "InvalidParameterValue");
  dryRunCheck(input);
  await ctx.region.catalog.changePermissions(s.id, add, remove);
  return {};
}

export async function DescribeSnapshotAttribute(
  ctx: RequestContext,
  input: EC2.DescribeSnapshotAttributeCommandInput,
): Promise<Out<EC2.DescribeSnapshotAttributeCommandOutput>> {
  const s = await ownedSnapshot(ctx, required(input.SnapshotId, "SnapshotId"));
  dryRunCheck(input);
  if (input.Attribute === "productCodes") return { SnapshotId: s.id, ProductCodes: [] };
  checkAttribute(input.Attribute);
  return {
    SnapshotId: s.id,
    CreateVolumePermissions: toPermissions(await ctx.region.catalog.permissions(s.id)),
  };
}

export async function ResetSnapshotAttribute(
  ctx: RequestContext,
  input: EC2.ResetSnapshotAttributeCommandInput,
): Promise<Out<EC2.ResetSnapshotAttributeCommandOutput>> {
  const s = await ownedSnapshot(ctx, required(input.SnapshotId, "SnapshotId"));
  checkAttribute(input.Attribute);
  dryRunCheck(input);
  await ctx.region.catalog.resetPermissions(s.id);
  return {};
}

/**
 * CreateSnapshots: the instance's EBS volumes (optionally without the boot volume or some data
 * volumes), all at one point in time, while it runs (crash-consistent, as on EC2).
 */
export async function CreateSnapshots(
  ctx: RequestContext,
  input: EC2.CreateSnapshotsCommandInput,
): Promise<Out<EC2.CreateSnapshotsCommandOutput>> {
  const spec = input.InstanceSpecification;
  const instance = await ownedInstance(ctx, required(spec?.InstanceId, "InstanceSpecification.InstanceId"));
  const tags = tagsFromSpecifications(input.TagSpecifications, "snapshot");
  const description = input.Description ?? "";
  if (description.length > 255)
    throw new StrataError("InvalidParameterValue", "Description exceeds 255 characters");
  const attachments = await ctx.region.instances.attachments(instance.id);
  for (const v of spec?.ExcludeDataVolumeIds ?? []) {
    const a = attachments.find((x) => x.volumeId === v);
    if (!a)
      throw new StrataError("InvalidVolume.NotFound", `The volume '${v}' is not attached to ${instance.id}`);
    if (a.device === instance.rootDeviceName) {
      throw new StrataError("InvalidParameterValue", `ExcludeDataVolumeIds cannot name the root volume ${v}`);
    }
  }
  const volumes = attachments.filter(
    (a) =>
      !(spec?.ExcludeBootVolume && a.device === instance.rootDeviceName) &&
      !(spec?.ExcludeDataVolumeIds ?? []).includes(a.volumeId),
  );
  if (volumes.length === 0) {
    throw new StrataError("InvalidParameterValue", `Instance ${instance.id} has no volumes left to snapshot`);
  }
  dryRunCheck(input);
  const snaps = await ctx.region.snapshots.createMany(
    volumes.map((a) => a.volumeId),
    description,
  );
  const copied =
    input.CopyTagsFromSource === "volume"
      ? await ctx.region.catalog.tagsOf(volumes.map((a) => a.volumeId))
      : new Map<string, Tag[]>();
  for (const s of snaps) {
    const own = [...(copied.get(s.volumeId ?? "") ?? []), ...tags];
    if (own.length) await ctx.region.catalog.setTags([s.id], own);
  }
  return {
    Snapshots: snaps.map((s) => {
      const shape = toSnapshot(s, [...(copied.get(s.volumeId ?? "") ?? []), ...tags]);
      return {
        SnapshotId: shape.SnapshotId,
        VolumeId: shape.VolumeId,
        State: shape.State,
        StartTime: shape.StartTime,
        Progress: shape.Progress,
        OwnerId: shape.OwnerId,
        VolumeSize: shape.VolumeSize,
        Description: shape.Description,
        Encrypted: false,
        Tags: shape.Tags,
      };
    }),
  };
}
