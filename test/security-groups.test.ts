// Security groups through the real SDK and Debian's aws CLI against a real daemon (no VMs):
// EC2's shapes and codes, nothing changed by a refused call, accounts isolated.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  type AuthorizeSecurityGroupIngressCommandInput,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeTagsCommand,
  DescribeVpcsCommand,
  type EC2Client,
  ModifySecurityGroupRulesCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroup,
} from "@aws-sdk/client-ec2";
import { type Daemon, startDaemon } from "./daemon.ts";
import {
  type Account,
  AWS_CLI,
  adminCredentials,
  awsCli,
  awsCliError,
  createAccount,
  ec2,
} from "./ec2-helpers.ts";
import { tempDir } from "./helpers.ts";

const _run = promisify(execFile);
const dataDir = tempDir();
let daemon: Daemon;
let admin: EC2Client;
let other: EC2Client;
let otherAccount: Account;

before(async () => {
  daemon = await startDaemon(dataDir, "us-east-1");
  admin = ec2(daemon, adminCredentials(dataDir));
  otherAccount = await createAccount(dataDir, "other");
  other = ec2(daemon, otherAccount);
});
after(async () => {
  await daemon.kill("SIGTERM");
});

async function groups(client: EC2Client, ids?: string[]): Promise<SecurityGroup[]> {
  return (await client.send(new DescribeSecurityGroupsCommand({ GroupIds: ids }))).SecurityGroups ?? [];
}

function ec2Code(c: string) {
  return (e: unknown) => {
    assert.equal((e as { name: string }).name, c, String(e));
    return true;
  };
}

