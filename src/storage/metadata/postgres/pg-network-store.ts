// The EC2 network model in PostgreSQL: SQLite's network store statement for statement, each unit
// of work one SERIALIZABLE transaction. A unit that loses a conflict is run again from the start
// (PgDatabase.tx), so its checks ("no default VPC yet", "this address is free") hold as they do
// under SQLite's single writer; tx() resolves once, with the committed attempt's result.
// Upserts replace by primary key only: where SQLite's INSERT OR REPLACE would silently delete
// another row holding the same unique value (a MAC, a public address), this one fails instead.
import type pg from "pg";
import type { GroupMember } from "../../../services/network/contracts.ts";
import type {
  AddressRecord,
  InternetGatewayRecord,
  RouteTableRecord,
  SubnetRecord,
  VpcRecord,
} from "../../../services/network/network-records.ts";
import type { Tag } from "../catalog-store.ts";
import type { NetworkStore, NetworkTx, StoredInterface } from "../network-store.ts";
import { groupNotFound } from "../security-group-store.ts";
import type { PgDatabase, PgRow } from "./pg-database.ts";
import {
  type Association,
  addressParams,
  interfaceParams,
  PUT_ADDRESS,
  PUT_INTERFACE,
  toAddress,
  toAssociation,
  toGateway,
  toInterface,
  toRouteTable,
  toSubnet,
  toVpc,
} from "./pg-network-rows.ts";

export class PgNetworkStore implements NetworkStore {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  tx<T>(fn: (t: NetworkTx) => Promise<T>): Promise<T> {
    return this.#db.tx((client) => fn(new PgNetworkTx(this.#db, client)));
  }

  async membersOf(groupIds: string[]): Promise<GroupMember[]> {
    if (!groupIds.length) return [];
    const rows = await this.#db.query(
      "SELECT * FROM network_interfaces WHERE group_ids ?| $1::text[] ORDER BY id",
      [groupIds],
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

class PgNetworkTx implements NetworkTx {
  readonly #db: PgDatabase;
  readonly #c: pg.PoolClient;

  constructor(db: PgDatabase, client: pg.PoolClient) {
    this.#db = db;
    this.#c = client;
  }

  async #one<T>(sql: string, map: (r: PgRow) => T, ...params: unknown[]): Promise<T | undefined> {
    const r = await this.#db.one(sql, params, this.#c);
    return r && map(r);
  }

  async #all<T>(sql: string, map: (r: PgRow) => T, ...params: unknown[]): Promise<T[]> {
    return (await this.#db.query(sql, params, this.#c)).map(map);
  }

  async #run(sql: string, ...params: unknown[]): Promise<void> {
    await this.#db.run(sql, params, this.#c);
  }

  async #exists(sql: string, ...params: unknown[]): Promise<boolean> {
    return (await this.#db.one(sql, params, this.#c)) !== undefined;
  }

  async #strings(sql: string, ...params: unknown[]): Promise<string[]> {
    return (await this.#db.column(sql, params, this.#c)).map(String);
  }

