import type * as EC2 from "@aws-sdk/client-ec2";
import { StrataError } from "../../../errors.ts";
import type {
  SecurityGroupRecord,
  SecurityGroupRuleRecord,
} from "../../../services/network/network-records.ts";
import { checkCreateGroup, type GroupTarget } from "../../../services/network/security-group-checks.ts";
import { type PermissionInput, parsePermissions } from "../../../services/network/security-group-rules.ts";
import { dryRunCheck, type Out, type RequestContext, required } from "../context.ts";
import { applyFilters, type FilterFields } from "../filters.ts";
import { firstUse } from "../network-shapes.ts";
import { noMaxResultsWithIds, paginate } from "../pagination.ts";
import {
  fromIpPermission,
  present,
  toIpPermission,
  toRevokedRule,
  toSecurityGroup,
  toSecurityGroupRule,
} from "../security-group-shapes.ts";
import { tagsFromSpecifications, toSdkTags } from "../tagging.ts";

export async function CreateSecurityGroup(
  ctx: RequestContext,
  input: EC2.CreateSecurityGroupCommandInput,
): Promise<Out<EC2.CreateSecurityGroupCommandOutput>> {
  const name = required(input.GroupName, "GroupName");
  const description = required(input.Description, "GroupDescription");
  const tags = tagsFromSpecifications(input.TagSpecifications, "security-group");
  checkCreateGroup(name, description, tags);
  dryRunCheck(input);
  const group = await ctx.region.securityGroups.create(ctx.accountId, {
    name,
    description,
    vpcId: present(input.VpcId),
    tags,
  });
  return {
    GroupId: group.id,
    Tags: toSdkTags(tags),
    SecurityGroupArn: `arn:aws:ec2:${ctx.regionName}:${group.ownerId}:security-group/${group.id}`,
  };
}

function target(input: { GroupId?: string; GroupName?: string }): GroupTarget {
  const t = { groupId: present(input.GroupId), groupName: present(input.GroupName) };
  if (!t.groupId && !t.groupName) required(undefined, "GroupId");
  return t;
}

export async function DeleteSecurityGroup(
  ctx: RequestContext,
  input: EC2.DeleteSecurityGroupCommandInput,
): Promise<Out<EC2.DeleteSecurityGroupCommandOutput>> {
  const t = target(input);
  dryRunCheck(input);
  const group = await ctx.region.securityGroups.delete(ctx.accountId, t);
  return { Return: true, GroupId: group.id };
}

/** Values of the rules of one direction, for the ip-permission.* and egress.ip-permission.* filters. */
function ruleFilters(
  prefix: string,
  rulesOf: (groupId: string) => SecurityGroupRuleRecord[],
  names: Map<string, string>,
): FilterFields<{ id: string }> {
  const withPorts = (g: { id: string }) => rulesOf(g.id).filter((r) => r.protocol !== "-1");
  return {
    [`${prefix}.protocol`]: (g) => rulesOf(g.id).map((r) => r.protocol),
    [`${prefix}.from-port`]: (g) => withPorts(g).map((r) => String(r.fromPort)),
    [`${prefix}.to-port`]: (g) => withPorts(g).map((r) => String(r.toPort)),
    [`${prefix}.cidr`]: (g) => rulesOf(g.id).map((r) => r.cidr ?? undefined),
    [`${prefix}.group-id`]: (g) => rulesOf(g.id).map((r) => r.referencedGroupId ?? undefined),
    [`${prefix}.group-name`]: (g) =>
      rulesOf(g.id).map((r) => (r.referencedGroupId ? names.get(r.referencedGroupId) : undefined)),
    [`${prefix}.user-id`]: (g) => rulesOf(g.id).map((r) => (r.referencedGroupId ? r.ownerId : undefined)),
  };
}

function groupFilters(
  rulesOf: (groupId: string) => SecurityGroupRuleRecord[],
  names: Map<string, string>,
): FilterFields<SecurityGroupRecord> {
  return {
    "group-id": (g) => g.id,
    "group-name": (g) => g.name,
    "vpc-id": (g) => g.vpcId,
    description: (g) => g.description,
    "owner-id": (g) => g.ownerId,
    ...ruleFilters("ip-permission", (id) => rulesOf(id).filter((r) => !r.egress), names),
    ...ruleFilters("egress.ip-permission", (id) => rulesOf(id).filter((r) => r.egress), names),
  };
}

