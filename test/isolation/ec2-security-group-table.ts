// Probes for the EC2 security-group actions: B naming A's group (by id, and by name where EC2
// takes names), A's rule ids, and A's group as the source or target of B's own rules.
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  type Filter,
  type IpPermission,
  ModifySecurityGroupRulesCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { filter, filterProbes, type Probe, probe, type World } from "./probes.ts";

const SSH_FROM_DOCS: IpPermission[] = [
  { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "203.0.113.0/24" }] },
];
const fromGroup = (id: string, UserId?: string): IpPermission[] => [
  { IpProtocol: "tcp", FromPort: 443, ToPort: 443, UserIdGroupPairs: [{ GroupId: id, UserId }] },
];

const describeGroups = (w: World, f: Filter[]) =>
  w.b.ec2.send(new DescribeSecurityGroupsCommand({ Filters: f }));
const describeRules = (w: World, f: Filter[]) =>
  w.b.ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: f }));

const ruleProbes = (egress: boolean): Probe[] => {
  const authorize = (w: World, input: { GroupId: string; IpPermissions: IpPermission[] }) =>
    egress
      ? w.b.ec2.send(new AuthorizeSecurityGroupEgressCommand(input))
      : w.b.ec2.send(new AuthorizeSecurityGroupIngressCommand(input));
  return [
    probe("securityGroup", "GroupId", (w, id) => authorize(w, { GroupId: id, IpPermissions: SSH_FROM_DOCS })),
    // Names for ingress only: EC2 takes GroupName for the default VPC's groups, never for egress.
    ...(egress
      ? []
      : [
          probe("securityGroupName", "GroupName", (w, name) =>
            w.b.ec2.send(
              new AuthorizeSecurityGroupIngressCommand({ GroupName: name, IpPermissions: SSH_FROM_DOCS }),
            ),
          ),
          probe("securityGroupName", "SourceSecurityGroupName (B's default group)", (w, name) =>
            w.b.ec2.send(
              new AuthorizeSecurityGroupIngressCommand({
                GroupName: "default",
                SourceSecurityGroupName: name,
              }),
            ),
          ),
        ]),
    probe("securityGroup", "IpPermissions UserIdGroupPairs.GroupId (B's group)", (w, id) =>
      authorize(w, { GroupId: w.bNet.groupId, IpPermissions: fromGroup(id) }),
    ),
    probe("securityGroup", "IpPermissions UserIdGroupPairs.GroupId, UserId A (B's group)", (w, id) =>
      authorize(w, { GroupId: w.bNet.groupId, IpPermissions: fromGroup(id, w.a.account.accountId) }),
    ),
    probe("securityGroupName", "IpPermissions UserIdGroupPairs.GroupName, UserId A (B's group)", (w, name) =>
      authorize(w, {
        GroupId: w.bNet.groupId,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: 443,
            ToPort: 443,
            UserIdGroupPairs: [{ GroupName: name, UserId: w.a.account.accountId }],
          },
        ],
      }),
    ),
  ];
};

const revokeProbes = (egress: boolean): Probe[] => {
  const revoke = (
    w: World,
    input: { GroupId: string; IpPermissions?: IpPermission[]; SecurityGroupRuleIds?: string[] },
  ) =>
    egress
      ? w.b.ec2.send(new RevokeSecurityGroupEgressCommand(input))
      : w.b.ec2.send(new RevokeSecurityGroupIngressCommand(input));
  return [
    probe("securityGroup", "GroupId (A's rule)", (w, id) =>
      revoke(w, { GroupId: id, IpPermissions: SSH_FROM_DOCS }),
    ),
    ...(egress
      ? []
      : [
          probe("securityGroupName", "GroupName (A's rule)", (w, name) =>
            w.b.ec2.send(
              new RevokeSecurityGroupIngressCommand({ GroupName: name, IpPermissions: SSH_FROM_DOCS }),
            ),
          ),
        ]),
    probe("securityGroupRule", "SecurityGroupRuleIds (B's group)", (w, id) =>
      revoke(w, { GroupId: w.bNet.groupId, SecurityGroupRuleIds: [id] }),
    ),
    probe("securityGroup", "IpPermissions UserIdGroupPairs.GroupId (B's group)", (w, id) =>
      revoke(w, { GroupId: w.bNet.groupId, IpPermissions: fromGroup(id) }),
    ),
  ];
};

