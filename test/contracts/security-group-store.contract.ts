// What every SecurityGroupStore must do, checked through the interface only.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type {
  SecurityGroupRecord,
  SecurityGroupRuleRecord,
} from "../../src/services/network/network-records.ts";
import type { SecurityGroupStore } from "../../src/storage/metadata/security-group-store.ts";
import { account, byteSorted, type Open, type Opened, rejectsWith, uid } from "./harness.ts";

function group(ownerId: string, vpcId: string, name: string): SecurityGroupRecord {
  return { id: uid("sg"), ownerId, vpcId, name, description: `the ${name} group ✓` };
}

function rule(g: SecurityGroupRecord, over: Partial<SecurityGroupRuleRecord> = {}): SecurityGroupRuleRecord {
  return {
    id: uid("sgr"),
    groupId: g.id,
    ownerId: g.ownerId,
    egress: false,
    protocol: "tcp",
    fromPort: 22,
    toPort: 22,
    cidr: "0.0.0.0/0",
    referencedGroupId: null,
    description: null,
    ...over,
  };
}

export function securityGroupStoreContract(name: string, open: Open<SecurityGroupStore>): void {
  describe(`SecurityGroupStore contract: ${name}`, () => {
    let h: Opened<SecurityGroupStore>;
    let s: SecurityGroupStore;
    before(async () => {
      h = await open();
      s = h.store;
    });
    after(() => h.close());

    it("inserts a group with its rules; names are unique per VPC regardless of ASCII case", async () => {
      const owner = account();
      const vpc = uid("vpc");
      const g = group(owner, vpc, "Web-Servers");
      const r = rule(g, { description: "ssh ✓" });
      await s.insertGroup(g, [r], [{ key: "Name", value: "web" }], null);
      assert.deepEqual(await s.group(g.id), g);
      assert.deepEqual(await s.groupByName(owner, vpc, "web-SERVERS"), g);
      assert.equal(await s.groupByName(owner, uid("vpc"), "Web-Servers"), undefined);
      assert.deepEqual(await s.rulesOf([g.id]), [r]);
      const dup = group(owner, vpc, "WEB-servers");
      await rejectsWith(s.insertGroup(dup, [rule(dup)], [], null), "InvalidGroup.Duplicate");
      assert.equal(await s.group(dup.id), undefined);
      assert.deepEqual(await s.rulesOf([dup.id]), []);
      await s.insertGroup(group(owner, uid("vpc"), "web-servers"), [], [], null); // another VPC
    });

    it("refuses a group past the owner's limit, also when many are created at once", async () => {
      const owner = account();
      const vpc = uid("vpc");
      await s.insertGroup(group(owner, vpc, "one"), [], [], 3);
      const results = await Promise.allSettled(
        ["a", "b", "c", "d", "e"].map((n) => s.insertGroup(group(owner, vpc, n), [], [], 3)),
      );
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 2);
      for (const r of results) {
        if (r.status === "rejected")
          assert.equal((r.reason as { code: string }).code, "SecurityGroupLimitExceeded");
      }
      assert.equal((await s.groupsOf(owner)).length, 3);
      await s.insertGroup(group(owner, vpc, "unlimited"), [], [], null);
    });

    it("lists groups by id: of an owner, in a VPC, by ids", async () => {
      const [owner, other] = [account(), account()];
      const vpc = uid("vpc");
      const gs = [group(owner, vpc, "x"), group(owner, uid("vpc"), "y"), group(other, vpc, "z")];
      for (const g of gs.toReversed()) await s.insertGroup(g, [], [], null);
      assert.deepEqual(await s.groupsOf(owner), [gs[0], gs[1]]);
      assert.deepEqual(await s.groupsInVpc(vpc), [gs[0], gs[2]]);
      assert.deepEqual(await s.groupsByIds([gs[2].id, gs[0].id, "sg-0ffffffffffffffff"]), [gs[0], gs[2]]);
      assert.deepEqual(await s.groupsByIds([]), []);
    });

    it("keeps rules in the order they were added, across groups, not by id", async () => {
      const owner = account();
      const [g1, g2] = [group(owner, uid("vpc"), "g1"), group(owner, uid("vpc"), "g2")];
      const ids = byteSorted([uid("sgr"), uid("sgr"), uid("sgr"), uid("sgr")]).reverse();
      const r1 = rule(g1, { id: ids[0], fromPort: 1, toPort: 1 });
      const r2 = rule(g2, { id: ids[1], egress: true, protocol: "-1", fromPort: -1, toPort: -1 });
      const r3 = rule(g1, {
        id: ids[2],
        protocol: "icmp",
        fromPort: 8,
        toPort: 0,
        cidr: null,
        referencedGroupId: g2.id,
      });
      const r4 = rule(g2, {
        id: ids[3],
        protocol: "udp",
        fromPort: 53,
        toPort: 53,
        cidr: "10.0.0.0/8",
        description: "dns",
      });
      await s.insertGroup(g1, [r1], [], null);
      await s.insertGroup(g2, [r2], [], null);
      await s.addRules(g1.id, [r3], [], 60);
      await s.addRules(g2.id, [r4], [{ key: "k", value: "v" }], 60);
      assert.deepEqual(await s.rulesOf([g2.id, g1.id]), [r1, r2, r3, r4]);
      assert.deepEqual(await s.rulesOf([g2.id]), [r2, r4]);
      assert.deepEqual(await s.rulesOfOwner(owner), [r1, r2, r3, r4]);
      assert.deepEqual(await s.rulesOf([]), []);
    });

    it("adds rules all or none: duplicates (also within one call), limits per direction, unknown group", async () => {
      const g = group(account(), uid("vpc"), "rules");
      const ssh = rule(g);
      await s.insertGroup(g, [ssh], [], null);
      const https = rule(g, { fromPort: 443, toPort: 443 });
      await rejectsWith(s.addRules(g.id, [https, rule(g)], [], 60), "InvalidPermission.Duplicate");
      await rejectsWith(
        s.addRules(g.id, [https, { ...https, id: uid("sgr") }], [], 60),
        "InvalidPermission.Duplicate",
      );
      // Same rule with a description differs only in the description: still a duplicate.
      await rejectsWith(
        s.addRules(g.id, [rule(g, { description: "other" })], [], 60),
        "InvalidPermission.Duplicate",
      );
      assert.deepEqual(await s.rulesOf([g.id]), [ssh]);
      await rejectsWith(
        s.addRules(g.id, [https, rule(g, { fromPort: 80, toPort: 80 })], [], 2),
        "RulesPerSecurityGroupLimitExceeded",
      );
      const out = rule(g, { egress: true });
      await s.addRules(g.id, [https, out], [], 2); // one direction's limit does not count the other's rules
      assert.deepEqual(await s.rulesOf([g.id]), [ssh, https, out]);
      await rejectsWith(
        s.addRules(uid("sg"), [rule(g, { fromPort: 1, toPort: 1 })], [], 60),
        "InvalidGroup.NotFound",
      );
    });

    it("updates rules in place by id, all or none, keeping their tags", async () => {
      const g = group(account(), uid("vpc"), "upd");
      const [a, b] = [rule(g), rule(g, { fromPort: 80, toPort: 80 })];
      await s.insertGroup(g, [a, b], [], null);
      const a2 = { ...a, fromPort: 2222, toPort: 2222, description: "moved" };
      await s.updateRules(g.id, [a2]);
      assert.deepEqual(
        (await s.rulesOf([g.id])).sort((x, y) => x.fromPort - y.fromPort),
        [b, a2],
      );
      await rejectsWith(
        s.updateRules(g.id, [{ ...b, fromPort: 2222, toPort: 2222 }]),
        "InvalidPermission.Duplicate",
      );
      await rejectsWith(
        s.updateRules(g.id, [
          { ...b, fromPort: 1, toPort: 1 },
          { ...rule(g), id: uid("sgr") },
        ]),
        "InvalidSecurityGroupRuleId.NotFound",
      );
      const other = group(account(), uid("vpc"), "other");
      await s.insertGroup(other, [], [], null);
      await rejectsWith(s.updateRules(other.id, [b]), "InvalidSecurityGroupRuleId.NotFound");
      assert.deepEqual(new Set(await s.rulesOf([g.id])), new Set([a2, b]));
    });

    it("replaces updated rules: two may swap forms in one call; replaced ones are listed last", async () => {
      const g = group(account(), uid("vpc"), "order");
      const [a, b, c] = [
        rule(g),
        rule(g, { fromPort: 80, toPort: 80 }),
        rule(g, { fromPort: 443, toPort: 443 }),
      ];
      await s.insertGroup(g, [a, b, c], [], null);
      const [a2, b2] = [
        { ...a, fromPort: 80, toPort: 80 },
        { ...b, fromPort: 22, toPort: 22, description: "x" },
      ];
      await s.updateRules(g.id, [a2, b2]);
      // Not "in place" as the interface says: test/security-groups.test.ts pins this order at the API.
      assert.deepEqual(await s.rulesOf([g.id]), [c, a2, b2]);
    });

    it("removes rules all or none", async () => {
      const g = group(account(), uid("vpc"), "rm");
      const [a, b] = [rule(g), rule(g, { fromPort: 80, toPort: 80 })];
      await s.insertGroup(g, [a, b], [], null);
      await rejectsWith(s.removeRules(g.id, [a.id, uid("sgr")]), "InvalidPermission.NotFound");
      assert.deepEqual(await s.rulesOf([g.id]), [a, b]);
      await s.removeRules(g.id, [a.id]);
      assert.deepEqual(await s.rulesOf([g.id]), [b]);
      await rejectsWith(s.removeRules(g.id, [a.id]), "InvalidPermission.NotFound");
    });

    it("refuses to delete a group another group's rule references; deletes its rules with it", async () => {
      const owner = account();
      const vpc = uid("vpc");
      const [target, user] = [group(owner, vpc, "target"), group(owner, vpc, "user")];
      const self = rule(target, { cidr: null, referencedGroupId: target.id });
      await s.insertGroup(target, [self], [], null);
      const ref = rule(user, { cidr: null, referencedGroupId: target.id });
      await s.insertGroup(user, [ref], [], null);
      await rejectsWith(s.deleteGroup(target.id), "DependencyViolation");
      assert.deepEqual(await s.group(target.id), target);
      await s.removeRules(user.id, [ref.id]);
      await s.deleteGroup(target.id); // its own rule referencing itself does not count
      assert.equal(await s.group(target.id), undefined);
      assert.deepEqual(await s.rulesOf([target.id]), []);
      assert.deepEqual(await s.groupByName(owner, vpc, "TARGET"), undefined);
      await s.insertGroup(group(owner, vpc, "target"), [], [], null); // the name is free again
    });

    it("deletes every group of a VPC with their rules, and no other", async () => {
      const owner = account();
      const [vpc, keep] = [uid("vpc"), uid("vpc")];
      const [a, b, c] = [group(owner, vpc, "a"), group(owner, vpc, "b"), group(owner, keep, "c")];
      await s.insertGroup(a, [rule(a)], [], null);
      await s.insertGroup(b, [rule(b, { cidr: null, referencedGroupId: a.id })], [], null);
      const kept = rule(c);
      await s.insertGroup(c, [kept], [], null);
      await s.deleteGroupsOfVpc(vpc);
      assert.deepEqual(await s.groupsInVpc(vpc), []);
      assert.deepEqual(await s.rulesOf([a.id, b.id]), []);
      assert.deepEqual(await s.groupsInVpc(keep), [c]);
      assert.deepEqual(await s.rulesOf([c.id]), [kept]);
    });
  });
}
