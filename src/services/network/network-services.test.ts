// The network control plane over a real (in-memory) SQLite database, with a fake of the
// security-group service (the real one is built apart, behind SecurityGroupLookup) that keeps its
// groups' rows in the same database, where the network store's units check they exist.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { migrations } from "../../storage/metadata/sqlite/migrations.ts";
import { SqliteDatabase } from "../../storage/metadata/sqlite/sqlite-database.ts";
import { SqliteNetworkStore } from "../../storage/metadata/sqlite/sqlite-network-store.ts";
import { SqliteSecurityGroupStore } from "../../storage/metadata/sqlite/sqlite-security-group-store.ts";
import { AddressService } from "./address-service.ts";
import type { SecurityGroupLookup } from "./contracts.ts";
import { InterfaceService } from "./interface-service.ts";
import { NetworkEvents } from "./network-events.ts";
import type { SecurityGroupRecord } from "./network-records.ts";
import { regionPublicRange } from "./public-pool.ts";
import { RouteService } from "./route-service.ts";
import { VpcService } from "./vpc-service.ts";

class FakeGroups implements SecurityGroupLookup {
  groups: SecurityGroupRecord[] = [];
  readonly rows: SqliteSecurityGroupStore;
  constructor(rows: SqliteSecurityGroupStore) {
    this.rows = rows;
  }
  /** `name`: the fake makes other groups the same way. */
  async createDefaultGroup(ownerId: string, vpcId: string, name = "default") {
    const g = {
      id: `sg-${randomBytes(4).toString("hex")}`,
      ownerId,
      vpcId,
      name,
      description: "d",
    };
    this.groups.push(g);
    await this.rows.insertGroup(g, [], [], null);
    return g;
  }
  async resolveForLaunch(ownerId: string, vpcId: string, ids?: string[], names?: string[]) {
    const mine = this.groups.filter((g) => g.ownerId === ownerId && g.vpcId === vpcId);
    if (!ids?.length && !names?.length) return mine.filter((g) => g.name === "default");
    return (ids ?? names ?? []).map((x) => {
      const g = mine.find((m) => m.id === x || m.name === x);
      if (!g) throw Object.assign(new Error(`no group ${x}`), { code: "InvalidGroup.NotFound" });
      return g;
    });
  }
  async groupsInVpc(vpcId: string) {
    return this.groups.filter((g) => g.vpcId === vpcId);
  }
  async deleteGroupsOfVpc(vpcId: string) {
    this.groups = this.groups.filter((g) => g.vpcId !== vpcId);
    await this.rows.deleteGroupsOfVpc(vpcId);
  }
  async byIds(ids: string[]) {
    return new Map(this.groups.filter((g) => ids.includes(g.id)).map((g) => [g.id, g]));
  }
}

function setup() {
  const db = new SqliteDatabase(":memory:", migrations);
  const store = new SqliteNetworkStore(db);
  const groups = new FakeGroups(new SqliteSecurityGroupStore(db));
  const events = new NetworkEvents();
  const changed: string[] = [];
  events.onChange((v) => {
    changed.push(v);
  });
  const range = regionPublicRange("100.96.0.0/24", 0, 1);
  const vpcs = new VpcService("us-east-1", store, () => groups, events);
  const routes = new RouteService(store, events);
  const interfaces = new InterfaceService("us-east-1", store, vpcs, () => groups, events, range);
  const addresses = new AddressService(store, events, range);
  return { store, groups, changed, vpcs, routes, interfaces, addresses };
}

const A = "111111111111";
const B = "222222222222";

async function rejects(p: Promise<unknown>, code: string) {
  await assert.rejects(p, (e: { code?: string }) => {
    assert.equal(e.code, code);
    return true;
  });
}