test("create, describe, authorize, revoke, delete with the SDK; EC2's defaults and shapes", async () => {
  const created = await admin.send(
    new CreateSecurityGroupCommand({
      GroupName: "web",
      Description: "Web servers",
      VpcId: "", // as Packer sends it: the default VPC
      TagSpecifications: [{ ResourceType: "security-group", Tags: [{ Key: "Name", Value: "web" }] }],
    }),
  );
  const webId = created.GroupId!;
  assert.match(webId, /^sg-[0-9a-f]{17}$/);
  assert.deepEqual(created.Tags, [{ Key: "Name", Value: "web" }]);
  const [web] = await groups(admin, [webId]);
  const all = await groups(admin);
  const def = all.find((g) => g.GroupName === "default")!;
  assert.equal(web.VpcId, def.VpcId, "created in the default VPC");
  assert.match(web.VpcId!, /^vpc-/);
  assert.equal(web.OwnerId, all[0].OwnerId);
  assert.deepEqual(web.IpPermissions, []);
  assert.deepEqual(web.IpPermissionsEgress, [
    {
      IpProtocol: "-1",
      IpRanges: [{ CidrIp: "0.0.0.0/0" }],
      Ipv6Ranges: [],
      PrefixListIds: [],
      UserIdGroupPairs: [],
    },
  ]);
  assert.equal(web.SecurityGroupArn, `arn:aws:ec2:us-east-1:${web.OwnerId}:security-group/${webId}`);
  // The default group: all inbound from its own members, all outbound.
  assert.equal(def.Description, "default VPC security group");
  assert.deepEqual(def.IpPermissions, [
    {
      IpProtocol: "-1",
      IpRanges: [],
      Ipv6Ranges: [],
      PrefixListIds: [],
      UserIdGroupPairs: [{ GroupId: def.GroupId, UserId: def.OwnerId }],
    },
  ]);

  const client = await admin.send(
    new CreateSecurityGroupCommand({ GroupName: "client", Description: "Clients" }),
  );
  const auth = await admin.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: webId,
      IpPermissions: [
        {
          IpProtocol: "tcp",
          FromPort: 22,
          ToPort: 22,
          IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "ssh" }],
        },
        { IpProtocol: "6", FromPort: 80, ToPort: 80, UserIdGroupPairs: [{ GroupId: client.GroupId }] },
        { IpProtocol: "icmp", FromPort: 8, ToPort: -1, IpRanges: [{ CidrIp: "10.0.0.0/8" }] },
      ],
      TagSpecifications: [{ ResourceType: "security-group-rule", Tags: [{ Key: "team", Value: "a" }] }],
    }),
  );
  assert.equal(auth.Return, true);
  assert.deepEqual(
    auth.SecurityGroupRules?.map((r) => [
      r.IpProtocol,
      r.FromPort,
      r.ToPort,
      r.CidrIpv4,
      r.ReferencedGroupInfo?.GroupId,
      r.IsEgress,
      r.Tags?.[0]?.Value,
    ]),
    [
      ["tcp", 22, 22, "0.0.0.0/0", undefined, false, "a"],
      ["tcp", 80, 80, undefined, client.GroupId, false, "a"],
      ["icmp", 8, -1, "10.0.0.0/8", undefined, false, "a"],
    ],
  );
  for (const r of auth.SecurityGroupRules ?? []) assert.match(r.SecurityGroupRuleId!, /^sgr-[0-9a-f]{17}$/);
  // The older top-level form (CidrIp, IpProtocol, FromPort, ToPort) by group name (default VPC).
  await admin.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupName: "web",
      IpProtocol: "tcp",
      FromPort: 443,
      ToPort: 443,
      CidrIp: "192.0.2.0/24",
    }),
  );
  await admin.send(
    new AuthorizeSecurityGroupEgressCommand({
      GroupId: webId,
      IpPermissions: [
        { IpProtocol: "udp", FromPort: 53, ToPort: 53, IpRanges: [{ CidrIp: "172.31.0.2/32" }] },
      ],
    }),
  );
  const [after] = await groups(admin, [webId]);
  assert.deepEqual(after.IpPermissions, [
    {
      IpProtocol: "tcp",
      FromPort: 22,
      ToPort: 22,
      IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "ssh" }],
      Ipv6Ranges: [],
      PrefixListIds: [],
      UserIdGroupPairs: [],
    },
    {
      IpProtocol: "tcp",
      FromPort: 80,
      ToPort: 80,
      IpRanges: [],
      Ipv6Ranges: [],
      PrefixListIds: [],
      UserIdGroupPairs: [{ GroupId: client.GroupId, UserId: web.OwnerId }],
    },
    {
      IpProtocol: "icmp",
      FromPort: 8,
      ToPort: -1,
      IpRanges: [{ CidrIp: "10.0.0.0/8" }],
      Ipv6Ranges: [],
      PrefixListIds: [],
      UserIdGroupPairs: [],
    },
    {
      IpProtocol: "tcp",
      FromPort: 443,
      ToPort: 443,
      IpRanges: [{ CidrIp: "192.0.2.0/24" }],
      Ipv6Ranges: [],
      PrefixListIds: [],
      UserIdGroupPairs: [],
    },
  ]);
  assert.equal(after.IpPermissionsEgress?.length, 2);

  // Filters.
  const names = async (Filters: { Name: string; Values: string[] }[]) =>
    ((await admin.send(new DescribeSecurityGroupsCommand({ Filters }))).SecurityGroups ?? [])
      .map((g) => g.GroupName)
      .sort();
  assert.deepEqual(await names([{ Name: "ip-permission.from-port", Values: ["22"] }]), ["web"]);
  assert.deepEqual(await names([{ Name: "ip-permission.group-id", Values: [client.GroupId!] }]), ["web"]);
  assert.deepEqual(await names([{ Name: "ip-permission.group-name", Values: ["client"] }]), ["web"]);
  assert.deepEqual(await names([{ Name: "ip-permission.cidr", Values: ["192.0.2.*"] }]), ["web"]);
  assert.deepEqual(await names([{ Name: "ip-permission.protocol", Values: ["-1"] }]), ["default"]);
  assert.deepEqual(await names([{ Name: "egress.ip-permission.protocol", Values: ["-1"] }]), [
    "client",
    "default",
    "web",
  ]);
  assert.deepEqual(await names([{ Name: "egress.ip-permission.to-port", Values: ["53"] }]), ["web"]);
  assert.deepEqual(await names([{ Name: "tag:Name", Values: ["web"] }]), ["web"]);
  assert.deepEqual(
    await names([
      { Name: "vpc-id", Values: [web.VpcId!] },
      { Name: "group-name", Values: ["c*"] },
    ]),
    ["client"],
  );
  assert.deepEqual(await names([{ Name: "description", Values: ["Web servers"] }]), ["web"]);
  await assert.rejects(
    admin.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "nope", Values: ["x"] }] })),
    ec2Code("InvalidParameterValue"),
  );
  const byName = await admin.send(new DescribeSecurityGroupsCommand({ GroupNames: ["client"] }));
  assert.deepEqual(
    byName.SecurityGroups?.map((g) => g.GroupId),
    [client.GroupId],
  );

  // DescribeSecurityGroupRules, and the rules' and groups' tags.
  const rules = await admin.send(
    new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [webId] }] }),
  );
  assert.equal(rules.SecurityGroupRules?.length, 6);
  const sshRule = rules.SecurityGroupRules!.find((r) => r.FromPort === 22)!;
  assert.deepEqual(sshRule.Tags, [{ Key: "team", Value: "a" }]);
  assert.equal(sshRule.Description, "ssh");
  const one = await admin.send(
    new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [sshRule.SecurityGroupRuleId!] }),
  );
  assert.deepEqual(one.SecurityGroupRules, [sshRule]);
  await admin.send(new CreateTagsCommand({ Resources: [client.GroupId!], Tags: [{ Key: "k", Value: "v" }] }));
  const tags = await admin.send(new DescribeTagsCommand({}));
  assert.deepEqual(
    tags.Tags?.map((t) => [t.ResourceId, t.ResourceType, t.Key]).sort(),
    [
      [client.GroupId, "security-group", "k"],
      [webId, "security-group", "Name"],
      ...auth.SecurityGroupRules!.map((r) => [r.SecurityGroupRuleId, "security-group-rule", "team"]),
    ].sort(),
  );

  // ModifySecurityGroupRules: the ICMP rule becomes a TCP rule, same id, its tags kept.
  const icmpRule = rules.SecurityGroupRules!.find((r) => r.IpProtocol === "icmp")!;
  await assert.rejects(
    admin.send(
      new ModifySecurityGroupRulesCommand({
        GroupId: webId,
        SecurityGroupRules: [
          {
            SecurityGroupRuleId: icmpRule.SecurityGroupRuleId,
            SecurityGroupRule: { IpProtocol: "tcp", FromPort: 22, ToPort: 22, CidrIpv4: "0.0.0.0/0" },
          },
        ],
      }),
    ),
    ec2Code("InvalidPermission.Duplicate"),
  );
  const modified = await admin.send(
    new ModifySecurityGroupRulesCommand({
      GroupId: webId,
      SecurityGroupRules: [
        {
          SecurityGroupRuleId: icmpRule.SecurityGroupRuleId,
          SecurityGroupRule: {
            IpProtocol: "tcp",
            FromPort: 8080,
            ToPort: 8081,
            CidrIpv4: "10.0.0.0/8",
            Description: "alt",
          },
        },
      ],
    }),
  );
  assert.equal(modified.Return, true);
  const [icmpAfter] =
    (
      await admin.send(
        new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [icmpRule.SecurityGroupRuleId!] }),
      )
    ).SecurityGroupRules ?? [];
  assert.deepEqual(
    [
      icmpAfter.IpProtocol,
      icmpAfter.FromPort,
      icmpAfter.ToPort,
      icmpAfter.CidrIpv4,
      icmpAfter.Description,
      icmpAfter.Tags,
    ],
    ["tcp", 8080, 8081, "10.0.0.0/8", "alt", [{ Key: "team", Value: "a" }]],
  );

  // Revoke: by properties (default VPC: unknown rules are answered, the others revoked) and by id.
  const revoked = await admin.send(
    new RevokeSecurityGroupIngressCommand({
      GroupId: webId,
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
        { IpProtocol: "tcp", FromPort: 23, ToPort: 23, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
      ],
    }),
  );
  assert.equal(revoked.Return, true);
  assert.deepEqual(
    revoked.RevokedSecurityGroupRules?.map((r) => r.SecurityGroupRuleId),
    [sshRule.SecurityGroupRuleId],
  );
  assert.deepEqual(revoked.UnknownIpPermissions, [
    { IpProtocol: "tcp", FromPort: 23, ToPort: 23, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
  ]);
  const egressRule = rules.SecurityGroupRules!.find((r) => r.IsEgress && r.FromPort === 53)!;
  const byId = await admin.send(
    new RevokeSecurityGroupEgressCommand({
      GroupId: webId,
      SecurityGroupRuleIds: [egressRule.SecurityGroupRuleId!],
    }),
  );
  assert.deepEqual(
    byId.RevokedSecurityGroupRules?.map((r) => [r.IpProtocol, r.FromPort, r.CidrIpv4, r.IsEgress]),
    [["udp", 53, "172.31.0.2/32", true]],
  );
  const [final] = await groups(admin, [webId]);
  assert.deepEqual(
    final.IpPermissions?.map((p) => p.FromPort),
    [80, 443, 8080],
  );
  assert.equal(final.IpPermissionsEgress?.length, 1);
  const ruleTags = (await admin.send(new DescribeTagsCommand({}))).Tags ?? [];
  assert.ok(
    !ruleTags.some((t) => t.ResourceId === sshRule.SecurityGroupRuleId),
    "a revoked rule's tags go with it",
  );

  // Delete: the default group never; the client group not while web's rule references it.
  await assert.rejects(
    admin.send(new DeleteSecurityGroupCommand({ GroupId: def.GroupId })),
    ec2Code("CannotDelete"),
  );
  await assert.rejects(
    admin.send(new DeleteSecurityGroupCommand({ GroupId: client.GroupId })),
    ec2Code("DependencyViolation"),
  );
  await assert.rejects(
    admin.send(new DeleteSecurityGroupCommand({ GroupId: webId, DryRun: true })),
    ec2Code("DryRunOperation"),
  );
  const del = await admin.send(new DeleteSecurityGroupCommand({ GroupId: webId }));
  assert.equal(del.GroupId, webId);
  await admin.send(new DeleteSecurityGroupCommand({ GroupName: "client" }));
  assert.deepEqual(
    (await groups(admin)).map((g) => g.GroupName),
    ["default"],
  );
  await assert.rejects(groups(admin, [webId]), ec2Code("InvalidGroup.NotFound"));
  assert.ok(
    !((await admin.send(new DescribeTagsCommand({}))).Tags ?? []).some((t) => t.ResourceId === webId),
  );
});

