// Rows of the network tables as records (flags arrive as booleans, jsonb columns already parsed),
// and records as the parameters of their upserts. The same records as SQLite's store hands back.
import type {
  AddressRecord,
  InternetGatewayRecord,
  RouteRecord,
  RouteTableRecord,
  SubnetRecord,
  VpcRecord,
} from "../../../services/network/network-records.ts";
import type { StoredInterface } from "../network-store.ts";
import type { PgRow } from "./pg-database.ts";

const str = (v: unknown) => String(v);
const strOrNull = (v: unknown) => (v === null || v === undefined ? null : String(v));
const bool = (v: unknown) => v === true;

export function toVpc(r: PgRow): VpcRecord {
  return {
    id: str(r.id),
    ownerId: str(r.owner_id),
    cidr: str(r.cidr),
    isDefault: bool(r.is_default),
    createdAt: str(r.created_at),
  };
}

export function toSubnet(r: PgRow): SubnetRecord {
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

export function toGateway(r: PgRow): InternetGatewayRecord {
  return { id: str(r.id), ownerId: str(r.owner_id), vpcId: strOrNull(r.vpc_id) };
}

export type Association = RouteTableRecord["associations"][number];

export function toAssociation(r: PgRow): Association {
  return { id: str(r.id), subnetId: strOrNull(r.subnet_id), main: bool(r.main) };
}

export function toRouteTable(r: PgRow, associations: Association[]): RouteTableRecord {
  return {
    id: str(r.id),
    ownerId: str(r.owner_id),
    vpcId: str(r.vpc_id),
    main: bool(r.main),
    routes: r.routes as RouteRecord[],
    associations,
  };
}

export function toInterface(r: PgRow): StoredInterface {
  return {
    id: str(r.id),
    ownerId: str(r.owner_id),
    vpcId: str(r.vpc_id),
    subnetId: str(r.subnet_id),
    availabilityZone: str(r.availability_zone),
    mac: str(r.mac),
    privateIp: str(r.private_ip),
    groupIds: r.group_ids as string[],
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

export function toAddress(r: PgRow): AddressRecord {
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

/** Inserts or replaces an interface by id (SQLite's INSERT OR REPLACE; see pg-network-store.ts). */
export const PUT_INTERFACE = `INSERT INTO network_interfaces (id, owner_id, vpc_id, subnet_id, availability_zone,
  mac, private_ip, group_ids, public_ip, auto_public, started, instance_id, attachment_id, device_index,
  delete_on_termination, description)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12, $13, $14, $15, $16)
  ON CONFLICT (id) DO UPDATE SET owner_id = excluded.owner_id, vpc_id = excluded.vpc_id,
  subnet_id = excluded.subnet_id, availability_zone = excluded.availability_zone, mac = excluded.mac,
  private_ip = excluded.private_ip, group_ids = excluded.group_ids, public_ip = excluded.public_ip,
  auto_public = excluded.auto_public, started = excluded.started, instance_id = excluded.instance_id,
  attachment_id = excluded.attachment_id, device_index = excluded.device_index,
  delete_on_termination = excluded.delete_on_termination, description = excluded.description`;

export function interfaceParams(n: StoredInterface): unknown[] {
  return [
    n.id,
    n.ownerId,
    n.vpcId,
    n.subnetId,
    n.availabilityZone,
    n.mac,
    n.privateIp,
    JSON.stringify(n.groupIds),
    n.publicIp,
    n.autoPublic,
    n.started,
    n.instanceId,
    n.attachmentId,
    n.deviceIndex,
    n.deleteOnTermination,
    n.description,
  ];
}

export const PUT_ADDRESS = `INSERT INTO addresses (allocation_id, owner_id, public_ip, association_id,
  network_interface_id, instance_id, private_ip) VALUES ($1, $2, $3, $4, $5, $6, $7)
  ON CONFLICT (allocation_id) DO UPDATE SET owner_id = excluded.owner_id, public_ip = excluded.public_ip,
  association_id = excluded.association_id, network_interface_id = excluded.network_interface_id,
  instance_id = excluded.instance_id, private_ip = excluded.private_ip`;

export function addressParams(a: AddressRecord): unknown[] {
  return [
    a.allocationId,
    a.ownerId,
    a.publicIp,
    a.associationId,
    a.networkInterfaceId,
    a.instanceId,
    a.privateIp,
  ];
}