test("the default VPC: made once on first use, with its subnets, gateway, main route table and group", async () => {
  const n = setup();
  const [v1, v2] = await Promise.all([n.vpcs.defaultVpc(A), n.vpcs.defaultVpc(A)]);
  assert.equal(v1.id, v2.id);
  assert.equal(v1.cidr, "172.31.0.0/16");
  assert.equal(n.groups.groups.length, 1, "one default group even for two first calls at once");
  const subnets = await n.vpcs.listSubnets(A);
  assert.deepEqual(
    subnets.map((s) => [s.cidr, s.availabilityZone, s.mapPublicIpOnLaunch, s.defaultForAz]).sort(),
    [
      ["172.31.0.0/20", "us-east-1a", true, true],
      ["172.31.16.0/20", "us-east-1b", true, true],
      ["172.31.32.0/20", "us-east-1c", true, true],
    ],
  );
  for (const s of subnets) assert.equal(await n.routes.isPublic(s), true);
  assert.equal(await n.vpcs.availableIpCount(subnets[0]), 4091);
  const [table] = await n.routes.listRouteTables(A);
  assert.equal(table.main, true);
  const [igw] = await n.routes.listGateways(A);
  assert.equal(igw.vpcId, v1.id);
  assert.deepEqual(table.routes, [
    { destinationCidr: "172.31.0.0/16", gatewayId: "local" },
    { destinationCidr: "0.0.0.0/0", gatewayId: igw.id },
  ]);
  await n.vpcs.ensureDefault(B);
  assert.deepEqual(await n.vpcs.listVpcs(B).then((v) => v.map((x) => x.ownerId)), [B]);
  await rejects(n.vpcs.vpc(B, v1.id), "InvalidVpcID.NotFound");
  await rejects(n.vpcs.vpc(A, "vpc-nothex"), "InvalidVpcID.Malformed");
});

test("subnets: inside the VPC, /16 to /28, no overlap; refusals change nothing", async () => {
  const n = setup();
  const vpc = await n.vpcs.createVpc(A, { cidr: "10.0.0.0/16" });
  await rejects(n.vpcs.createVpc(A, { cidr: "10.0.0.0/8" }), "InvalidVpc.Range");
  await rejects(n.vpcs.createVpc(A, { cidr: "10.0.0.1/16" }), "InvalidParameterValue");
  const s = await n.vpcs.createSubnet(A, { vpcId: vpc.id, cidr: "10.0.1.0/24" });
  assert.equal(s.mapPublicIpOnLaunch, false);
  const before = await n.vpcs.listSubnets(A);
  await rejects(n.vpcs.createSubnet(A, { vpcId: vpc.id, cidr: "10.0.1.128/25" }), "InvalidSubnet.Conflict");
  await rejects(n.vpcs.createSubnet(A, { vpcId: vpc.id, cidr: "10.1.0.0/24" }), "InvalidSubnet.Range");
  await rejects(n.vpcs.createSubnet(A, { vpcId: vpc.id, cidr: "10.0.2.0/29" }), "InvalidSubnet.Range");
  await rejects(n.vpcs.createSubnet(B, { vpcId: vpc.id, cidr: "10.0.2.0/24" }), "InvalidVpcID.NotFound");
  await rejects(
    n.vpcs.createSubnet(A, { vpcId: vpc.id, cidr: "10.0.2.0/24", availabilityZone: "eu-west-1a" }),
    "InvalidParameterValue",
  );
  assert.deepEqual(await n.vpcs.listSubnets(A), before);
  // A new VPC's subnet is private until a gateway is attached and routed.
  assert.equal(await n.routes.isPublic(s), false);
  const igw = await n.routes.createGateway(A);
  await n.routes.attachGateway(A, igw.id, vpc.id);
  assert.equal(await n.routes.isPublic(s), false);
  const main = (await n.routes.listRouteTables(A)).find((r) => r.vpcId === vpc.id && r.main)!;
  await n.routes.createRoute(A, main.id, "0.0.0.0/0", igw.id);
  assert.equal(await n.routes.isPublic(s), true);
  await rejects(n.routes.createRoute(A, main.id, "0.0.0.0/0", igw.id), "RouteAlreadyExists");
  // An explicit association with a table that has no route out makes it private again.
  const own = await n.routes.createRouteTable(A, vpc.id);
  const assoc = await n.routes.associate(A, own.id, s.id);
  assert.equal(await n.routes.isPublic(s), false);
  await rejects(n.routes.deleteRouteTable(A, own.id), "DependencyViolation");
  await rejects(n.routes.deleteRoute(A, own.id, "10.0.0.0/16"), "InvalidParameterValue");
  await n.routes.disassociate(A, assoc);
  assert.equal(await n.routes.isPublic(s), true);
  // DeleteVpc waits for its subnets, gateway and route tables.
  await rejects(n.vpcs.deleteVpc(A, vpc.id), "DependencyViolation");
  await n.vpcs.deleteSubnet(A, s.id);
  await rejects(n.vpcs.deleteVpc(A, vpc.id), "DependencyViolation");
  await n.routes.detachGateway(A, igw.id, vpc.id);
  await rejects(n.vpcs.deleteVpc(A, vpc.id), "DependencyViolation");
  await n.routes.deleteRouteTable(A, own.id);
  await n.vpcs.deleteVpc(A, vpc.id);
  assert.deepEqual(
    (await n.routes.listRouteTables(A)).filter((r) => r.vpcId === vpc.id),
    [],
    "the main table goes with the VPC",
  );
  assert.ok(!n.groups.groups.some((g) => g.vpcId === vpc.id), "so does its default group");
});

