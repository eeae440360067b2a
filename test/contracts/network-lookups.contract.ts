// NetworkStore's lookups and list orders (part of network-store.contract.ts).
import assert from "node:assert/strict";
import { it } from "node:test";
import type { NetworkStore, NetworkTx, StoredInterface } from "../../src/storage/metadata/network-store.ts";
import { account, byteSorted, uid } from "./harness.ts";
import {
  address,
  associated,
  gateway,
  nic,
  privateIp,
  publicIp,
  routeTable,
  subnet,
  vpc,
} from "./network-fixtures.ts";

/** n ids of a kind in byte order, upper and lower case mixed (ORDER BY id is byte order on both). */
function sortedIds(prefix: string, n: number): string[] {
  return byteSorted(Array.from({ length: n }, (_, i) => (i % 2 ? uid(prefix).toUpperCase() : uid(prefix))));
}

export function networkLookupsContract(store: () => NetworkStore): void {
  const tx = <T>(fn: (t: NetworkTx) => Promise<T>) => store().tx(fn);

  it("finds the owner's default VPC and a VPC's attached gateway", async () => {
    const [owner, other] = [account(), account()];
    const plain = vpc(owner);
    const igw = gateway(owner, plain.id);
    await tx(async (t) => {
      await t.insertVpc(plain);
      await t.insertGateway(gateway(owner, null));
      await t.insertGateway(igw);
    });
    assert.equal(await tx((t) => t.defaultVpcOf(owner)), undefined);
    const def = vpc(owner, { isDefault: true, cidr: "172.31.0.0/16" });
    await tx((t) => t.insertVpc(def));
    await tx(async (t) => {
      assert.deepEqual(await t.defaultVpcOf(owner), def);
      assert.equal(await t.defaultVpcOf(other), undefined);
      assert.deepEqual(await t.gatewayOfVpc(plain.id), igw);
      assert.equal(await t.gatewayOfVpc(def.id), undefined);
      await t.updateGateway({ ...igw, vpcId: null });
      assert.equal(await t.gatewayOfVpc(plain.id), undefined);
    });
  });

  it("finds a route table by its main or explicit association", async () => {
    const v = vpc(account());
    const [s1, s2] = [subnet(v), subnet(v, { cidr: "10.9.32.0/20" })];
    const main = routeTable(v, {
      main: true,
      associations: [{ id: uid("rtbassoc"), subnetId: null, main: true }],
    });
    const custom = routeTable(v, {
      associations: [
        { id: uid("rtbassoc"), subnetId: s2.id, main: false },
        { id: uid("rtbassoc"), subnetId: s1.id, main: false },
      ],
    });
    await tx(async (t) => {
      await t.putRouteTable(custom);
      await t.putRouteTable(main);
    });
    await tx(async (t) => {
      assert.deepEqual(await t.routeTableOfAssociation(main.associations[0].id), main);
      assert.deepEqual(await t.routeTableOfAssociation(custom.associations[1].id), custom);
      assert.equal(await t.routeTableOfAssociation(uid("rtbassoc")), undefined);
    });
  });

  it("finds interfaces of instances by instance, then device index; addresses in use", async () => {
    const v = vpc(account());
    const [sa, sb] = [subnet(v), subnet(v, { cidr: "10.9.32.0/20" })];
    const [i1, i2] = byteSorted([uid("i"), uid("i")]);
    const ids = sortedIds("eni", 4);
    // Id order differs from (instance, device index) order.
    const i2eth0 = nic(sa, { id: ids[0], instanceId: i2 });
    const i1eth1 = nic(sa, { id: ids[1], instanceId: i1, deviceIndex: 1, publicIp: null });
    const i1eth0 = nic(sb, { id: ids[2], instanceId: i1 });
    const loose = nic(sa, { id: ids[3], instanceId: null, attachmentId: null, publicIp: null });
    const all = [i2eth0, i1eth1, i1eth0, loose];
    await tx(async (t) => {
      for (const n of all.toReversed()) await t.putInterface(n);
    });
    await tx(async (t) => {
      assert.deepEqual(await t.interfacesOfInstances([i2, uid("i"), i1]), [i1eth0, i1eth1, i2eth0]);
      assert.deepEqual(await t.interfacesOfInstances([i2]), [i2eth0]);
      assert.deepEqual(await t.interfacesOfInstances([]), []);
      const ips = (ns: StoredInterface[]) => ns.map((n) => n.privateIp).sort();
      assert.deepEqual([...(await t.privateIpsInSubnet(sa.id))].sort(), ips([i2eth0, i1eth1, loose]));
      assert.deepEqual(await t.privateIpsInSubnet(sb.id), [i1eth0.privateIp]);
      assert.deepEqual(await t.privateIpsInSubnet(uid("subnet")), []);
      assert.equal(await t.macInUse(i1eth1.mac), true);
      assert.equal(await t.macInUse("02:ff:ff:ff:ff:ff"), false);
    });
  });

  it("public addresses in use are the interfaces' and the Elastic IPs', each once", async () => {
    const owner = account();
    const v = vpc(owner);
    const sn = subnet(v);
    const withIp = nic(sn);
    const without = nic(sn, { publicIp: null });
    const free = address(owner);
    const elastic = associated(address(owner), without);
    const shared = address(owner, { publicIp: withIp.publicIp! }); // the same address in both tables
    await tx(async (t) => {
      for (const n of [withIp, without]) await t.putInterface(n);
      for (const a of [free, elastic, shared]) await t.putAddress(a);
    });
    const mine = [withIp.publicIp!, free.publicIp, elastic.publicIp];
    const inUse = async () => (await tx((t) => t.publicIpsInUse())).filter((ip) => mine.includes(ip)).sort();
    assert.deepEqual(await inUse(), [...mine].sort());
    await tx(async (t) => {
      await t.deleteAddress(shared.allocationId);
      await t.deleteAddress(free.allocationId);
    });
    assert.deepEqual(await inUse(), [withIp.publicIp!, elastic.publicIp].sort());
    await tx((t) => t.putInterface({ ...withIp, publicIp: null }));
    assert.deepEqual(await inUse(), [elastic.publicIp]);
    assert.ok(!(await tx((t) => t.publicIpsInUse())).includes(publicIp()));
  });

  it("finds an Elastic IP by address, association and interface", async () => {
    const owner = account();
    const n = nic(subnet(vpc(owner)));
    const a = associated(address(owner), n);
    const idle = address(owner);
    await tx(async (t) => {
      await t.putInterface(n);
      await t.putAddress(a);
      await t.putAddress(idle);
    });
    await tx(async (t) => {
      assert.deepEqual(await t.addressByIp(a.publicIp), a);
      assert.deepEqual(await t.addressByIp(idle.publicIp), idle);
      assert.equal(await t.addressByIp(publicIp()), undefined);
      assert.deepEqual(await t.addressByAssociation(a.associationId!), a);
      assert.equal(await t.addressByAssociation(uid("eipassoc")), undefined);
      assert.deepEqual(await t.addressOfInterface(n.id), a);
      assert.equal(await t.addressOfInterface(uid("eni")), undefined);
    });
  });

  it("lists every kind by id in byte order (of an owner, in a VPC, in a subnet)", async () => {
    const [owner, other] = [account(), account()];
    const vpcs = sortedIds("vpc", 3).map((id) => vpc(owner, { id }));
    const [v] = vpcs;
    const subnets = sortedIds("subnet", 3).map((id, i) => subnet(v, { id, cidr: `10.9.${i * 16}.0/20` }));
    const gateways = sortedIds("igw", 3).map((id) => ({ ...gateway(owner, null), id }));
    const tables = sortedIds("rtb", 3).map((id) => routeTable(v, { id }));
    const nics = sortedIds("eni", 3).map((id) => nic(subnets[0], { id, privateIp: privateIp() }));
    const addresses = sortedIds("eipalloc", 3).map((allocationId) => address(owner, { allocationId }));
    const theirs = vpc(other);
    await tx(async (t) => {
      await t.insertVpc(theirs);
      await t.insertSubnet(subnet(theirs));
      for (const x of vpcs.toReversed()) await t.insertVpc(x);
      for (const x of subnets.toReversed()) await t.insertSubnet(x);
      for (const x of gateways.toReversed()) await t.insertGateway(x);
      for (const x of tables.toReversed()) await t.putRouteTable(x);
      for (const x of nics.toReversed()) await t.putInterface(x);
      for (const x of addresses.toReversed()) await t.putAddress(x);
    });
    await tx(async (t) => {
      assert.deepEqual(await t.vpcsOf(owner), vpcs);
      assert.deepEqual(await t.subnetsOf(owner), subnets);
      assert.deepEqual(await t.subnetsInVpc(v.id), subnets);
      assert.deepEqual(await t.subnetsInVpc(vpcs[1].id), []);
      assert.deepEqual(await t.gatewaysOf(owner), gateways);
      assert.deepEqual(await t.routeTablesOf(owner), tables);
      assert.deepEqual(await t.routeTablesInVpc(v.id), tables);
      assert.deepEqual(await t.interfacesOf(owner), nics);
      assert.deepEqual(await t.interfacesInVpc(v.id), nics);
      assert.deepEqual(await t.interfacesInSubnet(subnets[0].id), nics);
      assert.deepEqual(await t.interfacesInSubnet(subnets[1].id), []);
      assert.deepEqual(await t.addressesOf(owner), addresses);
      assert.deepEqual(await t.vpcsOf(other), [theirs]);
    });
  });
}
