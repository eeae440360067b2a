import type * as EC2 from "@aws-sdk/client-ec2";
import { StrataError } from "../../../errors.ts";
import { dryRunCheck, type Out, type RequestContext, required } from "../context.ts";
import { applyFilters } from "../filters.ts";
import { paginate } from "../pagination.ts";
import { fromSdkTags, resourceTypeOf, validateTags } from "../tagging.ts";
import { ownedInstance } from "./instances.ts";
import { ownedVolume } from "./volumes.ts";

/** Tagging needs ownership: EC2 answers another account's resource as not found. */
async function checkOwned(ctx: RequestContext, id: string): Promise<void> {
  switch (resourceTypeOf(id)) {
    case "volume":
      await ownedVolume(ctx, id);
      return;
    case "snapshot": {
      const s = await ctx.region.meta.getSnapshot(id);
      if (!s || s.ownerId !== ctx.accountId) {
        throw new StrataError("InvalidSnapshot.NotFound", `The snapshot '${id}' does not exist.`);
      }
      return;
    }
    case "image":
      await ctx.region.images.getOwned(id, ctx.accountId);
      return;
    case "instance":
      await ownedInstance(ctx, id);
      return;
    case "key-pair":
      if (!(await ctx.region.instances.store.keyPairs(ctx.accountId)).some((k) => k.id === id)) {
        throw new StrataError("InvalidKeyPair.NotFound", `The key pair ID '${id}' does not exist`);
      }
      return;
    default:
      throw new StrataError("InvalidID", `The ID '${id}' is not valid`);
  }
}

export async function CreateTags(
  ctx: RequestContext,
  input: EC2.CreateTagsCommandInput,
): Promise<Out<EC2.CreateTagsCommandOutput>> {
  const resources = required(input.Resources, "ResourceId");
  const tags = validateTags(fromSdkTags(required(input.Tags, "Tag")));
  for (const id of resources) await checkOwned(ctx, id);
  for (const id of resources) {
    const merged = new Map((await ctx.region.catalog.tags(id)).map((t) => [t.key, t.value]));
    for (const t of tags) merged.set(t.key, t.value);
    if (merged.size > 50)
      throw new StrataError("TagLimitExceeded", `Resource ${id} would have more than 50 tags`);
  }
  dryRunCheck(input);
  await ctx.region.catalog.setTags(resources, tags);
  return {};
}

export async function DeleteTags(
  ctx: RequestContext,
  input: EC2.DeleteTagsCommandInput,
): Promise<Out<EC2.DeleteTagsCommandOutput>> {
  const resources = required(input.Resources, "ResourceId");
  for (const id of resources) await checkOwned(ctx, id);
  dryRunCheck(input);
  await ctx.region.catalog.deleteTags(
    resources,
    (input.Tags ?? []).map((t) => ({ key: t.Key ?? "", value: t.Value })),
  );
  return {};
}

export async function DescribeTags(
  ctx: RequestContext,
  input: EC2.DescribeTagsCommandInput,
): Promise<Out<EC2.DescribeTagsCommandOutput>> {
  const region = ctx.region;
  const owned = new Set([
    ...(await region.volumes.list()).filter((v) => v.ownerId === ctx.accountId).map((v) => v.id),
    ...(await region.snapshots.list()).filter((s) => s.ownerId === ctx.accountId).map((s) => s.id),
    ...(await region.images.list()).filter((i) => i.ownerId === ctx.accountId).map((i) => i.id),
    ...(await region.instances.list()).filter((i) => i.ownerId === ctx.accountId).map((i) => i.id),
    ...(await region.instances.store.keyPairs(ctx.accountId)).map((k) => k.id),
  ]);
  const rows = (await region.catalog.allTags())
    .filter((t) => owned.has(t.resourceId))
    .map((t) => ({ ...t, resourceType: resourceTypeOf(t.resourceId) ?? "" }));
  const matched = applyFilters(rows, input.Filters, {
    key: (t) => t.key,
    value: (t) => t.value,
    "resource-id": (t) => t.resourceId,
    "resource-type": (t) => t.resourceType,
  });
  dryRunCheck(input);
  // Pages are by resource id + key, the order EC2 lists tags in.
  const { page, nextToken } = paginate(matched, (t) => `${t.resourceId}\u0000${t.key}`, input);
  return {
    Tags: page.map((t) => ({
      ResourceId: t.resourceId,
      ResourceType: t.resourceType as EC2.ResourceType,
      Key: t.key,
      Value: t.value,
    })),
    NextToken: nextToken,
  };
}
