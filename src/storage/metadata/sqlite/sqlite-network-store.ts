import type { GroupMember } from "../../../services/network/contracts.ts";
import type {
  AddressRecord,
  InternetGatewayRecord,
  RouteRecord,
  RouteTableRecord,
  SubnetRecord,
  VpcRecord,
} from "../../../services/network/network-records.ts";
import type { Tag } from "../catalog-store.ts";
import type { NetworkStore, NetworkTx, StoredInterface } from "../network-store.ts";
import { groupNotFound } from "../security-group-store.ts";
import type { Row, SqliteDatabase } from "./sqlite-database.ts";

const str = (v: unknown) => String(v);
const strOrNull = (v: unknown) => (v === null || v === undefined ? null : String(v));
const bool = (v: unknown) => Number(v) === 1;
const int = (b: boolean) => (b ? 1 : 0);

function toVpc(r: Row): VpcRecord {
  return {
    id: str(r.id),
    ownerId: str(r.owner_id),
    cidr: str(r.cidr),
    isDefault: bool(r.is_default),
    createdAt: str(r.created_at),
  };
}

function toSubnet(r: Row): SubnetRecord {
  return {
    id: str(r.id),
    ownerId: str(r.owner_id),
    vpcId: str(r.vpc_id),
    cidr: str(r.cidr),
    availabilityZone: str(r.availability_zone),
    mapPublicIpOnLaunch: bool(r.map_public_ip),
    defaultForAz: bool(r.default_for_az),
  };
}

function toGateway(r: Row): InternetGatewayRecord {
  return { id: str(r.id), ownerId: str(r.owner_id), vpcId: strOrNull(r.vpc_id) };
}

function toInterface(r: Row): StoredInterface {
  return {
    id: str(r.id),
    ownerId: str(r.owner_id),
    vpcId: str(r.vpc_id),
    subnetId: str(r.subnet_id),
    availabilityZone: str(r.availability_zone),
    mac: str(r.mac),
    privateIp: str(r.private_ip),
    groupIds: JSON.parse(str(r.group_ids)) as string[],
    publicIp: strOrNull(r.public_ip),
    autoPublic: bool(r.auto_public),
    started: bool(r.started),
    instanceId: strOrNull(r.instance_id),
    attachmentId: strOrNull(r.attachment_id),
    deviceIndex: Number(r.device_index),
    deleteOnTermination: bool(r.delete_on_termination),
    description: str(r.description),
  };
}

function toAddress(r: Row): AddressRecord {
  return {
    allocationId: str(r.allocation_id),
    ownerId: str(r.owner_id),
    publicIp: str(r.public_ip),
    associationId: strOrNull(r.association_id),
    networkInterfaceId: strOrNull(r.network_interface_id),
    instanceId: strOrNull(r.instance_id),
    privateIp: strOrNull(r.private_ip),
  };
}

export class SqliteNetworkStore implements NetworkStore {
  readonly #db: SqliteDatabase;
  readonly #tx: NetworkTx;

  constructor(db: SqliteDatabase) {
    this.#db = db;
    this.#tx = new SqliteNetworkTx(db);
  }

  tx<T>(fn: (t: NetworkTx) => Promise<T>): Promise<T> {
    return this.#db.unitOfWork(() => fn(this.#tx));
  }

  async membersOf(groupIds: string[]): Promise<GroupMember[]> {
    if (!groupIds.length) return [];
    const rows = await this.#db.exclusive(
      () =>
        this.#db
          .q(
            `SELECT * FROM network_interfaces WHERE EXISTS
         (SELECT 1 FROM json_each(group_ids) g WHERE g.value IN (SELECT value FROM json_each(?))) ORDER BY id`,
          )
          .all(JSON.stringify(groupIds)) as Row[],
    );
    return rows.map(toInterface).map((n) => ({
      networkInterfaceId: n.id,
      instanceId: n.instanceId,
      vpcId: n.vpcId,
      privateIp: n.privateIp,
      groupIds: n.groupIds,
    }));
  }
}

