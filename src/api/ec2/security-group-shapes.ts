// Security groups and rules as the EC2 shapes of the SDK v3 types, and IpPermissions in.
import type {
  IpPermission,
  RevokedSecurityGroupRule,
  SecurityGroup,
  SecurityGroupRule,
} from "@aws-sdk/client-ec2";
import type { SecurityGroupRecord, SecurityGroupRuleRecord } from "../../services/network/network-records.ts";
import type { PermissionInput } from "../../services/network/security-group-rules.ts";
import type { Tag } from "../../storage/metadata/catalog-store.ts";
import { toSdkTags } from "./tagging.ts";

/** Empty strings count as absent (Packer sends VpcId="" and the like). */
export function present(value: string | undefined): string | undefined {
  return value === "" ? undefined : value;
}

export function fromIpPermission(p: IpPermission): PermissionInput {
  return {
    ipProtocol: present(p.IpProtocol),
    fromPort: p.FromPort,
    toPort: p.ToPort,
    ipRanges: (p.IpRanges ?? []).map((r) => ({ cidrIp: r.CidrIp, description: present(r.Description) })),
    groups: (p.UserIdGroupPairs ?? []).map((g) => ({
      groupId: present(g.GroupId),
      groupName: present(g.GroupName),
      userId: present(g.UserId),
      description: present(g.Description),
    })),
    ipv6Ranges: p.Ipv6Ranges?.length ?? 0,
    prefixListIds: p.PrefixListIds?.length ?? 0,
  };
}

export function toIpPermission(p: PermissionInput, ownerId: string): IpPermission {
  return {
    IpProtocol: p.ipProtocol,
    FromPort: p.fromPort,
    ToPort: p.toPort,
    IpRanges: p.ipRanges?.map((r) => ({ CidrIp: r.cidrIp, Description: r.description })),
    UserIdGroupPairs: p.groups?.map((g) => ({
      GroupId: g.groupId,
      GroupName: g.groupName,
      UserId: g.userId ?? ownerId,
      Description: g.description,
    })),
  };
}

const ports = (r: SecurityGroupRuleRecord) =>
  r.protocol === "-1" ? {} : { FromPort: r.fromPort, ToPort: r.toPort };

/** A group's rules of one direction as EC2 lists them: one IpPermission per protocol and ports. */
export function toIpPermissions(rules: SecurityGroupRuleRecord[]): IpPermission[] {
  const out = new Map<string, IpPermission>();
  for (const r of rules) {
    const key = `${r.protocol}|${r.fromPort}|${r.toPort}`;
    let p = out.get(key);
    if (!p) {
      p = {
        IpProtocol: r.protocol,
        ...ports(r),
        IpRanges: [],
        Ipv6Ranges: [],
        PrefixListIds: [],
        UserIdGroupPairs: [],
      };
      out.set(key, p);
    }
    if (r.cidr !== null) p.IpRanges?.push({ CidrIp: r.cidr, Description: r.description ?? undefined });
    if (r.referencedGroupId !== null) {
      p.UserIdGroupPairs?.push({
        GroupId: r.referencedGroupId,
        UserId: r.ownerId,
        Description: r.description ?? undefined,
      });
    }
  }
  return [...out.values()];
}

export function toSecurityGroup(
  g: SecurityGroupRecord,
  rules: SecurityGroupRuleRecord[],
  region: string,
  tags?: Tag[],
): SecurityGroup {
  return {
    GroupId: g.id,
    GroupName: g.name,
    Description: g.description,
    OwnerId: g.ownerId,
    VpcId: g.vpcId,
    SecurityGroupArn: `arn:aws:ec2:${region}:${g.ownerId}:security-group/${g.id}`,
    IpPermissions: toIpPermissions(rules.filter((r) => !r.egress)),
    IpPermissionsEgress: toIpPermissions(rules.filter((r) => r.egress)),
    Tags: toSdkTags(tags),
  };
}

export function toSecurityGroupRule(
  r: SecurityGroupRuleRecord,
  region: string,
  tags?: Tag[],
): SecurityGroupRule {
  return {
    SecurityGroupRuleId: r.id,
    GroupId: r.groupId,
    GroupOwnerId: r.ownerId,
    IsEgress: r.egress,
    IpProtocol: r.protocol,
    FromPort: r.fromPort,
    ToPort: r.toPort,
    CidrIpv4: r.cidr ?? undefined,
    ReferencedGroupInfo: r.referencedGroupId
      ? { GroupId: r.referencedGroupId, UserId: r.ownerId }
      : undefined,
    Description: r.description ?? undefined,
    SecurityGroupRuleArn: `arn:aws:ec2:${region}:${r.ownerId}:security-group-rule/${r.id}`,
    Tags: toSdkTags(tags) ?? [],
  };
}

export function toRevokedRule(r: SecurityGroupRuleRecord): RevokedSecurityGroupRule {
  return {
    SecurityGroupRuleId: r.id,
    GroupId: r.groupId,
    IsEgress: r.egress,
    IpProtocol: r.protocol,
    FromPort: r.fromPort,
    ToPort: r.toPort,
    CidrIpv4: r.cidr ?? undefined,
    ReferencedGroupId: r.referencedGroupId ?? undefined,
    Description: r.description ?? undefined,
  };
}
