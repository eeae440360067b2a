// What every NetworkStore must do, checked through the interface (and CatalogStore for tags):
// records read back exactly, a unit of work commits all or nothing, lookups and list orders,
// concurrent check-then-insert units, group membership.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { NetworkStore, NetworkTx } from "../../src/storage/metadata/network-store.ts";
import { account, byteSorted, type Open, type Opened, uid } from "./harness.ts";
import {
  address,
  associated,
  gateway,
  type NetworkStores,
  nic,
  routeTable,
  subnet,
  vpc,
} from "./network-fixtures.ts";
import { networkLookupsContract } from "./network-lookups.contract.ts";

export function networkStoreContract(name: string, open: Open<NetworkStores>): void {
  describe(`NetworkStore contract: ${name}`, () => {
    let h: Opened<NetworkStores>;
    let s: NetworkStore;
    const tx = <T>(fn: (t: NetworkTx) => Promise<T>) => s.tx(fn);
    before(async () => {
      h = await open();
      s = h.store.network;
    });
    after(() => h.close());

    it("reads back every record exactly as written, and as replaced", async () => {
      const owner = account();
      const v = vpc(owner);
      const sn = subnet(v, { mapPublicIpOnLaunch: false, defaultForAz: true });
      const igw = gateway(owner, null);
      const rtb = routeTable(v, {
        main: true,
        associations: [
          { id: uid("rtbassoc"), subnetId: sn.id, main: false },
          { id: uid("rtbassoc"), subnetId: null, main: true },
        ],
      });
      const n = nic(sn, { publicIp: null, instanceId: null, attachmentId: null, deviceIndex: 1 });
      const a = address(owner);
      await tx(async (t) => {
        await t.insertVpc(v);
        await t.insertSubnet(sn);
        await t.insertGateway(igw);
        await t.putRouteTable(rtb);
        await t.putInterface(n);
        await t.putAddress(a);
      });
      await tx(async (t) => {
        assert.deepEqual(await t.vpc(v.id), v);
        assert.deepEqual(await t.subnet(sn.id), sn);
        assert.deepEqual(await t.gateway(igw.id), igw);
        // The main association first, then by id.
        assert.deepEqual(await t.routeTable(rtb.id), { ...rtb, associations: rtb.associations.toReversed() });
        assert.deepEqual(await t.networkInterface(n.id), n);
        assert.deepEqual(await t.address(a.allocationId), a);
        assert.equal(await t.vpc(uid("vpc")), undefined);
        assert.equal(await t.subnet(uid("subnet")), undefined);
        assert.equal(await t.gateway(uid("igw")), undefined);
        assert.equal(await t.routeTable(uid("rtb")), undefined);
        assert.equal(await t.networkInterface(uid("eni")), undefined);
        assert.equal(await t.address(uid("eipalloc")), undefined);
      });

      const n2 = { ...nic(sn), id: n.id, groupIds: [], started: false, autoPublic: false };
      const a2 = associated(a, n2);
      const rtb2 = { ...rtb, main: false, routes: [], associations: [] };
      await tx(async (t) => {
        await t.updateSubnet({ ...sn, mapPublicIpOnLaunch: true });
        await t.updateGateway({ ...igw, vpcId: v.id });
        await t.putRouteTable(rtb2);
        await t.putInterface(n2);
        await t.putAddress(a2);
      });
      await tx(async (t) => {
        assert.deepEqual(await t.subnet(sn.id), { ...sn, mapPublicIpOnLaunch: true });
        assert.deepEqual(await t.gateway(igw.id), { ...igw, vpcId: v.id });
        assert.deepEqual(await t.routeTable(rtb.id), rtb2);
        assert.equal(await t.routeTableOfAssociation(rtb.associations[0].id), undefined);
        assert.deepEqual(await t.networkInterface(n.id), n2);
        assert.deepEqual(await t.address(a.allocationId), a2);
      });

      await tx(async (t) => {
        await t.deleteAddress(a.allocationId);
        await t.deleteInterface(n.id);
        await t.deleteRouteTable(rtb.id);
        await t.deleteGateway(igw.id);
        await t.deleteSubnet(sn.id);
        await t.deleteVpc(v.id);
      });
      await tx(async (t) => {
        assert.equal(await t.address(a.allocationId), undefined);
        assert.equal(await t.networkInterface(n.id), undefined);
        assert.equal(await t.routeTable(rtb.id), undefined);
        assert.equal(await t.gateway(igw.id), undefined);
        assert.equal(await t.subnet(sn.id), undefined);
        assert.equal(await t.vpc(v.id), undefined);
      });
    });

    it("marks a VPC's default group ready; the others are listed by id", async () => {
      const owner = account();
      const [v1, v2] = [vpc(owner), vpc(owner)];
      await tx(async (t) => {
        await t.insertVpc(v2);
        await t.insertVpc(v1);
      });
      const mine = async () => (await tx((t) => t.vpcsWithoutGroup())).filter((v) => v.ownerId === owner);
      assert.deepEqual(await mine(), [v1, v2]);
      await tx((t) => t.markGroupReady(v1.id));
      assert.deepEqual(await mine(), [v2]);
      assert.equal(await tx((t) => t.groupReady(v1.id)), true);
      assert.equal(await tx((t) => t.groupReady(v2.id)), false);
      assert.equal(await tx((t) => t.groupReady(uid("vpc"))), false);
    });

    it("a unit that throws leaves nothing of it, and rejects with its own error", async () => {
      const owner = account();
      const kept = vpc(owner);
      await tx((t) => t.insertVpc(kept));
      const v = vpc(owner, { isDefault: true });
      const sn = subnet(v);
      const n = nic(sn);
      const a = address(owner);
      const boom = new Error("refused after writing");
      const seen: unknown[] = [];
      await assert.rejects(
        tx(async (t) => {
          await t.insertVpc(v);
          await t.insertSubnet(sn);
          await t.insertGateway(gateway(owner, v.id));
          await t.putRouteTable(
            routeTable(v, { associations: [{ id: uid("rtbassoc"), subnetId: sn.id, main: false }] }),
          );
          await t.putInterface(n);
          await t.putAddress(a);
          await t.insertTags([v.id, kept.id], [{ key: "Name", value: "gone" }]);
          await t.markGroupReady(kept.id);
          await t.deleteVpc(kept.id);
          seen.push(await t.vpc(v.id), await t.vpc(kept.id)); // its own writes, inside it
          throw boom;
        }),
        (e) => e === boom,
      );
      assert.deepEqual(seen, [v, undefined]);
      await tx(async (t) => {
        assert.deepEqual(await t.vpcsOf(owner), [kept]);
        assert.equal(await t.defaultVpcOf(owner), undefined);
        assert.deepEqual(await t.subnetsInVpc(v.id), []);
        assert.equal(await t.gatewayOfVpc(v.id), undefined);
        assert.deepEqual(await t.routeTablesInVpc(v.id), []);
        assert.deepEqual(await t.interfacesInVpc(v.id), []);
        assert.equal(await t.macInUse(n.mac), false);
        assert.deepEqual(await t.addressesOf(owner), []);
        assert.equal(await t.groupReady(kept.id), false);
      });
      assert.deepEqual(await h.store.catalog.tags(v.id), []);
      assert.deepEqual(await h.store.catalog.tags(kept.id), []);
    });

    it("a unit that returns commits everything and resolves with its value", async () => {
      const owner = account();
      const v = vpc(owner);
      const sn = subnet(v);
      const n = nic(sn);
      const result = await tx(async (t) => {
        await t.insertVpc(v);
        await t.insertSubnet(sn);
        await t.putInterface(n);
        await t.insertTags([v.id], [{ key: "Name", value: "kept ✓" }]);
        return { vpc: v.id, subnets: (await t.subnetsInVpc(v.id)).length };
      });
      assert.deepEqual(result, { vpc: v.id, subnets: 1 });
      await tx(async (t) => {
        assert.deepEqual(await t.vpcsOf(owner), [v]);
        assert.deepEqual(await t.subnetsOf(owner), [sn]);
        assert.deepEqual(await t.interfacesOf(owner), [n]);
      });
      assert.deepEqual(await h.store.catalog.tags(v.id), [{ key: "Name", value: "kept ✓" }]);
    });

    it("inserts tags on many resources (a key given twice keeps the last), deletes all of a resource's", async () => {
      const [x, y, z] = [uid("vpc"), uid("subnet"), uid("igw")];
      await tx(async (t) => {
        await t.insertTags([x, y, z], [{ key: "Name", value: "first" }]);
        await t.insertTags(
          [x, y],
          [
            { key: "env", value: "dev" },
            { key: "Name", value: "second" },
            { key: "Name", value: "third" },
          ],
        );
        await t.insertTags([], [{ key: "k", value: "v" }]);
        await t.insertTags([x], []);
      });
      const tags = (id: string) => h.store.catalog.tags(id);
      const both = [
        { key: "Name", value: "third" },
        { key: "env", value: "dev" },
      ];
      assert.deepEqual(await tags(x), both);
      assert.deepEqual(await tags(y), both);
      assert.deepEqual(await tags(z), [{ key: "Name", value: "first" }]);
      await tx(async (t) => {
        await t.deleteTags([x, z]);
        await t.deleteTags([]);
      });
      assert.deepEqual(await tags(x), []);
      assert.deepEqual(await tags(y), both);
      assert.deepEqual(await tags(z), []);
    });

    it("of units racing to check for the owner's default VPC and create one, exactly one creates it", async () => {
      for (const racers of [2, 4]) {
        const owner = account();
        let attempts = 0;
        const results = await Promise.all(
          Array.from({ length: racers }, () =>
            tx(async (t) => {
              attempts++;
              const found = await t.defaultVpcOf(owner);
              if (found) return found;
              // The others check now (PostgreSQL) or wait for this unit (SQLite).
              await sleep(30);
              const v = vpc(owner, { isDefault: true });
              await t.insertVpc(v);
              await t.insertSubnet(subnet(v));
              await t.insertGateway(gateway(owner, v.id));
              return v;
            }),
          ),
        );
        const stored = await tx((t) => t.vpcsOf(owner));
        assert.equal(stored.length, 1);
        assert.deepEqual(results, Array(racers).fill(stored[0]));
        assert.equal((await tx((t) => t.subnetsOf(owner))).length, 1);
        assert.equal((await tx((t) => t.gatewaysOf(owner))).length, 1);
        console.log(`# ${name}: ${racers} racing units ran ${attempts} attempts`);
      }
    });

    it("lists group members: interfaces with any of the groups, by id, each once", async () => {
      const owner = account();
      const v = vpc(owner);
      const sn = subnet(v);
      const [g1, g2, g3] = [uid("sg"), uid("sg"), uid("sg")];
      const ids = byteSorted([uid("eni"), uid("eni"), uid("eni")]);
      const a = nic(sn, { id: ids[0], groupIds: [g2, g1] });
      const b = nic(sn, { id: ids[1], groupIds: [g3], instanceId: null });
      const c = nic(sn, { id: ids[2], groupIds: [g1] });
      await tx(async (t) => {
        for (const n of [c, b, a]) await t.putInterface(n);
      });
      const member = (n: typeof a) => ({
        networkInterfaceId: n.id,
        instanceId: n.instanceId,
        vpcId: n.vpcId,
        privateIp: n.privateIp,
        groupIds: n.groupIds,
      });
      assert.deepEqual(await s.membersOf([g1]), [member(a), member(c)]);
      assert.deepEqual(await s.membersOf([g3, g1, g2]), [member(a), member(b), member(c)]);
      assert.deepEqual(await s.membersOf([g3]), [member(b)]);
      assert.deepEqual(await s.membersOf([uid("sg")]), []);
      assert.deepEqual(await s.membersOf([]), []);
      await tx((t) => t.putInterface({ ...c, groupIds: [g3] }));
      assert.deepEqual(await s.membersOf([g1]), [member(a)]);
    });

    it("an interface's groups must exist in its unit; a group with a member is not deleted; racing, one wins", async () => {
      const groups = h.store.securityGroups;
      const owner = account();
      const sn = subnet(vpc(owner));
      const group = () => ({
        id: uid("sg"),
        ownerId: owner,
        vpcId: sn.vpcId,
        name: uid("g"),
        description: "d",
      });
      const [kept, missing] = [group(), group()];
      await groups.insertGroup(kept, [], [], null);
      const n = nic(sn, { groupIds: [kept.id, missing.id] });
      await assert.rejects(
        tx(async (t) => {
          await t.requireGroups(n.groupIds);
          await t.putInterface(n);
        }),
        (e: { code?: string; message: string }) =>
          e.code === "InvalidGroup.NotFound" && e.message.includes(missing.id),
      );
      assert.equal(await tx((t) => t.networkInterface(n.id)), undefined);
      await tx(async (t) => {
        await t.requireGroups([kept.id]);
        await t.requireGroups([]);
        await t.putInterface({ ...n, groupIds: [kept.id] });
      });
      await assert.rejects(groups.deleteGroup(kept.id), (e: { code?: string; message: string }) => {
        return e.code === "DependencyViolation" && e.message.includes(n.id);
      });
      assert.equal((await groups.group(kept.id))?.id, kept.id);
      // A unit giving an interface a group, racing the group's deletion: never both.
      for (let i = 0; i < 5; i++) {
        const g = group();
        await groups.insertGroup(g, [], [], null);
        const m = nic(sn, { groupIds: [g.id] });
        const [put, del] = await Promise.allSettled([
          tx(async (t) => {
            await t.requireGroups(m.groupIds);
            await sleep(5);
            await t.putInterface(m);
          }),
          groups.deleteGroup(g.id),
        ]);
        const added = put.status === "fulfilled";
        assert.equal(del.status === "fulfilled", !added, "one of the two wins");
        const lost = (added ? del : put) as PromiseRejectedResult;
        assert.equal(lost.reason.code, added ? "DependencyViolation" : "InvalidGroup.NotFound");
        assert.equal((await groups.group(g.id)) !== undefined, added);
        assert.equal((await tx((t) => t.networkInterface(m.id))) !== undefined, added);
      }
    });

    networkLookupsContract(() => s);
  });
}