test("a new account's first DescribeSecurityGroups or DescribeSecurityGroupRules shows its default group", async () => {
  // On EC2 every account has its default VPC's default group from the start; Strata makes them on
  // first use, and listing groups or rules is one (the web console's list starts there).
  const first = ec2(daemon, await createAccount(dataDir, "first-groups"));
  const listed = await groups(first);
  assert.deepEqual(
    listed.map((g) => [g.GroupName, g.Description]),
    [["default", "default VPC security group"]],
  );
  const vpcs = (await first.send(new DescribeVpcsCommand({}))).Vpcs ?? [];
  assert.deepEqual(
    vpcs.map((v) => [v.VpcId, v.IsDefault]),
    [[listed[0].VpcId, true]],
  );
  const second = ec2(daemon, await createAccount(dataDir, "first-rules"));
  const rules = (await second.send(new DescribeSecurityGroupRulesCommand({}))).SecurityGroupRules ?? [];
  assert.deepEqual(rules.map((r) => [r.IsEgress, r.IpProtocol]).sort(), [
    [false, "-1"],
    [true, "-1"],
  ]);
  assert.deepEqual(
    (await groups(second)).map((g) => g.GroupId),
    [rules[0].GroupId],
  );
});

test("bad rules and groups: EC2's codes, nothing changed", async () => {
  const { GroupId } = await admin.send(
    new CreateSecurityGroupCommand({ GroupName: "strict", Description: "x" }),
  );
  await admin.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId,
      IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
    }),
  );
  const before = await groups(admin);
  const beforeRules = (await admin.send(new DescribeSecurityGroupRulesCommand({}))).SecurityGroupRules;
  const ok = { IpProtocol: "udp", FromPort: 53, ToPort: 53, IpRanges: [{ CidrIp: "10.0.0.0/8" }] };
  const cases: [string, AuthorizeSecurityGroupIngressCommandInput][] = [
    ["InvalidParameterValue", { GroupId, IpPermissions: [ok, { ...ok, FromPort: 70000, ToPort: 70000 }] }],
    ["InvalidParameterValue", { GroupId, IpPermissions: [ok, { ...ok, FromPort: 80, ToPort: 22 }] }],
    ["InvalidParameterValue", { GroupId, IpPermissions: [ok, { ...ok, IpProtocol: "gre" }] }],
    ["InvalidParameterValue", { GroupId, IpPermissions: [ok, { ...ok, IpProtocol: "47" }] }],
    [
      "InvalidParameterValue",
      { GroupId, IpPermissions: [ok, { ...ok, IpRanges: [{ CidrIp: "10.0.0.0/33" }] }] },
    ],
    ["InvalidParameterValue", { GroupId, IpPermissions: [ok, { ...ok, IpRanges: [{ CidrIp: "banana" }] }] }],
    [
      "InvalidParameterValue",
      { GroupId, IpPermissions: [{ ...ok, IpProtocol: "icmp", FromPort: 300, ToPort: 0 }] },
    ],
    ["InvalidParameterValue", { GroupId, IpProtocol: "tcp", FromPort: -5, ToPort: 22, CidrIp: "0.0.0.0/0" }],
    ["InvalidParameterValue", { GroupId, IpProtocol: "tcp", FromPort: 22, ToPort: 22, CidrIp: "1.2.3.4/40" }],
    [
      "InvalidPermission.Malformed",
      { GroupId, IpPermissions: [ok, { IpProtocol: "tcp", FromPort: 1, ToPort: 2 }] },
    ],
    [
      "InvalidPermission.Duplicate",
      {
        GroupId,
        IpPermissions: [
          ok,
          { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
        ],
      },
    ],
    ["InvalidGroup.NotFound", { GroupId: "sg-0123456789abcdef0", IpPermissions: [ok] }],
    ["InvalidGroupId.Malformed", { GroupId: "sg-zz", IpPermissions: [ok] }],
    ["InvalidGroup.NotFound", { GroupName: "nosuch", IpPermissions: [ok] }],
    [
      "InvalidGroup.NotFound",
      {
        GroupId,
        IpPermissions: [{ ...ok, IpRanges: [], UserIdGroupPairs: [{ GroupId: "sg-0123456789abcdef0" }] }],
      },
    ],
    ["InvalidParameterCombination", { GroupId, IpPermissions: [ok], CidrIp: "0.0.0.0/0" }],
    ["MissingParameter", { IpPermissions: [ok] }],
    ["DryRunOperation", { GroupId, IpPermissions: [ok], DryRun: true }],
  ];
  for (const [c, input] of cases) {
    await assert.rejects(
      admin.send(new AuthorizeSecurityGroupIngressCommand(input)),
      ec2Code(c),
      JSON.stringify(input),
    );
  }
  await assert.rejects(
    admin.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId,
        IpProtocol: "tcp",
        FromPort: 1,
        ToPort: 1,
        CidrIp: "0.0.0.0/0",
      }),
    ),
    ec2Code("InvalidParameterValue"),
  );
  // 60 inbound rules at most: 1 exists, 60 more are refused as a whole.
  const sixty = Array.from({ length: 60 }, (_, i) => ({ CidrIp: `10.0.${i}.0/24` }));
  await assert.rejects(
    admin.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId,
        IpPermissions: [{ IpProtocol: "tcp", FromPort: 80, ToPort: 80, IpRanges: sixty }],
      }),
    ),
    ec2Code("RulesPerSecurityGroupLimitExceeded"),
  );
  for (const [c, input] of [
    ["InvalidGroup.Duplicate", { GroupName: "STRICT", Description: "x" }],
    ["InvalidGroup.Reserved", { GroupName: "default", Description: "x" }],
    ["InvalidParameterValue", { GroupName: "sg-mine", Description: "x" }],
    ["InvalidParameterValue", { GroupName: "n".repeat(256), Description: "x" }],
    ["MissingParameter", { GroupName: "nodesc", Description: "" }],
    ["MissingParameter", { GroupName: "", Description: "x" }],
    ["InvalidVpcID.NotFound", { GroupName: "elsewhere", Description: "x", VpcId: "vpc-0123456789abcdef0" }],
    ["DryRunOperation", { GroupName: "dry", Description: "x", DryRun: true }],
  ] as const) {
    await assert.rejects(
      admin.send(new CreateSecurityGroupCommand(input)),
      ec2Code(c),
      JSON.stringify(input),
    );
  }
  // Revoke in the default VPC answers unknown rules; a rule id that does not exist is an error.
  await assert.rejects(
    admin.send(
      new RevokeSecurityGroupIngressCommand({ GroupId, SecurityGroupRuleIds: ["sgr-0123456789abcdef0"] }),
    ),
    ec2Code("InvalidSecurityGroupRuleId.NotFound"),
  );
  await assert.rejects(
    admin.send(
      new RevokeSecurityGroupIngressCommand({ GroupId, IpPermissions: [{ ...ok, FromPort: 99999 }] }),
    ),
    ec2Code("InvalidParameterValue"),
  );
  assert.deepEqual(await groups(admin), before);
  assert.deepEqual(
    (await admin.send(new DescribeSecurityGroupRulesCommand({}))).SecurityGroupRules,
    beforeRules,
  );
  await admin.send(new DeleteSecurityGroupCommand({ GroupId }));
});

