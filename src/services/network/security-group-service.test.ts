// The service over a real (in-memory) SQLite store, with fakes of the VPC and interface seams.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isStrataError, StrataError } from "../../errors.ts";
import { migrations } from "../../storage/metadata/sqlite/migrations.ts";
import { SqliteDatabase } from "../../storage/metadata/sqlite/sqlite-database.ts";
import { SqliteSecurityGroupStore } from "../../storage/metadata/sqlite/sqlite-security-group-store.ts";
import type { GroupMember, GroupMembership, VpcLookup } from "./contracts.ts";
import type { VpcRecord } from "./network-records.ts";
import type { SecurityGroupLimits } from "./security-group-checks.ts";
import { parsePermissions } from "./security-group-rules.ts";
import { SecurityGroupService } from "./security-group-service.ts";

const A = "111111111111";
const B = "222222222222";
const code = (c: string) => (e: unknown) => isStrataError(e) && e.code === c;

/** Each account: a default VPC vpc-d<account> and a non-default vpc-n<account>. */
class FakeVpcs implements VpcLookup {
  groups?: SecurityGroupService;
  #vpc(ownerId: string, isDefault: boolean): VpcRecord {
    return {
      id: `vpc-${isDefault ? "d" : "n"}${ownerId}`,
      ownerId,
      cidr: isDefault ? "172.31.0.0/16" : "10.0.0.0/16",
      isDefault,
      createdAt: "",
    };
  }
  async vpc(ownerId: string, vpcId: string): Promise<VpcRecord> {
    for (const d of [true, false]) if (this.#vpc(ownerId, d).id === vpcId) return this.#vpc(ownerId, d);
    throw new StrataError("InvalidVpcID.NotFound", `The vpc ID '${vpcId}' does not exist`);
  }
  async defaultVpc(ownerId: string): Promise<VpcRecord> {
    const vpc = this.#vpc(ownerId, true);
    await this.groups?.createDefaultGroup(ownerId, vpc.id);
    return vpc;
  }
}

class FakeMembership implements GroupMembership {
  members: GroupMember[] = [];
  async membersOf(groupIds: string[]): Promise<GroupMember[]> {
    return this.members.filter((m) => m.groupIds.some((g) => groupIds.includes(g)));
  }
}

function setup(limits?: SecurityGroupLimits) {
  const db = new SqliteDatabase(":memory:", migrations);
  const vpcs = new FakeVpcs();
  const membership = new FakeMembership();
  const service = new SecurityGroupService(
    "us-east-1",
    new SqliteSecurityGroupStore(db),
    vpcs,
    membership,
    limits,
  );
  vpcs.groups = service;
  const changes: string[] = [];
  service.onChange((vpcId) => changes.push(vpcId));
  return { service, membership, changes };
}

const ssh = parsePermissions([
  { ipProtocol: "tcp", fromPort: 22, toPort: 22, ipRanges: [{ cidrIp: "0.0.0.0/0" }] },
]);

/** Everything the account can see: groups with their rules (ids left out where random). */
async function snapshot(service: SecurityGroupService, account: string) {
  const groups = await service.describe(account);
  const rules = await service.rulesByGroup(groups.map((g) => g.id));
  return groups.map((g) => ({ ...g, rules: rules.get(g.id) }));
}