  vpc(id: string) {
    return this.#one("SELECT * FROM vpcs WHERE id = $1", toVpc, id);
  }
  vpcsOf(ownerId: string) {
    return this.#all("SELECT * FROM vpcs WHERE owner_id = $1 ORDER BY id", toVpc, ownerId);
  }
  defaultVpcOf(ownerId: string) {
    return this.#one("SELECT * FROM vpcs WHERE owner_id = $1 AND is_default", toVpc, ownerId);
  }
  insertVpc(v: VpcRecord) {
    return this.#run(
      "INSERT INTO vpcs (id, owner_id, cidr, is_default, created_at) VALUES ($1, $2, $3, $4, $5)",
      v.id,
      v.ownerId,
      v.cidr,
      v.isDefault,
      v.createdAt,
    );
  }
  deleteVpc(id: string) {
    return this.#run("DELETE FROM vpcs WHERE id = $1", id);
  }
  markGroupReady(vpcId: string) {
    return this.#run("UPDATE vpcs SET group_ready = true WHERE id = $1", vpcId);
  }
  groupReady(vpcId: string) {
    return this.#exists("SELECT 1 FROM vpcs WHERE id = $1 AND group_ready", vpcId);
  }
  vpcsWithoutGroup() {
    return this.#all("SELECT * FROM vpcs WHERE NOT group_ready ORDER BY id", toVpc);
  }

  subnet(id: string) {
    return this.#one("SELECT * FROM subnets WHERE id = $1", toSubnet, id);
  }
  subnetsOf(ownerId: string) {
    return this.#all("SELECT * FROM subnets WHERE owner_id = $1 ORDER BY id", toSubnet, ownerId);
  }
  subnetsInVpc(vpcId: string) {
    return this.#all("SELECT * FROM subnets WHERE vpc_id = $1 ORDER BY id", toSubnet, vpcId);
  }
  insertSubnet(s: SubnetRecord) {
    return this.#run(
      `INSERT INTO subnets (id, owner_id, vpc_id, cidr, availability_zone, map_public_ip, default_for_az)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      s.id,
      s.ownerId,
      s.vpcId,
      s.cidr,
      s.availabilityZone,
      s.mapPublicIpOnLaunch,
      s.defaultForAz,
    );
  }
  updateSubnet(s: SubnetRecord) {
    return this.#run("UPDATE subnets SET map_public_ip = $1 WHERE id = $2", s.mapPublicIpOnLaunch, s.id);
  }
  deleteSubnet(id: string) {
    return this.#run("DELETE FROM subnets WHERE id = $1", id);
  }

  gateway(id: string) {
    return this.#one("SELECT * FROM internet_gateways WHERE id = $1", toGateway, id);
  }
  gatewaysOf(ownerId: string) {
    return this.#all("SELECT * FROM internet_gateways WHERE owner_id = $1 ORDER BY id", toGateway, ownerId);
  }
  gatewayOfVpc(vpcId: string) {
    return this.#one("SELECT * FROM internet_gateways WHERE vpc_id = $1", toGateway, vpcId);
  }
  insertGateway(g: InternetGatewayRecord) {
    return this.#run(
      "INSERT INTO internet_gateways (id, owner_id, vpc_id) VALUES ($1, $2, $3)",
      g.id,
      g.ownerId,
      g.vpcId,
    );
  }
  updateGateway(g: InternetGatewayRecord) {
    return this.#run("UPDATE internet_gateways SET vpc_id = $1 WHERE id = $2", g.vpcId, g.id);
  }
  deleteGateway(id: string) {
    return this.#run("DELETE FROM internet_gateways WHERE id = $1", id);
  }

  /** The tables of these rows with their associations (main first, then by id), in one more query. */
  async #routeTables(rows: PgRow[]): Promise<RouteTableRecord[]> {
    if (!rows.length) return [];
    const byTable = new Map<string, Association[]>(rows.map((r) => [String(r.id), []]));
    const assocs = await this.#db.query(
      `SELECT * FROM route_table_associations WHERE route_table_id = ANY($1::text[])
       ORDER BY route_table_id, main DESC, id`,
      [[...byTable.keys()]],
      this.#c,
    );
    for (const a of assocs) byTable.get(String(a.route_table_id))?.push(toAssociation(a));
    return rows.map((r) => toRouteTable(r, byTable.get(String(r.id)) ?? []));
  }
  async #routeTablesWhere(sql: string, ...params: unknown[]): Promise<RouteTableRecord[]> {
    return this.#routeTables(await this.#db.query(sql, params, this.#c));
  }
  async routeTable(id: string) {
    return (await this.#routeTablesWhere("SELECT * FROM route_tables WHERE id = $1", id))[0];
  }
  routeTablesOf(ownerId: string) {
    return this.#routeTablesWhere("SELECT * FROM route_tables WHERE owner_id = $1 ORDER BY id", ownerId);
  }
  routeTablesInVpc(vpcId: string) {
    return this.#routeTablesWhere("SELECT * FROM route_tables WHERE vpc_id = $1 ORDER BY id", vpcId);
  }
  async routeTableOfAssociation(associationId: string) {
    const sql = `SELECT t.* FROM route_tables t JOIN route_table_associations a ON a.route_table_id = t.id
      WHERE a.id = $1`;
    return (await this.#routeTablesWhere(sql, associationId))[0];
  }
  async putRouteTable(t: RouteTableRecord) {
    await this.#run(
      `INSERT INTO route_tables (id, owner_id, vpc_id, main, routes) VALUES ($1, $2, $3, $4, $5::jsonb)
       ON CONFLICT (id) DO UPDATE SET owner_id = excluded.owner_id, vpc_id = excluded.vpc_id,
       main = excluded.main, routes = excluded.routes`,
      t.id,
      t.ownerId,
      t.vpcId,
      t.main,
      JSON.stringify(t.routes),
    );
    await this.#run("DELETE FROM route_table_associations WHERE route_table_id = $1", t.id);
    for (const a of t.associations) {
      await this.#run(
        "INSERT INTO route_table_associations (id, route_table_id, subnet_id, main) VALUES ($1, $2, $3, $4)",
        a.id,
        t.id,
        a.subnetId,
        a.main,
      );
    }
  }
  async deleteRouteTable(id: string) {
    await this.#run("DELETE FROM route_table_associations WHERE route_table_id = $1", id);
    await this.#run("DELETE FROM route_tables WHERE id = $1", id);
  }

  networkInterface(id: string) {
    return this.#one("SELECT * FROM network_interfaces WHERE id = $1", toInterface, id);
  }
  interfacesOf(ownerId: string) {
    return this.#all(
      "SELECT * FROM network_interfaces WHERE owner_id = $1 ORDER BY id",
      toInterface,
      ownerId,
    );
  }
  interfacesInVpc(vpcId: string) {
    return this.#all("SELECT * FROM network_interfaces WHERE vpc_id = $1 ORDER BY id", toInterface, vpcId);
  }
  interfacesInSubnet(subnetId: string) {
    return this.#all(
      "SELECT * FROM network_interfaces WHERE subnet_id = $1 ORDER BY id",
      toInterface,
      subnetId,
    );
  }
  async interfacesOfInstances(instanceIds: string[]) {
    if (!instanceIds.length) return [];
    return this.#all(
      `SELECT * FROM network_interfaces WHERE instance_id = ANY($1::text[])
       ORDER BY instance_id, device_index, id`,
      toInterface,
      instanceIds,
    );
  }
  putInterface(n: StoredInterface) {
    return this.#run(PUT_INTERFACE, ...interfaceParams(n));
  }
  async requireGroups(groupIds: string[]) {
    const found = new Set(
      await this.#strings("SELECT id AS v FROM security_groups WHERE id = ANY($1::text[])", groupIds),
    );
    const missing = groupIds.find((id) => !found.has(id));
    if (missing) throw groupNotFound(missing);
  }
  deleteInterface(id: string) {
    return this.#run("DELETE FROM network_interfaces WHERE id = $1", id);
  }
  privateIpsInSubnet(subnetId: string) {
    return this.#strings(
      "SELECT private_ip AS v FROM network_interfaces WHERE subnet_id = $1 ORDER BY private_ip",
      subnetId,
    );
  }
  macInUse(mac: string) {
    return this.#exists("SELECT 1 FROM network_interfaces WHERE mac = $1", mac);
  }
  publicIpsInUse() {
    return this.#strings(
      `SELECT public_ip AS v FROM network_interfaces WHERE public_ip IS NOT NULL
       UNION SELECT public_ip FROM addresses ORDER BY v`,
    );
  }

  address(allocationId: string) {
    return this.#one("SELECT * FROM addresses WHERE allocation_id = $1", toAddress, allocationId);
  }
  addressByIp(publicIp: string) {
    return this.#one("SELECT * FROM addresses WHERE public_ip = $1", toAddress, publicIp);
  }
  addressByAssociation(associationId: string) {
    return this.#one("SELECT * FROM addresses WHERE association_id = $1", toAddress, associationId);
  }
  addressOfInterface(networkInterfaceId: string) {
    return this.#one(
      "SELECT * FROM addresses WHERE network_interface_id = $1",
      toAddress,
      networkInterfaceId,
    );
  }
  addressesOf(ownerId: string) {
    return this.#all(
      "SELECT * FROM addresses WHERE owner_id = $1 ORDER BY allocation_id",
      toAddress,
      ownerId,
    );
  }
  putAddress(a: AddressRecord) {
    return this.#run(PUT_ADDRESS, ...addressParams(a));
  }
  deleteAddress(allocationId: string) {
    return this.#run("DELETE FROM addresses WHERE allocation_id = $1", allocationId);
  }

  insertTags(resourceIds: string[], tags: Tag[]) {
    return this.#db.insertTags(this.#c, resourceIds, tags);
  }
  async deleteTags(resourceIds: string[]) {
    if (!resourceIds.length) return;
    await this.#run("DELETE FROM tags WHERE resource_id = ANY($1::text[])", resourceIds);
  }
}