test("another account cannot see, change or reference a group", async () => {
  const { GroupId } = await admin.send(
    new CreateSecurityGroupCommand({ GroupName: "private", Description: "x" }),
  );
  const before = await groups(admin, [GroupId!]);
  const perm = { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] };
  await assert.rejects(groups(other, [GroupId!]), ec2Code("InvalidGroup.NotFound"));
  await assert.rejects(
    other.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: [perm] })),
    ec2Code("InvalidGroup.NotFound"),
  );
  await assert.rejects(
    other.send(
      new RevokeSecurityGroupEgressCommand({
        GroupId,
        IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
      }),
    ),
    ec2Code("InvalidGroup.NotFound"),
  );
  await assert.rejects(
    other.send(new DeleteSecurityGroupCommand({ GroupId })),
    ec2Code("InvalidGroup.NotFound"),
  );
  await assert.rejects(
    other.send(new DeleteSecurityGroupCommand({ GroupName: "private" })),
    ec2Code("InvalidGroup.NotFound"),
  );
  await assert.rejects(
    other.send(new CreateTagsCommand({ Resources: [GroupId!], Tags: [{ Key: "a", Value: "b" }] })),
    ec2Code("InvalidGroup.NotFound"),
  );
  const own = await other.send(
    new CreateSecurityGroupCommand({ GroupName: "private", Description: "same name, own VPC" }),
  );
  for (const pair of [{ GroupId }, { GroupId, UserId: before[0].OwnerId }]) {
    await assert.rejects(
      other.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: own.GroupId,
          IpPermissions: [{ IpProtocol: "tcp", FromPort: 80, ToPort: 80, UserIdGroupPairs: [pair] }],
        }),
      ),
      ec2Code("InvalidGroup.NotFound"),
    );
  }
  const visible = await groups(other);
  assert.deepEqual(visible.map((g) => g.GroupName).sort(), ["default", "private"]);
  assert.ok(visible.every((g) => g.OwnerId === otherAccount.accountId && g.GroupId !== GroupId));
  assert.notEqual(visible[0].VpcId, before[0].VpcId, "each account has its own default VPC");
  const otherRules = (await other.send(new DescribeSecurityGroupRulesCommand({}))).SecurityGroupRules ?? [];
  assert.ok(otherRules.every((r) => r.GroupOwnerId === otherAccount.accountId));
  assert.deepEqual(await groups(admin, [GroupId!]), before);
  await admin.send(new DeleteSecurityGroupCommand({ GroupId }));
});