test("a new group: in the default VPC when none is given, EC2's default egress rule, change emitted", async () => {
  const { service, changes } = setup();
  const g = await service.create(A, { name: "web", description: "Web servers" });
  assert.match(g.id, /^sg-[0-9a-f]{17}$/);
  assert.equal(g.vpcId, `vpc-d${A}`);
  const rules = (await service.rulesByGroup([g.id])).get(g.id) ?? [];
  assert.deepEqual(
    rules.map((r) => [r.egress, r.protocol, r.fromPort, r.toPort, r.cidr, r.referencedGroupId]),
    [[true, "-1", -1, -1, "0.0.0.0/0", null]],
  );
  // The default VPC's default group came with first use: all from itself, all out.
  const def = await service.byName(A, "default");
  assert.equal(def.description, "default VPC security group");
  const defRules = (await service.rulesByGroup([def.id])).get(def.id) ?? [];
  assert.deepEqual(
    defRules.map((r) => [r.egress, r.protocol, r.cidr, r.referencedGroupId]),
    [
      [false, "-1", null, def.id],
      [true, "-1", "0.0.0.0/0", null],
    ],
  );
  assert.ok(changes.includes(`vpc-d${A}`));
  // Names are unique per VPC, case-insensitively; the same name in another VPC is fine.
  await assert.rejects(service.create(A, { name: "WEB", description: "x" }), code("InvalidGroup.Duplicate"));
  const other = await service.create(A, { name: "web", description: "x", vpcId: `vpc-n${A}` });
  assert.equal(other.vpcId, `vpc-n${A}`);
  await assert.rejects(
    service.create(A, { name: "default", description: "x" }),
    code("InvalidGroup.Reserved"),
  );
  await assert.rejects(service.create(A, { name: "sg-1", description: "x" }), code("InvalidParameterValue"));
  await assert.rejects(
    service.create(A, { name: "x".repeat(256), description: "x" }),
    code("InvalidParameterValue"),
  );
  await assert.rejects(service.create(A, { name: "ok", description: "é" }), code("InvalidParameterValue"));
  await assert.rejects(
    service.create(A, { name: "ok", description: "x", vpcId: `vpc-n${B}` }),
    code("InvalidVpcID.NotFound"),
  );
});

test("another account's groups do not exist for it", async () => {
  const { service } = setup();
  const g = await service.create(A, { name: "web", description: "x" });
  const before = await snapshot(service, A);
  await assert.rejects(service.owned(B, g.id), code("InvalidGroup.NotFound"));
  await assert.rejects(service.describe(B, { ids: [g.id] }), code("InvalidGroup.NotFound"));
  await assert.rejects(service.authorize(B, { groupId: g.id }, false, ssh), code("InvalidGroup.NotFound"));
  await assert.rejects(service.delete(B, { groupId: g.id }), code("InvalidGroup.NotFound"));
  await assert.rejects(service.delete(B, { groupName: "web" }), code("InvalidGroup.NotFound"));
  // B cannot reference A's group from its own, by id or with A's account as UserId.
  const mine = await service.create(B, { name: "mine", description: "x" });
  for (const pair of [{ groupId: g.id }, { groupId: g.id, userId: A }]) {
    const spec = parsePermissions([{ ipProtocol: "tcp", fromPort: 80, toPort: 80, groups: [pair] }]);
    await assert.rejects(
      service.authorize(B, { groupId: mine.id }, false, spec),
      code("InvalidGroup.NotFound"),
    );
  }
  assert.deepEqual((await service.describe(B)).map((x) => x.name).sort(), ["default", "mine"]);
  assert.deepEqual(await snapshot(service, A), before);
  await assert.rejects(service.owned(A, "sg-nothex"), code("InvalidGroupId.Malformed"));
});

