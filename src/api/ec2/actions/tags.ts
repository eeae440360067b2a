import type * as EC2 from "@aws-sdk/client-ec2";
import { validateTags } from "../../../services/tags/tag-rules.ts";
import { resourceTypeOf } from "../../../services/tags/tag-service.ts";
import { dryRunCheck, type Out, type RequestContext, required } from "../context.ts";
import { applyFilters } from "../filters.ts";
import { paginate } from "../pagination.ts";
import { fromSdkTags } from "../tagging.ts";

export async function CreateTags(
  ctx: RequestContext,
  input: EC2.CreateTagsCommandInput,
): Promise<Out<EC2.CreateTagsCommandOutput>> {
  const resources = required(input.Resources, "ResourceId");
  const tags = validateTags(fromSdkTags(required(input.Tags, "Tag")));
  await ctx.region.tags.checkOwned(ctx.accountId, resources);
  dryRunCheck(input);
  await ctx.region.tags.create(ctx.accountId, resources, tags);
  return {};
}

export async function DeleteTags(
  ctx: RequestContext,
  input: EC2.DeleteTagsCommandInput,
): Promise<Out<EC2.DeleteTagsCommandOutput>> {
  const resources = required(input.Resources, "ResourceId");
  await ctx.region.tags.checkOwned(ctx.accountId, resources);
  dryRunCheck(input);
  await ctx.region.tags.delete(
    ctx.accountId,
    resources,
    (input.Tags ?? []).map((t) => ({ key: t.Key ?? "", value: t.Value })),
  );
  return {};
}

export async function DescribeTags(
  ctx: RequestContext,
  input: EC2.DescribeTagsCommandInput,
): Promise<Out<EC2.DescribeTagsCommandOutput>> {
  const rows = (await ctx.region.tags.describe(ctx.accountId)).map((t) => ({
    ...t,
    resourceType: resourceTypeOf(t.resourceId) ?? "",
  }));
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