class SqliteNetworkTx implements NetworkTx {
  readonly #db: SqliteDatabase;

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  #one<T>(sql: string, map: (r: Row) => T, ...params: string[]): T | undefined {
    const r = this.#db.q(sql).get(...params) as Row | undefined;
    return r && map(r);
  }

  #all<T>(sql: string, map: (r: Row) => T, ...params: string[]): T[] {
    return (this.#db.q(sql).all(...params) as Row[]).map(map);
  }

  async vpc(id: string) {
    return this.#one("SELECT * FROM vpcs WHERE id = ?", toVpc, id);
  }
  async vpcsOf(ownerId: string) {
    return this.#all("SELECT * FROM vpcs WHERE owner_id = ? ORDER BY id", toVpc, ownerId);
  }
  async defaultVpcOf(ownerId: string) {
    return this.#one("SELECT * FROM vpcs WHERE owner_id = ? AND is_default = 1", toVpc, ownerId);
  }
  async insertVpc(v: VpcRecord) {
    this.#db
      .q("INSERT INTO vpcs (id, owner_id, cidr, is_default, created_at) VALUES (?, ?, ?, ?, ?)")
      .run(v.id, v.ownerId, v.cidr, int(v.isDefault), v.createdAt);
  }
  async deleteVpc(id: string) {
    this.#db.q("DELETE FROM vpcs WHERE id = ?").run(id);
  }
  async markGroupReady(vpcId: string) {
    this.#db.q("UPDATE vpcs SET group_ready = 1 WHERE id = ?").run(vpcId);
  }
  async groupReady(vpcId: string) {
    return this.#db.q("SELECT 1 FROM vpcs WHERE id = ? AND group_ready = 1").get(vpcId) !== undefined;
  }
  async vpcsWithoutGroup() {
    return this.#all("SELECT * FROM vpcs WHERE group_ready = 0 ORDER BY id", toVpc);
  }

  async subnet(id: string) {
    return this.#one("SELECT * FROM subnets WHERE id = ?", toSubnet, id);
  }
  async subnetsOf(ownerId: string) {
    return this.#all("SELECT * FROM subnets WHERE owner_id = ? ORDER BY id", toSubnet, ownerId);
  }
  async subnetsInVpc(vpcId: string) {
    return this.#all("SELECT * FROM subnets WHERE vpc_id = ? ORDER BY id", toSubnet, vpcId);
  }
  async insertSubnet(s: SubnetRecord) {
    this.#db
      .q(
        `INSERT INTO subnets (id, owner_id, vpc_id, cidr, availability_zone, map_public_ip, default_for_az)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        s.id,
        s.ownerId,
        s.vpcId,
        s.cidr,
        s.availabilityZone,
        int(s.mapPublicIpOnLaunch),
        int(s.defaultForAz),
      );
  }
  async updateSubnet(s: SubnetRecord) {
    this.#db.q("UPDATE subnets SET map_public_ip = ? WHERE id = ?").run(int(s.mapPublicIpOnLaunch), s.id);
  }
  async deleteSubnet(id: string) {
    this.#db.q("DELETE FROM subnets WHERE id = ?").run(id);
  }

  async gateway(id: string) {
    return this.#one("SELECT * FROM internet_gateways WHERE id = ?", toGateway, id);
  }
  async gatewaysOf(ownerId: string) {
    return this.#all("SELECT * FROM internet_gateways WHERE owner_id = ? ORDER BY id", toGateway, ownerId);
  }
  async gatewayOfVpc(vpcId: string) {
    return this.#one("SELECT * FROM internet_gateways WHERE vpc_id = ?", toGateway, vpcId);
  }
  async insertGateway(g: InternetGatewayRecord) {
    this.#db
      .q("INSERT INTO internet_gateways (id, owner_id, vpc_id) VALUES (?, ?, ?)")
      .run(g.id, g.ownerId, g.vpcId);
  }
  async updateGateway(g: InternetGatewayRecord) {
    this.#db.q("UPDATE internet_gateways SET vpc_id = ? WHERE id = ?").run(g.vpcId, g.id);
  }
  async deleteGateway(id: string) {
    this.#db.q("DELETE FROM internet_gateways WHERE id = ?").run(id);
  }

  #routeTable = (r: Row): RouteTableRecord => ({
    id: str(r.id),
    ownerId: str(r.owner_id),
    vpcId: str(r.vpc_id),
    main: bool(r.main),
    routes: JSON.parse(str(r.routes)) as RouteRecord[],
    associations: this.#all(
      "SELECT * FROM route_table_associations WHERE route_table_id = ? ORDER BY main DESC, id",
      (a) => ({ id: str(a.id), subnetId: strOrNull(a.subnet_id), main: bool(a.main) }),
      str(r.id),
    ),
  });
  async routeTable(id: string) {
    return this.#one("SELECT * FROM route_tables WHERE id = ?", this.#routeTable, id);
  }
  async routeTablesOf(ownerId: string) {
    return this.#all("SELECT * FROM route_tables WHERE owner_id = ? ORDER BY id", this.#routeTable, ownerId);
  }
  async routeTablesInVpc(vpcId: string) {
    return this.#all("SELECT * FROM route_tables WHERE vpc_id = ? ORDER BY id", this.#routeTable, vpcId);
  }
  async routeTableOfAssociation(associationId: string) {
    return this.#one(
      "SELECT t.* FROM route_tables t JOIN route_table_associations a ON a.route_table_id = t.id WHERE a.id = ?",
      this.#routeTable,
      associationId,
    );
  }
  async putRouteTable(t: RouteTableRecord) {
    this.#db
      .q("INSERT OR REPLACE INTO route_tables (id, owner_id, vpc_id, main, routes) VALUES (?, ?, ?, ?, ?)")
      .run(t.id, t.ownerId, t.vpcId, int(t.main), JSON.stringify(t.routes));
    this.#db.q("DELETE FROM route_table_associations WHERE route_table_id = ?").run(t.id);
    const ins = this.#db.q(
      "INSERT INTO route_table_associations (id, route_table_id, subnet_id, main) VALUES (?, ?, ?, ?)",
    );
    for (const a of t.associations) ins.run(a.id, t.id, a.subnetId, int(a.main));
  }
  async deleteRouteTable(id: string) {
    this.#db.q("DELETE FROM route_table_associations WHERE route_table_id = ?").run(id);
    this.#db.q("DELETE FROM route_tables WHERE id = ?").run(id);
  }

  async networkInterface(id: string) {
    return this.#one("SELECT * FROM network_interfaces WHERE id = ?", toInterface, id);
  }
  async interfacesOf(ownerId: string) {
    return this.#all("SELECT * FROM network_interfaces WHERE owner_id = ? ORDER BY id", toInterface, ownerId);
  }
  async interfacesInVpc(vpcId: string) {
    return this.#all("SELECT * FROM network_interfaces WHERE vpc_id = ? ORDER BY id", toInterface, vpcId);
  }
  async interfacesInSubnet(subnetId: string) {
    return this.#all(
      "SELECT * FROM network_interfaces WHERE subnet_id = ? ORDER BY id",
      toInterface,
      subnetId,
    );
  }
  async interfacesOfInstances(instanceIds: string[]) {
    if (!instanceIds.length) return [];
    return this.#all(
      "SELECT * FROM network_interfaces WHERE instance_id IN (SELECT value FROM json_each(?)) ORDER BY instance_id, device_index",
      toInterface,
      JSON.stringify(instanceIds),
    );
  }
  async putInterface(n: StoredInterface) {
    this.#db
      .q(
        `INSERT OR REPLACE INTO network_interfaces (id, owner_id, vpc_id, subnet_id, availability_zone, mac,
         private_ip, group_ids, public_ip, auto_public, started, instance_id, attachment_id, device_index,
         delete_on_termination, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        n.id,
        n.ownerId,
        n.vpcId,
        n.subnetId,
        n.availabilityZone,
        n.mac,
        n.privateIp,
        JSON.stringify(n.groupIds),
        n.publicIp,
        int(n.autoPublic),
        int(n.started),
        n.instanceId,
        n.attachmentId,
        n.deviceIndex,
        int(n.deleteOnTermination),
        n.description,
      );
  }
  async requireGroups(groupIds: string[]) {
    const found = new Set(
      (
        this.#db
          .q("SELECT id FROM security_groups WHERE id IN (SELECT value FROM json_each(?))")
          .all(JSON.stringify(groupIds)) as Row[]
      ).map((r) => String(r.id)),
    );
    const missing = groupIds.find((id) => !found.has(id));
    if (missing) throw groupNotFound(missing);
  }
  async deleteInterface(id: string) {
    this.#db.q("DELETE FROM network_interfaces WHERE id = ?").run(id);
  }
  async privateIpsInSubnet(subnetId: string) {
    return this.#db
      .column("SELECT private_ip AS v FROM network_interfaces WHERE subnet_id = ?", subnetId)
      .map(str);
  }
  async macInUse(mac: string) {
    return this.#db.q("SELECT 1 FROM network_interfaces WHERE mac = ?").get(mac) !== undefined;
  }
  async publicIpsInUse() {
    return this.#db
      .column(
        "SELECT public_ip AS v FROM network_interfaces WHERE public_ip IS NOT NULL UNION SELECT public_ip FROM addresses",
      )
      .map(str);
  }

  async address(allocationId: string) {
    return this.#one("SELECT * FROM addresses WHERE allocation_id = ?", toAddress, allocationId);
  }
  async addressByIp(publicIp: string) {
    return this.#one("SELECT * FROM addresses WHERE public_ip = ?", toAddress, publicIp);
  }
  async addressByAssociation(associationId: string) {
    return this.#one("SELECT * FROM addresses WHERE association_id = ?", toAddress, associationId);
  }
  async addressOfInterface(networkInterfaceId: string) {
    return this.#one("SELECT * FROM addresses WHERE network_interface_id = ?", toAddress, networkInterfaceId);
  }
  async addressesOf(ownerId: string) {
    return this.#all("SELECT * FROM addresses WHERE owner_id = ? ORDER BY allocation_id", toAddress, ownerId);
  }
  async putAddress(a: AddressRecord) {
    this.#db
      .q(
        `INSERT OR REPLACE INTO addresses (allocation_id, owner_id, public_ip, association_id,
         network_interface_id, instance_id, private_ip) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        a.allocationId,
        a.ownerId,
        a.publicIp,
        a.associationId,
        a.networkInterfaceId,
        a.instanceId,
        a.privateIp,
      );
  }
  async deleteAddress(allocationId: string) {
    this.#db.q("DELETE FROM addresses WHERE allocation_id = ?").run(allocationId);
  }

  async insertTags(resourceIds: string[], tags: Tag[]) {
    this.#db.insertTags(resourceIds, tags);
  }
  async deleteTags(resourceIds: string[]) {
    const del = this.#db.q("DELETE FROM tags WHERE resource_id = ?");
    for (const id of resourceIds) del.run(id);
  }
}