test("authorize: all or nothing; duplicates and limits refused; revoke by properties and by id", async () => {
  const { service, changes } = setup({ groupsPerRegion: 2500, rulesPerDirection: 3 });
  const g = await service.create(A, { name: "web", description: "x", vpcId: `vpc-n${A}` });
  const client = await service.create(A, { name: "client", description: "x", vpcId: `vpc-n${A}` });
  changes.length = 0;
  const added = await service.authorize(A, { groupId: g.id }, false, [
    ...ssh,
    ...parsePermissions([{ ipProtocol: "tcp", fromPort: 80, toPort: 80, groups: [{ groupId: client.id }] }]),
  ]);
  assert.deepEqual(
    added.map((r) => [r.protocol, r.fromPort, r.cidr, r.referencedGroupId]),
    [
      ["tcp", 22, "0.0.0.0/0", null],
      ["tcp", 80, null, client.id],
    ],
  );
  assert.deepEqual(changes, [`vpc-n${A}`]);
  const before = await snapshot(service, A);
  // One new and one existing rule: nothing added.
  const mixed = parsePermissions([
    { ipProtocol: "udp", fromPort: 53, toPort: 53, ipRanges: [{ cidrIp: "10.0.0.0/8" }] },
    { ipProtocol: "6", fromPort: 22, toPort: 22, ipRanges: [{ cidrIp: "0.0.0.0/0", description: "other" }] },
  ]);
  await assert.rejects(
    service.authorize(A, { groupId: g.id }, false, mixed),
    (e) =>
      code("InvalidPermission.Duplicate")(e) && /peer: 0\.0\.0\.0\/0, TCP, from port: 22/.test(String(e)),
  );
  // Two more inbound rules would make 4 > 3.
  const two = parsePermissions([
    {
      ipProtocol: "udp",
      fromPort: 53,
      toPort: 53,
      ipRanges: [{ cidrIp: "10.0.0.0/8" }, { cidrIp: "10.1.0.0/16" }],
    },
  ]);
  await assert.rejects(
    service.authorize(A, { groupId: g.id }, false, two),
    code("RulesPerSecurityGroupLimitExceeded"),
  );
  // A group of another VPC cannot be referenced.
  const elsewhere = await service.create(A, { name: "elsewhere", description: "x" });
  const ref = parsePermissions([{ ipProtocol: "-1", groups: [{ groupId: elsewhere.id }] }]);
  await assert.rejects(service.authorize(A, { groupId: g.id }, false, ref), code("InvalidGroup.NotFound"));
  // Names of groups are for the default VPC only (this one is not).
  await assert.rejects(service.authorize(A, { groupName: "web" }, false, ssh), code("InvalidGroup.NotFound"));
  assert.deepEqual(await snapshot(service, A).then((s) => s.filter((x) => x.vpcId === `vpc-n${A}`)), before);
  // The rule, then the default VPC's default group and the group "elsewhere": refused calls announce nothing.
  assert.deepEqual(changes, [`vpc-n${A}`, `vpc-d${A}`, `vpc-d${A}`], "only committed changes are announced");

  // Revoke in a non-default VPC: a rule that does not exist is InvalidPermission.NotFound, nothing revoked.
  const missing = parsePermissions([
    ...[{ ipProtocol: "tcp", fromPort: 22, toPort: 22, ipRanges: [{ cidrIp: "0.0.0.0/0" }] }],
    { ipProtocol: "tcp", fromPort: 443, toPort: 443, ipRanges: [{ cidrIp: "0.0.0.0/0" }] },
  ]);
  await assert.rejects(
    service.revoke(A, { groupId: g.id }, false, { specs: missing }),
    code("InvalidPermission.NotFound"),
  );
  assert.deepEqual(await snapshot(service, A).then((s) => s.filter((x) => x.vpcId === `vpc-n${A}`)), before);
  // Egress rules are not ingress rules.
  await assert.rejects(
    service.revoke(A, { groupId: g.id }, true, { specs: ssh }),
    code("InvalidPermission.NotFound"),
  );
  const { revoked, unknown } = await service.revoke(A, { groupId: g.id }, false, { specs: ssh });
  assert.deepEqual(unknown, []);
  assert.deepEqual(
    revoked.map((r) => r.id),
    [added[0].id],
  );
  await assert.rejects(
    service.revoke(A, { groupId: g.id }, false, { ruleIds: ["sgr-0123456789abcdef0"] }),
    code("InvalidSecurityGroupRuleId.NotFound"),
  );
  await assert.rejects(
    service.revoke(A, { groupId: g.id }, false, { ruleIds: ["sgr-x"] }),
    code("InvalidSecurityGroupRuleId.Malformed"),
  );
  await service.revoke(A, { groupId: g.id }, false, { ruleIds: [added[1].id] });
  const left = (await service.rulesByGroup([g.id])).get(g.id) ?? [];
  assert.deepEqual(
    left.map((r) => [r.egress, r.protocol]),
    [[true, "-1"]],
  );
});

test("revoke in the default VPC: unknown rules are answered, the others revoked", async () => {
  const { service } = setup();
  const g = await service.create(A, { name: "web", description: "x" });
  await service.authorize(A, { groupName: "web" }, false, ssh);
  const https = parsePermissions([
    { ipProtocol: "tcp", fromPort: 443, toPort: 443, ipRanges: [{ cidrIp: "0.0.0.0/0" }] },
  ]);
  const { revoked, unknown } = await service.revoke(A, { groupName: "web" }, false, {
    specs: [...ssh, ...https],
  });
  assert.deepEqual(
    revoked.map((r) => [r.protocol, r.fromPort, r.cidr]),
    [["tcp", 22, "0.0.0.0/0"]],
  );
  assert.deepEqual(unknown, [
    {
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      ipRanges: [{ cidrIp: "0.0.0.0/0", description: undefined }],
      groups: undefined,
    },
  ]);
  const rules = (await service.rulesByGroup([g.id])).get(g.id) ?? [];
  assert.equal(rules.filter((r) => !r.egress).length, 0);
});