export async function DescribeSecurityGroups(
  ctx: RequestContext,
  input: EC2.DescribeSecurityGroupsCommandInput,
): Promise<Out<EC2.DescribeSecurityGroupsCommandOutput>> {
  noMaxResultsWithIds(input.GroupIds, input.MaxResults, "groupIds");
  // Every account has its default VPC's default group from the start on EC2: listing the groups is
  // a first use of the network model, as listing VPCs or subnets is.
  await firstUse(
    ctx,
    input,
    input.GroupIds,
    groupFilters(() => [], new Map()),
  );
  const service = ctx.region.securityGroups;
  const groups = await service.describe(ctx.accountId, { ids: input.GroupIds, names: input.GroupNames });
  const rules = await service.rulesByGroup(groups.map((g) => g.id));
  const names = new Map((await service.describe(ctx.accountId)).map((g) => [g.id, g.name]));
  const tags = await ctx.region.tags.visibleTo(ctx.accountId, groups);
  const matched = applyFilters(
    groups,
    input.Filters,
    groupFilters((id) => rules.get(id) ?? [], names),
    (g) => tags.get(g.id) ?? [],
  );
  dryRunCheck(input);
  const { page, nextToken } = paginate(matched, (g) => g.id, input);
  return {
    SecurityGroups: page.map((g) =>
      toSecurityGroup(g, rules.get(g.id) ?? [], ctx.regionName, tags.get(g.id)),
    ),
    NextToken: nextToken,
  };
}

type LegacyRuleInput = {
  IpPermissions?: EC2.IpPermission[];
  CidrIp?: string;
  IpProtocol?: string;
  FromPort?: number;
  ToPort?: number;
  SourceSecurityGroupName?: string;
  SourceSecurityGroupOwnerId?: string;
};

/**
 * The request's permissions: IpPermissions, or the older top-level form (CidrIp, IpProtocol,
 * FromPort, ToPort, or SourceSecurityGroupName for full ICMP, TCP and UDP access) that EC2 still
 * takes for ingress and documents as not supported for egress.
 */
function permissionsOf(input: LegacyRuleInput, egress: boolean): PermissionInput[] {
  const permissions = (input.IpPermissions ?? []).map(fromIpPermission);
  const cidrIp = present(input.CidrIp);
  const protocol = present(input.IpProtocol);
  const sourceName = present(input.SourceSecurityGroupName);
  const sourceOwner = present(input.SourceSecurityGroupOwnerId);
  const portsGiven = input.FromPort !== undefined || input.ToPort !== undefined;
  if (!cidrIp && !protocol && !sourceName && !sourceOwner && !portsGiven) return permissions;
  if (egress) {
    throw new StrataError(
      "InvalidParameterValue",
      "CidrIp, IpProtocol, FromPort, ToPort and SourceSecurityGroup* are not supported for egress rules: use IpPermissions",
    );
  }
  if (permissions.length) {
    throw new StrataError(
      "InvalidParameterCombination",
      "The parameter ipPermissions cannot be used with CidrIp, IpProtocol, FromPort, ToPort or SourceSecurityGroupName",
    );
  }
  if (sourceName || sourceOwner) {
    if (cidrIp || protocol || portsGiven) {
      throw new StrataError(
        "InvalidParameterCombination",
        "SourceSecurityGroupName cannot be used with CidrIp, IpProtocol, FromPort or ToPort",
      );
    }
    const groups = [{ groupName: required(sourceName, "SourceSecurityGroupName"), userId: sourceOwner }];
    return [
      { ipProtocol: "icmp", fromPort: -1, toPort: -1, groups },
      { ipProtocol: "tcp", fromPort: 0, toPort: 65535, groups },
      { ipProtocol: "udp", fromPort: 0, toPort: 65535, groups },
    ];
  }
  return [
    {
      ipProtocol: protocol,
      fromPort: input.FromPort,
      toPort: input.ToPort,
      ipRanges: cidrIp ? [{ cidrIp }] : [],
    },
  ];
}

async function authorize(
  ctx: RequestContext,
  input: LegacyRuleInput & {
    GroupId?: string;
    GroupName?: string;
    TagSpecifications?: EC2.TagSpecification[];
    DryRun?: boolean;
  },
  egress: boolean,
): Promise<{ Return: boolean; SecurityGroupRules: EC2.SecurityGroupRule[] }> {
  const t = target(input);
  const specs = parsePermissions(permissionsOf(input, egress));
  const tags = tagsFromSpecifications(input.TagSpecifications, "security-group-rule");
  dryRunCheck(input);
  const rules = await ctx.region.securityGroups.authorize(ctx.accountId, t, egress, specs, tags);
  return { Return: true, SecurityGroupRules: rules.map((r) => toSecurityGroupRule(r, ctx.regionName, tags)) };
}

export function AuthorizeSecurityGroupIngress(
  ctx: RequestContext,
  input: EC2.AuthorizeSecurityGroupIngressCommandInput,
): Promise<Out<EC2.AuthorizeSecurityGroupIngressCommandOutput>> {
  return authorize(ctx, input, false);
}