const aws = (args: string[]) => awsCli(daemon, dataDir, args);
const awsError = (args: string[]) => awsCliError(daemon, dataDir, args);

test("the aws CLI: create-security-group, authorize/revoke with --protocol --port --cidr", {
  skip: !existsSync(AWS_CLI) && "Debian's awscli is not installed (scripts/setup.sh installs it)",
}, async () => {
  const created = (await aws([
    "ec2",
    "create-security-group",
    "--group-name",
    "cli-web",
    "--description",
    "Allow SSH",
  ])) as { GroupId: string };
  const rule = ["--group-id", created.GroupId, "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0"];
  const auth = (await aws(["ec2", "authorize-security-group-ingress", ...rule])) as {
    Return: boolean;
    SecurityGroupRules: { IpProtocol: string; FromPort: number; ToPort: number; CidrIpv4: string }[];
  };
  assert.equal(auth.Return, true);
  assert.deepEqual(
    auth.SecurityGroupRules.map((r) => [r.IpProtocol, r.FromPort, r.ToPort, r.CidrIpv4]),
    [["tcp", 22, 22, "0.0.0.0/0"]],
  );
  const describe = async () =>
    (
      (await aws(["ec2", "describe-security-groups", "--group-ids", created.GroupId])) as {
        SecurityGroups: SecurityGroup[];
      }
    ).SecurityGroups[0];
  const shown = await describe();
  assert.equal(shown.GroupName, "cli-web");
  assert.deepEqual(shown.IpPermissions, [
    {
      IpProtocol: "tcp",
      FromPort: 22,
      ToPort: 22,
      IpRanges: [{ CidrIp: "0.0.0.0/0" }],
      Ipv6Ranges: [],
      PrefixListIds: [],
      UserIdGroupPairs: [],
    },
  ]);
  // Bad input through the CLI: EC2's codes, nothing changed.
  assert.match(
    await awsError(["ec2", "authorize-security-group-ingress", ...rule]),
    /InvalidPermission\.Duplicate/,
  );
  const bad = ["--group-id", created.GroupId, "--protocol", "tcp", "--port", "70000", "--cidr", "0.0.0.0/0"];
  assert.match(await awsError(["ec2", "authorize-security-group-ingress", ...bad]), /InvalidParameterValue/);
  const badCidr = [
    "--group-id",
    created.GroupId,
    "--protocol",
    "tcp",
    "--port",
    "80",
    "--cidr",
    "0.0.0.0/99",
  ];
  assert.match(
    await awsError(["ec2", "authorize-security-group-ingress", ...badCidr]),
    /InvalidParameterValue/,
  );
  const badProto = ["--group-id", created.GroupId, "--protocol", "47", "--port", "80", "--cidr", "0.0.0.0/0"];
  assert.match(
    await awsError(["ec2", "authorize-security-group-ingress", ...badProto]),
    /InvalidParameterValue/,
  );
  assert.deepEqual(await describe(), shown);

  const revoked = (await aws(["ec2", "revoke-security-group-ingress", ...rule])) as { Return: boolean };
  assert.equal(revoked.Return, true);
  assert.deepEqual((await describe()).IpPermissions, []);
  const rules = (await aws([
    "ec2",
    "describe-security-group-rules",
    "--filters",
    `Name=group-id,Values=${created.GroupId}`,
  ])) as { SecurityGroupRules: { IsEgress: boolean; IpProtocol: string; CidrIpv4: string }[] };
  assert.deepEqual(
    rules.SecurityGroupRules.map((r) => [r.IsEgress, r.IpProtocol, r.CidrIpv4]),
    [[true, "-1", "0.0.0.0/0"]],
  );
  await aws(["ec2", "delete-security-group", "--group-id", created.GroupId]);
  assert.match(
    await awsError(["ec2", "describe-security-groups", "--group-ids", created.GroupId]),
    /InvalidGroup\.NotFound/,
  );
});

test("groups and rules outlive a daemon restart, ids and all", async () => {
  const { GroupId } = await admin.send(
    new CreateSecurityGroupCommand({ GroupName: "durable", Description: "x" }),
  );
  await admin.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId,
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, IpRanges: [{ CidrIp: "10.0.0.0/8" }] },
      ],
    }),
  );
  const before = await groups(admin);
  const rulesBefore = (await admin.send(new DescribeSecurityGroupRulesCommand({}))).SecurityGroupRules;
  await daemon.kill("SIGTERM");
  daemon = await startDaemon(dataDir, "us-east-1");
  admin = ec2(daemon, adminCredentials(dataDir));
  assert.deepEqual(await groups(admin), before);
  assert.deepEqual(
    (await admin.send(new DescribeSecurityGroupRulesCommand({}))).SecurityGroupRules,
    rulesBefore,
  );
  // The default group is not made twice.
  assert.equal(before.filter((g) => g.GroupName === "default").length, 1);
  await admin.send(new DeleteSecurityGroupCommand({ GroupId }));
});
