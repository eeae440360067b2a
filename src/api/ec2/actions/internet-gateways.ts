import type * as EC2 from "@aws-sdk/client-ec2";
import type { InternetGatewayRecord } from "../../../services/network/network-records.ts";
import { dryRunCheck, type Out, type RequestContext, required } from "../context.ts";
import { applyFilters, type FilterFields } from "../filters.ts";
import { firstUse, toInternetGateway } from "../network-shapes.ts";
import { noMaxResultsWithIds, paginate } from "../pagination.ts";
import { tagsFromSpecifications } from "../tagging.ts";

export async function CreateInternetGateway(
  ctx: RequestContext,
  input: EC2.CreateInternetGatewayCommandInput,
): Promise<Out<EC2.CreateInternetGatewayCommandOutput>> {
  const tags = tagsFromSpecifications(input.TagSpecifications, "internet-gateway");
  dryRunCheck(input);
  const g = await ctx.region.routes.createGateway(ctx.accountId, tags);
  return { InternetGateway: toInternetGateway(g, tags) };
}

export async function DescribeInternetGateways(
  ctx: RequestContext,
  input: EC2.DescribeInternetGatewaysCommandInput,
): Promise<Out<EC2.DescribeInternetGatewaysCommandOutput>> {
  noMaxResultsWithIds(input.InternetGatewayIds, input.MaxResults, "internetGatewayIds");
  const fields: FilterFields<InternetGatewayRecord> = {
    "internet-gateway-id": (g) => g.id,
    "attachment.vpc-id": (g) => g.vpcId ?? undefined,
    "attachment.state": (g) => (g.vpcId ? "available" : undefined),
    "owner-id": (g) => g.ownerId,
  };
  await firstUse(ctx, input, input.InternetGatewayIds, fields);
  const gateways = await ctx.region.routes.listGateways(ctx.accountId, input.InternetGatewayIds);
  const tags = await ctx.region.catalog.tagsOf(gateways.map((g) => g.id));
  const matched = applyFilters(gateways, input.Filters, fields, (g) => tags.get(g.id) ?? []);
  const { page, nextToken } = paginate(matched, (g) => g.id, input);
  return { InternetGateways: page.map((g) => toInternetGateway(g, tags.get(g.id))), NextToken: nextToken };
}

export async function AttachInternetGateway(
  ctx: RequestContext,
  input: EC2.AttachInternetGatewayCommandInput,
): Promise<Out<EC2.AttachInternetGatewayCommandOutput>> {
  const g = await ctx.region.routes.gateway(
    ctx.accountId,
    required(input.InternetGatewayId, "InternetGatewayId"),
  );
  const vpc = await ctx.region.vpcs.vpc(ctx.accountId, required(input.VpcId, "VpcId"));
  dryRunCheck(input);
  await ctx.region.routes.attachGateway(ctx.accountId, g.id, vpc.id);
  return {};
}

export async function DetachInternetGateway(
  ctx: RequestContext,
  input: EC2.DetachInternetGatewayCommandInput,
): Promise<Out<EC2.DetachInternetGatewayCommandOutput>> {
  const g = await ctx.region.routes.gateway(
    ctx.accountId,
    required(input.InternetGatewayId, "InternetGatewayId"),
  );
  const vpc = await ctx.region.vpcs.vpc(ctx.accountId, required(input.VpcId, "VpcId"));
  dryRunCheck(input);
  await ctx.region.routes.detachGateway(ctx.accountId, g.id, vpc.id);
  return {};
}

export async function DeleteInternetGateway(
  ctx: RequestContext,
  input: EC2.DeleteInternetGatewayCommandInput,
): Promise<Out<EC2.DeleteInternetGatewayCommandOutput>> {
  const g = await ctx.region.routes.gateway(
    ctx.accountId,
    required(input.InternetGatewayId, "InternetGatewayId"),
  );
  dryRunCheck(input);
  await ctx.region.routes.deleteGateway(ctx.accountId, g.id);
  return {};
}