test("launch: addresses from .4 up, unique MACs, public addresses only in public subnets", async () => {
  const n = setup();
  const plan = await n.interfaces.planLaunch(A, { availabilityZone: "us-east-1b", subnetId: "" }, 2);
  assert.equal(plan.availabilityZone, "us-east-1b");
  assert.equal(plan.publicIp, true);
  assert.equal(plan.groupIds.length, 1);
  const nics = await n.interfaces.createForInstances(A, plan, ["i-00000001", "i-00000002"]);
  assert.deepEqual(
    nics.map((x) => x.privateIp),
    ["172.31.16.4", "172.31.16.5"],
  );
  assert.ok(nics.every((x) => /^02(:[0-9a-f]{2}){5}$/.test(x.mac)));
  assert.notEqual(nics[0].mac, nics[1].mac);
  assert.deepEqual(
    nics.map((x) => x.association?.publicIp),
    ["100.96.0.16", "100.96.0.17"],
  );
  assert.ok(n.changed.includes(plan.vpcId));

  // PrivateIpAddress: one instance only, inside the subnet, not reserved, not taken.
  const subnetId = plan.subnetId;
  await rejects(
    n.interfaces.planLaunch(A, { subnetId, privateIpAddress: "172.31.16.9" }, 2),
    "InvalidParameterValue",
  );
  await rejects(
    n.interfaces.planLaunch(A, { subnetId, privateIpAddress: "172.31.16.3" }, 1),
    "InvalidParameterValue",
  );
  await rejects(
    n.interfaces.planLaunch(A, { subnetId, privateIpAddress: "172.31.0.9" }, 1),
    "InvalidParameterValue",
  );
  await rejects(
    n.interfaces.planLaunch(A, { subnetId, privateIpAddress: "172.31.16.5" }, 1),
    "InvalidIPAddress.InUse",
  );
  await rejects(n.interfaces.planLaunch(B, { subnetId }, 1), "InvalidSubnetID.NotFound");
  const fixed = await n.interfaces.planLaunch(A, { subnetId, privateIpAddress: "172.31.16.9" }, 1);
  await rejects(
    n.interfaces.createForInstances(A, fixed, ["i-00000003", "i-00000004"]),
    "InvalidParameterValue",
  );
  const [third] = await n.interfaces.createForInstances(A, fixed, ["i-00000003"]);
  await rejects(n.interfaces.createForInstances(A, fixed, ["i-00000004"]), "InvalidIPAddress.InUse");
  assert.equal(third.privateIp, "172.31.16.9");
  // AssociatePublicIpAddress false overrides the subnet's MapPublicIpOnLaunch.
  const privatePlan = await n.interfaces.planLaunch(A, { subnetId, associatePublicIpAddress: false }, 1);
  assert.equal(privatePlan.publicIp, false);

  // A subnet of a VPC without an attached gateway gets no public address, whatever is asked.
  const vpc = await n.vpcs.createVpc(A, { cidr: "10.9.0.0/28" });
  const s = await n.vpcs.createSubnet(A, { vpcId: vpc.id, cidr: "10.9.0.0/28" });
  const p = await n.interfaces.planLaunch(A, { subnetId: s.id, associatePublicIpAddress: true }, 11);
  assert.equal(p.publicIp, false);
  await rejects(n.interfaces.planLaunch(A, { subnetId: s.id }, 12), "InsufficientFreeAddressesInSubnet");

  // Stop releases the auto-assigned address; start assigns a new one (the lowest free).
  await n.interfaces.releasePublicIp("i-00000001");
  assert.equal((await n.interfaces.interfacesOf(["i-00000001"])).get("i-00000001")![0].association, null);
  await n.interfaces.assignPublicIp("i-00000001");
  const again = (await n.interfaces.interfacesOf(["i-00000001"])).get("i-00000001")![0];
  assert.equal(again.association?.publicIp, "100.96.0.16");
  assert.equal(again.association?.ipOwnerId, "amazon");
});

