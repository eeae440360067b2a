import type * as EC2 from "@aws-sdk/client-ec2";
import { StrataError } from "../../../errors.ts";
import type { SubnetRecord } from "../../../services/network/network-records.ts";
import { dryRunCheck, type Out, type RequestContext, required } from "../context.ts";
import { applyFilters, type FilterFields } from "../filters.ts";
import { firstUse, given, toSubnet, zoneId } from "../network-shapes.ts";
import { noMaxResultsWithIds, paginate } from "../pagination.ts";
import { tagsFromSpecifications } from "../tagging.ts";

export async function CreateSubnet(
  ctx: RequestContext,
  input: EC2.CreateSubnetCommandInput,
): Promise<Out<EC2.CreateSubnetCommandOutput>> {
  const vpcId = required(input.VpcId, "VpcId");
  const cidr = required(input.CidrBlock, "CidrBlock");
  const tags = tagsFromSpecifications(input.TagSpecifications, "subnet");
  let zone = given(input.AvailabilityZone);
  const id = given(input.AvailabilityZoneId);
  if (zone === undefined && id !== undefined) {
    zone = ["a", "b", "c"].map((z) => `${ctx.regionName}${z}`).find((z) => zoneId(ctx.regionName, z) === id);
    if (!zone) throw new StrataError("InvalidParameterValue", `Invalid availability zone id: [${id}]`);
  }
  ctx.region.vpcs.checkCreateSubnet({ cidr, availabilityZone: zone, tags });
  await ctx.region.vpcs.vpc(ctx.accountId, vpcId);
  dryRunCheck(input);
  const s = await ctx.region.vpcs.createSubnet(ctx.accountId, { vpcId, cidr, availabilityZone: zone, tags });
  return { Subnet: toSubnet(ctx.regionName, s, await ctx.region.vpcs.availableIpCount(s), tags) };
}

export async function DescribeSubnets(
  ctx: RequestContext,
  input: EC2.DescribeSubnetsCommandInput,
): Promise<Out<EC2.DescribeSubnetsCommandOutput>> {
  noMaxResultsWithIds(input.SubnetIds, input.MaxResults, "subnetIds");
  const available = new Map<string, number>();
  const cidr = (s: SubnetRecord) => s.cidr;
  const fields: FilterFields<SubnetRecord> = {
    "subnet-id": (s) => s.id,
    "vpc-id": (s) => s.vpcId,
    "cidr-block": cidr,
    cidr,
    cidrBlock: cidr,
    "availability-zone": (s) => s.availabilityZone,
    availabilityZone: (s) => s.availabilityZone,
    "availability-zone-id": (s) => zoneId(ctx.regionName, s.availabilityZone),
    "default-for-az": (s) => s.defaultForAz,
    defaultForAz: (s) => s.defaultForAz,
    "map-public-ip-on-launch": (s) => s.mapPublicIpOnLaunch,
    "available-ip-address-count": (s) => available.get(s.id),
    "owner-id": (s) => s.ownerId,
    state: () => "available",
    "subnet-arn": (s) => `arn:aws:ec2:${ctx.regionName}:${s.ownerId}:subnet/${s.id}`,
  };
  await firstUse(ctx, input, input.SubnetIds, fields);
  const subnets = await ctx.region.vpcs.listSubnets(ctx.accountId, input.SubnetIds);
  const tags = await ctx.region.catalog.tagsOf(subnets.map((s) => s.id));
  for (const s of subnets) available.set(s.id, await ctx.region.vpcs.availableIpCount(s));
  const matched = applyFilters(subnets, input.Filters, fields, (s) => tags.get(s.id) ?? []);
  const { page, nextToken } = paginate(matched, (s) => s.id, input);
  return {
    Subnets: page.map((s) => toSubnet(ctx.regionName, s, available.get(s.id)!, tags.get(s.id))),
    NextToken: nextToken,
  };
}

export async function DeleteSubnet(
  ctx: RequestContext,
  input: EC2.DeleteSubnetCommandInput,
): Promise<Out<EC2.DeleteSubnetCommandOutput>> {
  const s = await ctx.region.vpcs.subnet(ctx.accountId, required(input.SubnetId, "SubnetId"));
  dryRunCheck(input);
  await ctx.region.vpcs.deleteSubnet(ctx.accountId, s.id);
  return {};
}

export async function ModifySubnetAttribute(
  ctx: RequestContext,
  input: EC2.ModifySubnetAttributeCommandInput,
): Promise<Out<EC2.ModifySubnetAttributeCommandOutput>> {
  const s = await ctx.region.vpcs.subnet(ctx.accountId, required(input.SubnetId, "SubnetId"));
  const { SubnetId: _s, MapPublicIpOnLaunch, ...others } = input;
  const unsupported = Object.entries(others).find(([, v]) => v !== undefined);
  if (unsupported) {
    throw new StrataError(
      "InvalidParameterValue",
      `Strata supports only MapPublicIpOnLaunch, not ${unsupported[0]}`,
    );
  }
  const value = required(MapPublicIpOnLaunch?.Value, "MapPublicIpOnLaunch");
  await ctx.region.vpcs.setMapPublicIpOnLaunch(ctx.accountId, s.id, value);
  return {};
}