test("delete: the default group never; not while an interface has it or another group references it", async () => {
  const { service, membership, changes } = setup();
  const web = await service.create(A, { name: "web", description: "x" });
  const client = await service.create(A, { name: "client", description: "x" });
  await service.authorize(
    A,
    { groupId: web.id },
    false,
    parsePermissions([{ ipProtocol: "tcp", fromPort: 80, toPort: 80, groups: [{ groupName: "client" }] }]),
  );
  await assert.rejects(service.delete(A, { groupName: "default" }), code("CannotDelete"));
  await assert.rejects(service.delete(A, { groupId: client.id }), code("DependencyViolation"));
  membership.members = [
    {
      networkInterfaceId: "eni-1",
      instanceId: "i-1",
      vpcId: web.vpcId,
      privateIp: "172.31.0.4",
      groupIds: [web.id],
    },
  ];
  await assert.rejects(service.delete(A, { groupId: web.id }), code("DependencyViolation"));
  assert.equal((await service.describe(A)).length, 3);
  membership.members = [];
  changes.length = 0;
  await service.delete(A, { groupId: web.id });
  assert.deepEqual(changes, [web.vpcId]);
  // With the referencing rule gone, the client group can go too; the default group stays.
  await service.delete(A, { groupName: "client" });
  assert.deepEqual(
    (await service.describe(A)).map((g) => g.name),
    ["default"],
  );
  assert.deepEqual(await service.describeRules(A).then((r) => r.map((x) => x.groupId)), [
    (await service.byName(A, "default")).id,
    (await service.byName(A, "default")).id,
  ]);
});

test("limits: groups per region", async () => {
  const { service } = setup({ groupsPerRegion: 3, rulesPerDirection: 60 });
  await service.create(A, { name: "a", description: "x" }); // + the default group = 2
  await service.create(A, { name: "b", description: "x" });
  await assert.rejects(
    service.create(A, { name: "c", description: "x" }),
    code("SecurityGroupLimitExceeded"),
  );
  assert.deepEqual((await service.describe(A)).map((g) => g.name).sort(), ["a", "b", "default"]);
  await service.create(B, { name: "c", description: "x" });
});

test("launches: ids in the VPC, names in the default VPC, else the default group", async () => {
  const { service } = setup();
  const web = await service.create(A, { name: "web", description: "x" });
  const other = await service.create(A, { name: "other", description: "x", vpcId: `vpc-n${A}` });
  const dv = `vpc-d${A}`;
  assert.deepEqual(
    (await service.resolveForLaunch(A, dv, [web.id], undefined)).map((g) => g.id),
    [web.id],
  );
  assert.deepEqual(
    (await service.resolveForLaunch(A, dv, undefined, ["web"])).map((g) => g.id),
    [web.id],
  );
  assert.deepEqual(
    (await service.resolveForLaunch(A, dv, undefined, undefined)).map((g) => g.name),
    ["default"],
  );
  await assert.rejects(service.resolveForLaunch(A, dv, [other.id], undefined), code("InvalidParameter"));
  await assert.rejects(
    service.resolveForLaunch(A, `vpc-n${A}`, undefined, ["other"]),
    code("InvalidParameterCombination"),
  );
  await assert.rejects(
    service.resolveForLaunch(B, `vpc-d${B}`, [web.id], undefined),
    code("InvalidGroup.NotFound"),
  );
  // The non-default VPC's default group is created on demand (as VpcService does with the VPC).
  const def = await service.resolveForLaunch(A, `vpc-n${A}`, undefined, undefined);
  assert.equal(def[0].name, "default");
  assert.equal((await service.createDefaultGroup(A, `vpc-n${A}`)).id, def[0].id, "idempotent");
  assert.deepEqual((await service.groupsInVpc(`vpc-n${A}`)).map((g) => g.name).sort(), ["default", "other"]);
  assert.deepEqual(
    [...(await service.byIds([web.id, other.id, "sg-0000000000000000f"])).keys()].sort(),
    [other.id, web.id].sort(),
  );
  await service.deleteGroupsOfVpc(`vpc-n${A}`);
  assert.deepEqual(await service.groupsInVpc(`vpc-n${A}`), []);
  assert.ok((await service.describeRules(A)).every((r) => r.groupId !== other.id));
});