test("Elastic IPs: allocate, associate (replacing the auto address), reassociate, release", async () => {
  const n = setup();
  const plan = await n.interfaces.planLaunch(A, {}, 2);
  const [a, b] = await n.interfaces.createForInstances(A, plan, ["i-0000000a", "i-0000000b"]);
  const eip = await n.addresses.allocate(A);
  assert.equal(eip.publicIp, "100.96.0.18", "after the two auto-assigned addresses");
  const assoc = await n.addresses.associate(A, { allocationId: eip.allocationId, instanceId: "i-0000000a" });
  const viewA = (await n.interfaces.interfacesOf(["i-0000000a"])).get("i-0000000a")![0];
  assert.deepEqual(viewA.association, {
    publicIp: eip.publicIp,
    allocationId: eip.allocationId,
    associationId: assoc,
    ipOwnerId: A,
  });
  assert.equal(viewA.publicIp, null, "the auto-assigned address was released");
  await rejects(
    n.addresses.associate(A, { allocationId: eip.allocationId, networkInterfaceId: b.id }),
    "Resource.AlreadyAssociated",
  );
  await rejects(
    n.addresses.associate(B, { allocationId: eip.allocationId, instanceId: "i-0000000a" }),
    "InvalidAllocationID.NotFound",
  );
  await rejects(n.addresses.release(A, { allocationId: eip.allocationId }), "InvalidIPAddress.InUse");
  await n.addresses.associate(A, {
    allocationId: eip.allocationId,
    networkInterfaceId: b.id,
    allowReassociation: true,
  });
  const views = await n.interfaces.interfacesOf(["i-0000000a", "i-0000000b"]);
  assert.equal(views.get("i-0000000b")![0].association?.allocationId, eip.allocationId);
  assert.equal(
    views.get("i-0000000a")![0].association?.ipOwnerId,
    "amazon",
    "A got a new auto-assigned address",
  );
  // Termination disassociates; the address stays allocated and can be released.
  await n.interfaces.deleteForInstance("i-0000000b");
  const [after] = await n.addresses.list(A);
  assert.equal(after.associationId, null);
  assert.deepEqual(await n.interfaces.list(A).then((l) => l.map((x) => x.id)), [a.id]);
  await n.addresses.release(A, { allocationId: eip.allocationId });
  await rejects(n.addresses.release(A, { allocationId: eip.allocationId }), "InvalidAllocationID.NotFound");
  for (let i = 0; i < 5; i++) await n.addresses.allocate(A);
  await rejects(n.addresses.allocate(A), "AddressLimitExceeded");
  // Detaching the gateway is refused while the VPC has public addresses.
  const [igw] = await n.routes.listGateways(A);
  await rejects(n.routes.detachGateway(A, igw.id, plan.vpcId), "DependencyViolation");
  await rejects(n.vpcs.deleteSubnet(A, plan.subnetId), "DependencyViolation");
});

test("group membership: interfaces by security group (for group-to-group rules)", async () => {
  const n = setup();
  const plan = await n.interfaces.planLaunch(A, {}, 1);
  const [nic] = await n.interfaces.createForInstances(A, plan, ["i-0000000c"]);
  const members = await n.store.membersOf(plan.groupIds);
  assert.deepEqual(members, [
    {
      networkInterfaceId: nic.id,
      instanceId: "i-0000000c",
      vpcId: plan.vpcId,
      privateIp: nic.privateIp,
      groupIds: plan.groupIds,
    },
  ]);
  const other = await n.groups.createDefaultGroup(A, plan.vpcId, "other");
  n.changed.length = 0;
  await n.interfaces.setGroups(A, "i-0000000c", [other.id]);
  assert.deepEqual(await n.store.membersOf(plan.groupIds), []);
  assert.equal((await n.store.membersOf([other.id])).length, 1);
  assert.deepEqual(n.changed, [plan.vpcId]);
  await rejects(n.interfaces.setGroups(B, "i-0000000c", [other.id]), "InvalidInstanceID.NotFound");
});

