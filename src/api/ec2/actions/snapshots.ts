import type * as EC2 from "@aws-sdk/client-ec2";
import { StrataError } from "../../../errors.ts";
import { checkDescription } from "../../../services/snapshots/snapshot-service.ts";
import { validateTags } from "../../../services/tags/tag-rules.ts";
import type { Tag } from "../../../storage/metadata/catalog-store.ts";
import type { SnapshotRecord } from "../../../storage/metadata/metadata-store.ts";
import { dryRunCheck, type Out, type RequestContext, required, resolveOwners } from "../context.ts";
import { needsTags, ownerAliases, splitFilters } from "../describe.ts";
import { applyFilters, type FilterFields } from "../filters.ts";
import { noMaxResultsWithIds, pageOf, pageWindow } from "../pagination.ts";
import { permissionChanges, toPermissions } from "../permissions.ts";
import { toSnapshot } from "../shapes.ts";
import { tagsFromSpecifications } from "../tagging.ts";

export async function CreateSnapshot(
  ctx: RequestContext,
  input: EC2.CreateSnapshotCommandInput,
): Promise<Out<EC2.CreateSnapshotCommandOutput>> {
  const v = await ctx.region.volumes.owned(ctx.accountId, required(input.VolumeId, "VolumeId"));
  const description = input.Description ?? "";
  checkDescription(description);
  const tags = tagsFromSpecifications(input.TagSpecifications, "snapshot");
  dryRunCheck(input);
  const s = await ctx.region.snapshots.createOwned(ctx.accountId, v.id, description, tags);
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
  const window = pageWindow(input);
  const ownerIds = input.OwnerIds?.length ? [...(await resolveOwners(ctx, input.OwnerIds))] : undefined;
  const split = splitFilters(input.Filters, SNAPSHOT_COLUMNS);
  // Explicit ids are looked up one by one, so their filters all apply in memory.
  const filters = input.SnapshotIds?.length ? (input.Filters ?? []) : split.rest;
  // With nothing to filter in memory, the database seeks to the page: 101 rows, not 10,000.
  const seek = !input.SnapshotIds?.length && !filters.length && !input.RestorableByUserIds?.length;
  let snaps: SnapshotRecord[] = [];
  if (input.SnapshotIds?.length) {
    for (const id of input.SnapshotIds) snaps.push(await ctx.region.snapshots.visible(ctx.accountId, id));
    if (ownerIds) snaps = snaps.filter((s) => ownerIds.includes(s.ownerId));
  } else {
    // Without ids EC2 lists every snapshot the caller may restore: its own, shared, public.
    snaps = await ctx.region.snapshots.listVisible(ctx.accountId, {
      ownerIds,
      where: split.pushed,
      ...(seek
        ? { after: window.after, limit: window.limit === undefined ? undefined : window.limit + 1 }
        : {}),
    });
  }
  if (input.RestorableByUserIds?.length) {
    // "all" is the public group (RestorableBy all lists public snapshots), not an owner alias.
    const named = input.RestorableByUserIds.filter((u) => u !== "all");
    const users = await resolveOwners(ctx, named);
    if (named.length < input.RestorableByUserIds.length) users.add("all");
    const keep: SnapshotRecord[] = [];
    for (const s of snaps) {
      for (const u of users) {
        if (await ctx.region.snapshots.restorableBy(s, u, ctx.accountId)) {
          keep.push(s);
          break;
        }
      }
    }
    snaps = keep;
  }
  const aliases = await ownerAliases(
    ctx,
    snaps.map((s) => s.ownerId),
  );
  // Tags are the owner's: an account a snapshot is shared with does not see them (as on EC2).
  const allTags = needsTags(filters) ? await ctx.region.tags.visibleTo(ctx.accountId, snaps) : null;
  const fields = { ...snapshotFilters, "owner-alias": (s: SnapshotRecord) => aliases.get(s.ownerId) };
  const matched = applyFilters(snaps, filters, fields, (s) => allTags?.get(s.id) ?? []);
  dryRunCheck(input);
  const after = window.after;
  const rest = seek || after === undefined ? matched : matched.filter((s) => s.id > after);
  const { page, nextToken } = pageOf(rest, (s) => s.id, window);
  const tags = allTags ?? (await ctx.region.tags.visibleTo(ctx.accountId, page));
  return {
    Snapshots: page.map((s) => toSnapshot(s, tags.get(s.id), aliases.get(s.ownerId))),
    NextToken: nextToken,
  };
}

export async function DeleteSnapshot(
  ctx: RequestContext,
  input: EC2.DeleteSnapshotCommandInput,
): Promise<Out<EC2.DeleteSnapshotCommandOutput>> {
  const s = await ctx.region.snapshots.owned(ctx.accountId, required(input.SnapshotId, "SnapshotId"));
  dryRunCheck(input);
  await ctx.region.snapshots.deleteOwned(ctx.accountId, s.id);
  return {};
}