test("firewallFor: the VPC's attached interfaces, rules resolved to members", async () => {
  const { service, membership } = setup();
  const web = await service.create(A, { name: "web", description: "x" });
  const client = await service.create(A, { name: "client", description: "x" });
  await service.authorize(
    A,
    { groupId: web.id },
    false,
    parsePermissions([{ ipProtocol: "tcp", fromPort: 80, toPort: 80, groups: [{ groupId: client.id }] }]),
  );
  const vpcId = web.vpcId;
  membership.members = [
    { networkInterfaceId: "eni-w", instanceId: "i-w", vpcId, privateIp: "172.31.0.4", groupIds: [web.id] },
    { networkInterfaceId: "eni-c", instanceId: "i-c", vpcId, privateIp: "172.31.0.5", groupIds: [client.id] },
  ];
  const fw = await service.firewallFor(vpcId);
  assert.deepEqual(fw.find((f) => f.instanceId === "i-w")?.ingress, [
    { protocol: "tcp", fromPort: 80, toPort: 80, cidrs: ["172.31.0.5/32"] },
  ]);
  assert.deepEqual(fw.find((f) => f.instanceId === "i-c")?.ingress, []);
  assert.deepEqual(fw.find((f) => f.instanceId === "i-c")?.egress, [
    { protocol: "all", cidrs: ["0.0.0.0/0"] },
  ]);
  assert.deepEqual(await service.firewallFor(`vpc-n${A}`), []);
});

test("modify rules: new form in place (same id and direction), all or none", async () => {
  const { service, changes } = setup();
  const g = await service.create(A, { name: "web", description: "x" });
  const [sshRule] = await service.authorize(A, { groupId: g.id }, false, [
    ...ssh,
    ...parsePermissions([
      { ipProtocol: "tcp", fromPort: 80, toPort: 80, ipRanges: [{ cidrIp: "10.0.0.0/8" }] },
    ]),
  ]);
  const before = await snapshot(service, A);
  const to80 = { ipProtocol: "tcp", fromPort: 80, toPort: 80, ipRanges: [{ cidrIp: "10.0.0.0/8" }] };
  await assert.rejects(
    service.modifyRules(A, g.id, [{ ruleId: sshRule.id, permission: to80 }]),
    code("InvalidPermission.Duplicate"),
  );
  await assert.rejects(
    service.modifyRules(A, g.id, [
      { ruleId: sshRule.id, permission: { ...to80, fromPort: 443, toPort: 443 } },
      { ruleId: "sgr-0123456789abcdef0", permission: to80 },
    ]),
    code("InvalidSecurityGroupRuleId.NotFound"),
  );
  await assert.rejects(
    service.modifyRules(A, g.id, [{ ruleId: sshRule.id, permission: { ...to80, fromPort: 90000 } }]),
    code("InvalidParameterValue"),
  );
  await assert.rejects(
    service.modifyRules(B, g.id, [{ ruleId: sshRule.id, permission: to80 }]),
    code("InvalidGroup.NotFound"),
  );
  assert.deepEqual(await snapshot(service, A), before);
  changes.length = 0;
  await service.modifyRules(A, g.id, [
    {
      ruleId: sshRule.id,
      permission: {
        ipProtocol: "udp",
        fromPort: 53,
        toPort: 53,
        ipRanges: [{ cidrIp: "10.0.0.2/32", description: "dns" }],
      },
    },
  ]);
  assert.deepEqual(changes, [g.vpcId]);
  const rule = (await service.describeRules(A, [sshRule.id]))[0];
  assert.deepEqual(
    [rule.egress, rule.protocol, rule.fromPort, rule.toPort, rule.cidr, rule.description],
    [false, "udp", 53, 53, "10.0.0.2/32", "dns"],
  );
});