export function AuthorizeSecurityGroupEgress(
  ctx: RequestContext,
  input: EC2.AuthorizeSecurityGroupEgressCommandInput,
): Promise<Out<EC2.AuthorizeSecurityGroupEgressCommandOutput>> {
  return authorize(ctx, input, true);
}

async function revoke(
  ctx: RequestContext,
  input: LegacyRuleInput & {
    GroupId?: string;
    GroupName?: string;
    SecurityGroupRuleIds?: string[];
    DryRun?: boolean;
  },
  egress: boolean,
): Promise<Out<EC2.RevokeSecurityGroupIngressCommandOutput>> {
  const t = target(input);
  const ruleIds = (input.SecurityGroupRuleIds ?? []).filter((id) => id !== "");
  const permissions = permissionsOf(input, egress);
  if (ruleIds.length && permissions.length) {
    throw new StrataError(
      "InvalidParameterCombination",
      "The parameter SecurityGroupRuleIds cannot be used with IpPermissions or the rule's properties",
    );
  }
  const specs = ruleIds.length ? undefined : parsePermissions(permissions);
  dryRunCheck(input);
  const { revoked, unknown } = await ctx.region.securityGroups.revoke(ctx.accountId, t, egress, {
    specs,
    ruleIds,
  });
  return {
    Return: true,
    UnknownIpPermissions: unknown.length ? unknown.map((p) => toIpPermission(p, ctx.accountId)) : undefined,
    RevokedSecurityGroupRules: revoked.map(toRevokedRule),
  };
}

export function RevokeSecurityGroupIngress(
  ctx: RequestContext,
  input: EC2.RevokeSecurityGroupIngressCommandInput,
): Promise<Out<EC2.RevokeSecurityGroupIngressCommandOutput>> {
  return revoke(ctx, input, false);
}

export function RevokeSecurityGroupEgress(
  ctx: RequestContext,
  input: EC2.RevokeSecurityGroupEgressCommandInput,
): Promise<Out<EC2.RevokeSecurityGroupEgressCommandOutput>> {
  return revoke(ctx, input, true);
}

export async function DescribeSecurityGroupRules(
  ctx: RequestContext,
  input: EC2.DescribeSecurityGroupRulesCommandInput,
): Promise<Out<EC2.DescribeSecurityGroupRulesCommandOutput>> {
  const fields: FilterFields<SecurityGroupRuleRecord> = {
    "group-id": (r) => r.groupId,
    "security-group-rule-id": (r) => r.id,
  };
  await firstUse(ctx, input, input.SecurityGroupRuleIds, fields);
  const rules = await ctx.region.securityGroups.describeRules(ctx.accountId, input.SecurityGroupRuleIds);
  const tags = await ctx.region.tags.visibleTo(ctx.accountId, rules);
  const matched = applyFilters(rules, input.Filters, fields, (r) => tags.get(r.id) ?? []);
  dryRunCheck(input);
  const { page, nextToken } = paginate(matched, (r) => r.id, input);
  return {
    SecurityGroupRules: page.map((r) => toSecurityGroupRule(r, ctx.regionName, tags.get(r.id))),
    NextToken: nextToken,
  };
}

export async function ModifySecurityGroupRules(
  ctx: RequestContext,
  input: EC2.ModifySecurityGroupRulesCommandInput,
): Promise<Out<EC2.ModifySecurityGroupRulesCommandOutput>> {
  const groupId = required(present(input.GroupId), "GroupId");
  const updates = required(input.SecurityGroupRules, "SecurityGroupRule").map((u) => {
    const r = u.SecurityGroupRule ?? {};
    if (present(r.CidrIpv6) || present(r.PrefixListId)) {
      throw new StrataError(
        "InvalidParameterValue",
        "Strata's VPCs are IPv4 only: CidrIpv6 and PrefixListId are not supported",
      );
    }
    const description = present(r.Description);
    const cidr = present(r.CidrIpv4);
    const referenced = present(r.ReferencedGroupId);
    return {
      ruleId: required(present(u.SecurityGroupRuleId), "SecurityGroupRuleId"),
      permission: {
        ipProtocol: present(r.IpProtocol),
        fromPort: r.FromPort,
        toPort: r.ToPort,
        ipRanges: cidr ? [{ cidrIp: cidr, description }] : [],
        groups: referenced ? [{ groupId: referenced, description }] : [],
      },
    };
  });
  if (!updates.length) required(undefined, "SecurityGroupRule");
  dryRunCheck(input);
  await ctx.region.securityGroups.modifyRules(ctx.accountId, groupId, updates);
  return { Return: true };
}