export const securityGroupProbes: Record<string, Probe[]> = {
  CreateSecurityGroup: [
    probe("vpc", "VpcId", (w, id) =>
      w.b.ec2.send(new CreateSecurityGroupCommand({ GroupName: "b-in-a", Description: "b", VpcId: id })),
    ),
    // Group names are per VPC: B may name a group of its own as A named one.
    probe(
      "securityGroupName",
      "GroupName (B's VPC)",
      async (w, name) => {
        await w.b.ec2.send(
          new CreateSecurityGroupCommand({ GroupName: name, Description: "b", VpcId: w.bNet.vpcId }),
        );
        return {};
      },
      async (w, name) => {
        const g = await w.b.ec2.send(
          new DescribeSecurityGroupsCommand({
            Filters: [...filter("group-name", name), ...filter("vpc-id", w.bNet.vpcId)],
          }),
        );
        await w.b.ec2.send(new DeleteSecurityGroupCommand({ GroupId: g.SecurityGroups![0].GroupId }));
      },
    ),
  ],
  DescribeSecurityGroups: [
    probe("securityGroup", "GroupIds", (w, id) =>
      w.b.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] })),
    ),
    probe("securityGroup", "GroupIds (after B's own)", (w, id) =>
      w.b.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [w.bNet.groupId, id] })),
    ),
    probe("securityGroupName", "GroupNames", (w, name) =>
      w.b.ec2.send(new DescribeSecurityGroupsCommand({ GroupNames: [name] })),
    ),
    ...filterProbes(
      "securityGroup",
      ["group-id", "ip-permission.group-id", "egress.ip-permission.group-id"],
      describeGroups,
    ),
    ...filterProbes("securityGroupName", ["group-name", "ip-permission.group-name"], describeGroups),
    ...filterProbes("vpc", ["vpc-id"], describeGroups),
  ],
  DeleteSecurityGroup: [
    probe("securityGroup", "GroupId", (w, id) =>
      w.b.ec2.send(new DeleteSecurityGroupCommand({ GroupId: id })),
    ),
    probe("securityGroupName", "GroupName", (w, name) =>
      w.b.ec2.send(new DeleteSecurityGroupCommand({ GroupName: name })),
    ),
  ],
  AuthorizeSecurityGroupIngress: ruleProbes(false),
  AuthorizeSecurityGroupEgress: ruleProbes(true),
  RevokeSecurityGroupIngress: revokeProbes(false),
  RevokeSecurityGroupEgress: revokeProbes(true),
  DescribeSecurityGroupRules: [
    probe("securityGroupRule", "SecurityGroupRuleIds", (w, id) =>
      w.b.ec2.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [id] })),
    ),
    ...filterProbes("securityGroupRule", ["security-group-rule-id"], describeRules),
    ...filterProbes("securityGroup", ["group-id"], describeRules),
  ],
  ModifySecurityGroupRules: [
    probe("securityGroup", "GroupId (A's rule)", (w, id, t) =>
      w.b.ec2.send(
        new ModifySecurityGroupRulesCommand({
          GroupId: id,
          SecurityGroupRules: [
            {
              SecurityGroupRuleId: w.targets.find((x) => x.kind === "securityGroupRule")?.id ?? t.id,
              SecurityGroupRule: { IpProtocol: "tcp", FromPort: 22, ToPort: 22, CidrIpv4: "0.0.0.0/0" },
            },
          ],
        }),
      ),
    ),
    probe("securityGroup", "ReferencedGroupId (B's group and rule)", (w, id) =>
      w.b.ec2.send(
        new ModifySecurityGroupRulesCommand({
          GroupId: w.bNet.groupId,
          SecurityGroupRules: [
            {
              SecurityGroupRuleId: w.bNet.ruleId,
              SecurityGroupRule: { IpProtocol: "tcp", FromPort: 443, ToPort: 443, ReferencedGroupId: id },
            },
          ],
        }),
      ),
    ),
    probe("securityGroupRule", "SecurityGroupRuleId (B's group)", (w, id) =>
      w.b.ec2.send(
        new ModifySecurityGroupRulesCommand({
          GroupId: w.bNet.groupId,
          SecurityGroupRules: [
            {
              SecurityGroupRuleId: id,
              SecurityGroupRule: { IpProtocol: "tcp", FromPort: 22, ToPort: 22, CidrIpv4: "0.0.0.0/0" },
            },
          ],
        }),
      ),
    ),
  ],
};
