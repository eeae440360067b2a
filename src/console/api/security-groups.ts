// The security groups area's calls: typed functions over the SDK v3 EC2 commands, and the query
// keys the pages cache them under (["security-groups", region, ...]; invalidate
// ["security-groups", region] after a change).
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type IpPermission,
  ModifySecurityGroupRulesCommand,
  paginateDescribeSecurityGroupRules,
  paginateDescribeSecurityGroups,
  paginateDescribeVpcs,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroup,
  type SecurityGroupRule,
  type SecurityGroupRuleRequest,
  type Vpc,
} from "@aws-sdk/client-ec2";

export type Direction = "inbound" | "outbound";

/** One rule as EC2 compares rules (a changed description is a change too). */
export interface RuleSpec {
  protocol: string;
  fromPort?: number;
  toPort?: number;
  cidr?: string;
  groupId?: string;
  description?: string;
}

/** The calls that turn a group's rules of one direction into what the editor shows. */
export interface RulePlan {
  authorize: RuleSpec[];
  modify: { ruleId: string; spec: RuleSpec }[];
  revoke: string[];
}

export const securityGroupKeys = {
  all: (region: string) => ["security-groups", region] as const,
  list: (region: string) => ["security-groups", region, "list"] as const,
  one: (region: string, id: string) => ["security-groups", region, "one", id] as const,
  rules: (region: string, id: string) => ["security-groups", region, "rules", id] as const,
  vpcs: (region: string) => ["security-groups", region, "vpcs"] as const,
};

/** Every security group of the account in the region (the first call makes the default VPC's). */
export async function listSecurityGroups(ec2: EC2Client): Promise<SecurityGroup[]> {
  const out: SecurityGroup[] = [];
  for await (const page of paginateDescribeSecurityGroups({ client: ec2, pageSize: 1000 }, {})) {
    out.push(...(page.SecurityGroups ?? []));
  }
  return out;
}

export async function getSecurityGroup(ec2: EC2Client, id: string): Promise<SecurityGroup> {
  // With GroupIds, DescribeSecurityGroups refuses MaxResults: no paginator here.
  const res = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] }));
  const found = res.SecurityGroups?.find((g) => g.GroupId === id);
  if (!found)
    throw Object.assign(new Error(`The security group '${id}' does not exist`), {
      name: "InvalidGroup.NotFound",
    });
  return found;
}

/** The group's rules, each with its id (DescribeSecurityGroupRules), inbound and outbound. */
export async function listGroupRules(ec2: EC2Client, groupId: string): Promise<SecurityGroupRule[]> {
  const out: SecurityGroupRule[] = [];
  const filter = { Filters: [{ Name: "group-id", Values: [groupId] }] };
  for await (const page of paginateDescribeSecurityGroupRules({ client: ec2, pageSize: 1000 }, filter)) {
    out.push(...(page.SecurityGroupRules ?? []));
  }
  return out;
}

export function rulesOf(rules: SecurityGroupRule[], direction: Direction): SecurityGroupRule[] {
  return rules.filter((r) => !!r.IsEgress === (direction === "outbound"));
}

/** The account's VPCs, the default one first (the AWS console preselects it). */
export async function listVpcs(ec2: EC2Client): Promise<Vpc[]> {
  const out: Vpc[] = [];
  for await (const page of paginateDescribeVpcs({ client: ec2, pageSize: 1000 }, {})) {
    out.push(...(page.Vpcs ?? []));
  }
  return out.sort((a, b) => Number(!!b.IsDefault) - Number(!!a.IsDefault));
}

/** How many rules the group's permissions hold (one per CIDR block or referenced group). */
export function ruleCount(permissions: IpPermission[] | undefined): number {
  return (permissions ?? []).reduce(
    (n, p) =>
      n +
      (p.IpRanges?.length ?? 0) +
      (p.Ipv6Ranges?.length ?? 0) +
      (p.UserIdGroupPairs?.length ?? 0) +
      (p.PrefixListIds?.length ?? 0),
    0,
  );
}

export async function createSecurityGroup(
  ec2: EC2Client,
  input: { name: string; description: string; vpcId?: string },
): Promise<string> {
  const res = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: input.name,
      Description: input.description,
      VpcId: input.vpcId,
    }),
  );
  return res.GroupId ?? "";
}

export async function deleteSecurityGroup(ec2: EC2Client, groupId: string): Promise<void> {
  await ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId }));
}

function permission(s: RuleSpec): IpPermission {
  const description = s.description;
  return {
    IpProtocol: s.protocol,
    FromPort: s.fromPort,
    ToPort: s.toPort,
    IpRanges: s.cidr ? [{ CidrIp: s.cidr, Description: description }] : undefined,
    UserIdGroupPairs: s.groupId ? [{ GroupId: s.groupId, Description: description }] : undefined,
  };
}

function ruleRequest(s: RuleSpec): SecurityGroupRuleRequest {
  return {
    IpProtocol: s.protocol,
    FromPort: s.fromPort,
    ToPort: s.toPort,
    CidrIpv4: s.cidr,
    ReferencedGroupId: s.groupId,
    Description: s.description ?? "",
  };
}

/**
 * Applies a plan of one direction: new rules first (one Authorize call: all or none), then the
 * changed ones, then the removed ones, so a rule the API refuses leaves the group as it was
 * whenever it is a new one.
 */
export async function applyRulePlan(
  ec2: EC2Client,
  groupId: string,
  direction: Direction,
  plan: RulePlan,
): Promise<void> {
  const egress = direction === "outbound";
  if (plan.authorize.length) {
    const input = { GroupId: groupId, IpPermissions: plan.authorize.map(permission) };
    if (egress) await ec2.send(new AuthorizeSecurityGroupEgressCommand(input));
    else await ec2.send(new AuthorizeSecurityGroupIngressCommand(input));
  }
  if (plan.modify.length) {
    await ec2.send(
      new ModifySecurityGroupRulesCommand({
        GroupId: groupId,
        SecurityGroupRules: plan.modify.map((m) => ({
          SecurityGroupRuleId: m.ruleId,
          SecurityGroupRule: ruleRequest(m.spec),
        })),
      }),
    );
  }
  if (plan.revoke.length) {
    const input = { GroupId: groupId, SecurityGroupRuleIds: plan.revoke };
    if (egress) await ec2.send(new RevokeSecurityGroupEgressCommand(input));
    else await ec2.send(new RevokeSecurityGroupIngressCommand(input));
  }
}
