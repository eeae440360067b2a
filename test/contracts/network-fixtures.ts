// Network records for the NetworkStore contract: every field set, unique ids, addresses and MACs.
import type {
  AddressRecord,
  InternetGatewayRecord,
  RouteTableRecord,
  SubnetRecord,
  VpcRecord,
} from "../../src/services/network/network-records.ts";
import type { CatalogStore } from "../../src/storage/metadata/catalog-store.ts";
import type { NetworkStore, StoredInterface } from "../../src/storage/metadata/network-store.ts";
import type { SecurityGroupStore } from "../../src/storage/metadata/security-group-store.ts";
import { uid } from "./harness.ts";

export interface NetworkStores {
  network: NetworkStore;
  /** Reads the tags NetworkTx writes. */
  catalog: CatalogStore;
  /** The groups interfaces name (requireGroups), and whose deletion their members hold up. */
  securityGroups: SecurityGroupStore;
}

let counter = 0;
const next = () => ++counter;
const octets = (n: number) => `${(n >> 8) & 255}.${n & 255}`;
const hex = (n: number) => (n & 255).toString(16).padStart(2, "0");

/** A public address unique within the process. */
export const publicIp = () => `100.96.${octets(next())}`;
/** A private address unique within the process. */
export const privateIp = () => `10.9.${octets(next())}`;
const mac = () => {
  const n = next();
  return `02:00:00:${hex(n >> 16)}:${hex(n >> 8)}:${hex(n)}`;
};

export function vpc(ownerId: string, over: Partial<VpcRecord> = {}): VpcRecord {
  return {
    id: uid("vpc"),
    ownerId,
    cidr: "10.9.0.0/16",
    isDefault: false,
    createdAt: "2026-12-03T21:00:00.123Z",
    ...over,
  };
}

export function subnet(v: VpcRecord, over: Partial<SubnetRecord> = {}): SubnetRecord {
  return {
    id: uid("subnet"),
    ownerId: v.ownerId,
    vpcId: v.id,
    cidr: "10.9.16.0/20",
    availabilityZone: "us-east-1b",
    mapPublicIpOnLaunch: true,
    defaultForAz: false,
    ...over,
  };
}

export function gateway(ownerId: string, vpcId: string | null): InternetGatewayRecord {
  return { id: uid("igw"), ownerId, vpcId };
}

export function routeTable(v: VpcRecord, over: Partial<RouteTableRecord> = {}): RouteTableRecord {
  return {
    id: uid("rtb"),
    ownerId: v.ownerId,
    vpcId: v.id,
    main: false,
    routes: [
      { destinationCidr: v.cidr, gatewayId: "local" },
      { destinationCidr: "0.0.0.0/0", gatewayId: uid("igw") },
    ],
    associations: [],
    ...over,
  };
}

export function nic(s: SubnetRecord, over: Partial<StoredInterface> = {}): StoredInterface {
  return {
    id: uid("eni"),
    ownerId: s.ownerId,
    vpcId: s.vpcId,
    subnetId: s.id,
    availabilityZone: s.availabilityZone,
    mac: mac(),
    privateIp: privateIp(),
    groupIds: [uid("sg"), uid("sg")].reverse(),
    publicIp: publicIp(),
    autoPublic: true,
    started: true,
    instanceId: uid("i"),
    attachmentId: uid("eni-attach"),
    deviceIndex: 0,
    deleteOnTermination: true,
    description: "primary ✓ — eth0",
    ...over,
  };
}

export function address(ownerId: string, over: Partial<AddressRecord> = {}): AddressRecord {
  return {
    allocationId: uid("eipalloc"),
    ownerId,
    publicIp: publicIp(),
    associationId: null,
    networkInterfaceId: null,
    instanceId: null,
    privateIp: null,
    ...over,
  };
}

/** The address associated with the interface. */
export function associated(a: AddressRecord, n: StoredInterface): AddressRecord {
  return {
    ...a,
    associationId: uid("eipassoc"),
    networkInterfaceId: n.id,
    instanceId: n.instanceId,
    privateIp: n.privateIp,
  };
}