test("a group deleted after the lookup fails the unit that would give it to an interface, writing nothing", async () => {
  const n = setup();
  const plan = await n.interfaces.planLaunch(A, {}, 1);
  // Another request's DeleteSecurityGroup, between planLaunch's lookup and the launch's unit.
  const [planned] = plan.groupIds;
  await n.groups.rows.deleteGroup(planned);
  await rejects(n.interfaces.createForInstances(A, plan, ["i-0000000d"]), "InvalidGroup.NotFound");
  assert.deepEqual(await n.store.membersOf([planned]), []);
  assert.deepEqual(await n.interfaces.list(A), []);
  // The same for ModifyInstanceAttribute's groups: the interface keeps the ones it had.
  const kept = await n.groups.createDefaultGroup(A, plan.vpcId, "kept");
  const [nic] = await n.interfaces.createForInstances(A, { ...plan, groupIds: [kept.id] }, ["i-0000000e"]);
  const gone = await n.groups.createDefaultGroup(A, plan.vpcId, "gone");
  await n.groups.rows.deleteGroup(gone.id);
  await rejects(n.interfaces.setGroups(A, "i-0000000e", [gone.id]), "InvalidGroup.NotFound");
  assert.deepEqual((await n.interfaces.list(A, [nic.id]))[0].groupIds, [kept.id]);
});

test("a VPC is never left without its default group: undone when the group fails, completed at start", async () => {
  const n = setup();
  await n.vpcs.ensureDefault(A);
  const before = await n.vpcs.listVpcs(A);
  const create = n.groups.createDefaultGroup;
  n.groups.createDefaultGroup = async () => {
    throw Object.assign(new Error("groups unavailable"), { code: "InternalError" });
  };
  await rejects(n.vpcs.createVpc(A, { cidr: "10.1.0.0/16" }), "InternalError");
  assert.deepEqual(await n.vpcs.listVpcs(A), before);
  assert.deepEqual(
    (await n.routes.listRouteTables(A)).map((r) => r.vpcId),
    before.map((v) => v.id),
  );
  n.groups.createDefaultGroup = create;
  // A crash between the VPC's commit and its group's: the row is there, unmarked.
  await n.store.tx((t) =>
    t.insertVpc({
      id: "vpc-0000000000000000a",
      ownerId: A,
      cidr: "10.2.0.0/16",
      isDefault: false,
      createdAt: "",
    }),
  );
  await n.vpcs.recover();
  assert.deepEqual(
    (await n.groups.groupsInVpc("vpc-0000000000000000a")).map((g) => g.name),
    ["default"],
  );
  assert.deepEqual(await n.store.tx((t) => t.vpcsWithoutGroup()), []);
  await n.vpcs.recover();
  assert.equal((await n.groups.groupsInVpc("vpc-0000000000000000a")).length, 1, "made once");
});

test("change events come after the commit: a listener reading the VPC's state sees the change", async () => {
  const n = setup();
  const seen: string[][] = [];
  const plan = await n.interfaces.planLaunch(A, {}, 1);
  const listenerEvents = new NetworkEvents();
  const interfaces = new InterfaceService(
    "us-east-1",
    n.store,
    n.vpcs,
    () => n.groups,
    listenerEvents,
    regionPublicRange("100.96.1.0/24", 0, 1),
  );
  // Each listener's read is under way when emit returns (it took the database first), so the
  // reads see each change and nothing after it.
  const reads: Promise<void>[] = [];
  listenerEvents.onChange((vpcId) => {
    const slot = seen.push([]) - 1;
    const read = interfaces.vpcState(vpcId).then((state) => {
      seen[slot] = state.interfaces.map((x) => `${x.instanceId} ${x.association?.publicIp ?? "-"}`);
    });
    reads.push(read);
    return read;
  });
  await interfaces.createForInstances(A, plan, ["i-0000000d"]);
  await interfaces.releasePublicIp("i-0000000d");
  await interfaces.assignPublicIp("i-0000000d");
  await interfaces.deleteForInstance("i-0000000d");
  await Promise.all(reads);
  assert.deepEqual(seen, [["i-0000000d 100.96.1.16"], ["i-0000000d -"], ["i-0000000d 100.96.1.16"], []]);
  // A throwing listener is logged, not thrown into the change that already committed.
  listenerEvents.onChange(() => {
    throw new Error("data plane down");
  });
  const [again] = await interfaces.createForInstances(A, plan, ["i-0000000e"]);
  assert.equal((await interfaces.interfacesOf(["i-0000000e"])).get("i-0000000e")![0].id, again.id);
});