export async function CopySnapshot(
  ctx: RequestContext,
  input: EC2.CopySnapshotCommandInput,
): Promise<Out<EC2.CopySnapshotCommandOutput>> {
  const sourceRegion = ctx.engine.region(required(input.SourceRegion, "SourceRegion"));
  const src = await sourceRegion.snapshots.visible(
    ctx.accountId,
    required(input.SourceSnapshotId, "SourceSnapshotId"),
  );
  if (src.state !== "completed") {
    throw new StrataError(
      "IncorrectState",
      `Snapshot '${src.id}' is ${src.state}; only completed snapshots can be copied.`,
    );
  }
  if ((input.Description ?? "").length > 255)
    throw new StrataError("InvalidParameterValue", "Description exceeds 255 characters");
  const tags = tagsFromSpecifications(input.TagSpecifications, "snapshot");
  // The default names the source and keeps its description, within the same 255 characters.
  const description =
    input.Description ??
    `[Copied ${src.id} from ${sourceRegion.name}] ${src.description}`.trim().slice(0, 255);
  checkDescription(description);
  dryRunCheck(input);
  const copy = await ctx.region.snapshots.copyFrom(sourceRegion.snapshots, src.id, {
    ownerId: ctx.accountId,
    description,
    tags,
  });
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
  const s = await ctx.region.snapshots.owned(ctx.accountId, required(input.SnapshotId, "SnapshotId"));
  checkAttribute(input.Attribute ?? "createVolumePermission");
  // The snapshot request names its legacy group list GroupNames (UserGroup.N on the wire), the
  // image one UserGroups: `--group-names all --operation-type add` makes a snapshot public.
  const legacy = { ...input, UserGroups: input.GroupNames };
  const { add, remove } = permissionChanges(input.CreateVolumePermission, legacy, "InvalidParameterValue");
  dryRunCheck(input);
  await ctx.region.snapshots.share(ctx.accountId, s.id, add, remove);
  return {};
}

export async function DescribeSnapshotAttribute(
  ctx: RequestContext,
  input: EC2.DescribeSnapshotAttributeCommandInput,
): Promise<Out<EC2.DescribeSnapshotAttributeCommandOutput>> {
  const s = await ctx.region.snapshots.owned(ctx.accountId, required(input.SnapshotId, "SnapshotId"));
  if (input.Attribute !== "productCodes") checkAttribute(input.Attribute);
  dryRunCheck(input);
  if (input.Attribute === "productCodes") return { SnapshotId: s.id, ProductCodes: [] };
  return {
    SnapshotId: s.id,
    CreateVolumePermissions: toPermissions(await ctx.region.snapshots.grantees(ctx.accountId, s.id)),
  };
}

export async function ResetSnapshotAttribute(
  ctx: RequestContext,
  input: EC2.ResetSnapshotAttributeCommandInput,
): Promise<Out<EC2.ResetSnapshotAttributeCommandOutput>> {
  const s = await ctx.region.snapshots.owned(ctx.accountId, required(input.SnapshotId, "SnapshotId"));
  checkAttribute(input.Attribute);
  dryRunCheck(input);
  await ctx.region.snapshots.resetSharing(ctx.accountId, s.id);
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
  const instance = await ctx.region.instances.owned(
    ctx.accountId,
    required(spec?.InstanceId, "InstanceSpecification.InstanceId"),
  );
  const tags = tagsFromSpecifications(input.TagSpecifications, "snapshot");
  const description = input.Description ?? "";
  checkDescription(description);
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
  const copied =
    input.CopyTagsFromSource === "volume"
      ? await ctx.region.tags.visibleTo(
          ctx.accountId,
          volumes.map((a) => ({ id: a.volumeId, ownerId: instance.ownerId })),
        )
      : new Map<string, Tag[]>();
  const tagsOf = new Map(
    volumes.map((a) => [a.volumeId, mergeTags(copied.get(a.volumeId) ?? [], tags)] as const),
  );
  for (const t of tagsOf.values()) validateTags(t);
  dryRunCheck(input);
  const snaps = await ctx.region.snapshots.createMany(
    volumes.map((a) => a.volumeId),
    description,
    tagsOf,
  );
  return {
    Snapshots: snaps.map((s) => {
      const shape = toSnapshot(s, tagsOf.get(s.volumeId ?? ""));
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

/** Tags copied from a volume, then the request's (which win on the same key). */
function mergeTags(copied: Tag[], given: Tag[]): Tag[] {
  return [...new Map([...copied, ...given].map((t) => [t.key, t])).values()];
}
