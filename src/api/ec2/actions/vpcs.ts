import type * as EC2 from "@aws-sdk/client-ec2";
import { StrataError } from "../../../errors.ts";
import type { VpcRecord } from "../../../services/network/network-records.ts";
import { dryRunCheck, type Out, type RequestContext, required } from "../context.ts";
import { applyFilters, type FilterFields } from "../filters.ts";
import { firstUse, toVpc } from "../network-shapes.ts";
import { noMaxResultsWithIds, paginate } from "../pagination.ts";
import { tagsFromSpecifications } from "../tagging.ts";

export async function CreateVpc(
  ctx: RequestContext,
  input: EC2.CreateVpcCommandInput,
): Promise<Out<EC2.CreateVpcCommandOutput>> {
  const cidr = required(input.CidrBlock, "CidrBlock");
  const tags = tagsFromSpecifications(input.TagSpecifications, "vpc");
  ctx.region.vpcs.checkCreateVpc(cidr, tags);
  if (input.InstanceTenancy !== undefined && input.InstanceTenancy !== "default") {
    throw new StrataError(
      "InvalidParameterValue",
      `Invalid value '${input.InstanceTenancy}' for InstanceTenancy`,
    );
  }
  dryRunCheck(input);
  const vpc = await ctx.region.vpcs.createVpc(ctx.accountId, { cidr, tags });
  // EC2 answers CreateVpc while the VPC is still pending; it is available at once here.
  return { Vpc: toVpc(vpc, tags) };
}

const vpcFilters: FilterFields<VpcRecord> = {
  "vpc-id": (v) => v.id,
  cidr: (v) => v.cidr,
  "cidr-block-association.cidr-block": (v) => v.cidr,
  "cidr-block-association.state": () => "associated",
  "is-default": (v) => v.isDefault,
  isDefault: (v) => v.isDefault,
  "owner-id": (v) => v.ownerId,
  state: () => "available",
  "dhcp-options-id": () => "default",
};

export async function DescribeVpcs(
  ctx: RequestContext,
  input: EC2.DescribeVpcsCommandInput,
): Promise<Out<EC2.DescribeVpcsCommandOutput>> {
  noMaxResultsWithIds(input.VpcIds, input.MaxResults, "vpcIds");
  await firstUse(ctx, input, input.VpcIds, vpcFilters);
  const vpcs = await ctx.region.vpcs.listVpcs(ctx.accountId, input.VpcIds);
  const tags = await ctx.region.catalog.tagsOf(vpcs.map((v) => v.id));
  const matched = applyFilters(vpcs, input.Filters, vpcFilters, (v) => tags.get(v.id) ?? []);
  const { page, nextToken } = paginate(matched, (v) => v.id, input);
  return { Vpcs: page.map((v) => toVpc(v, tags.get(v.id))), NextToken: nextToken };
}

export async function DeleteVpc(
  ctx: RequestContext,
  input: EC2.DeleteVpcCommandInput,
): Promise<Out<EC2.DeleteVpcCommandOutput>> {
  const vpc = await ctx.region.vpcs.vpc(ctx.accountId, required(input.VpcId, "VpcId"));
  dryRunCheck(input);
  await ctx.region.vpcs.deleteVpc(ctx.accountId, vpc.id);
  return {};
}

export async function DescribeVpcAttribute(
  ctx: RequestContext,
  input: EC2.DescribeVpcAttributeCommandInput,
): Promise<Out<EC2.DescribeVpcAttributeCommandOutput>> {
  const vpc = await ctx.region.vpcs.vpc(ctx.accountId, required(input.VpcId, "VpcId"));
  const attribute = required(input.Attribute, "Attribute");
  dryRunCheck(input);
  // AWS's defaults: DNS resolution on in every VPC; DNS hostnames on only in the default VPC.
  switch (attribute) {
    case "enableDnsSupport":
      return { VpcId: vpc.id, EnableDnsSupport: { Value: true } };
    case "enableDnsHostnames":
      return { VpcId: vpc.id, EnableDnsHostnames: { Value: vpc.isDefault } };
    case "enableNetworkAddressUsageMetrics":
      return { VpcId: vpc.id, EnableNetworkAddressUsageMetrics: { Value: false } };
    default:
      throw new StrataError(
        "InvalidParameterValue",
        `Value (${attribute}) for parameter attribute is invalid.`,
      );
  }
}

/** Packer and Terraform read these first (a VPC-only account with a default VPC). */
export async function DescribeAccountAttributes(
  ctx: RequestContext,
  input: EC2.DescribeAccountAttributesCommandInput,
): Promise<Out<EC2.DescribeAccountAttributesCommandOutput>> {
  const values: Record<string, () => Promise<string[]>> = {
    "supported-platforms": async () => ["VPC"],
    "default-vpc": async () => [(await ctx.region.vpcs.defaultVpc(ctx.accountId)).id],
    "max-instances": async () => ["20"],
    "vpc-max-security-groups-per-interface": async () => ["5"],
    "max-elastic-ips": async () => ["5"],
    "vpc-max-elastic-ips": async () => ["5"],
  };
  const names = input.AttributeNames?.length ? input.AttributeNames : Object.keys(values);
  const unknown = names.find((n) => !Object.hasOwn(values, n));
  if (unknown !== undefined) {
    throw new StrataError(
      "InvalidParameterValue",
      `Value (${unknown}) for parameter attributeName is invalid.`,
    );
  }
  dryRunCheck(input);
  return {
    AccountAttributes: await Promise.all(
      names.map(async (name) => ({
        AttributeName: name,
        AttributeValues: (await values[name]()).map((v) => ({ AttributeValue: v })),
      })),
    ),
  };
}
