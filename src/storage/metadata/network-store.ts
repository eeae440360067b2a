// The EC2 network model in the region's database. A change and every check it depends on run in
// one synchronous transaction (tx), so "is this CIDR free" and "insert the subnet" cannot be
// interleaved with another request, and a failed check leaves nothing written.
import type { GroupMembership } from "../../services/network/contracts.ts";
import type {
  AddressRecord,
  InternetGatewayRecord,
  NetworkInterfaceRecord,
  RouteTableRecord,
  SubnetRecord,
  VpcRecord,
} from "../../services/network/network-records.ts";
import type { Tag } from "./catalog-store.ts";

/** An interface as stored: the record and what its auto-assigned public address follows. */
export interface StoredInterface extends NetworkInterfaceRecord {
  /** Launched with an auto-assigned public address: EC2 assigns a new one at every start. */
  autoPublic: boolean;
  /** The instance is not stopped (an auto-assigned address is held only then). */
  started: boolean;
}

/** Reads and writes inside one transaction (synchronous: nothing interleaves). */
export interface NetworkTx {
  vpc(id: string): VpcRecord | undefined;
  vpcsOf(ownerId: string): VpcRecord[];
  defaultVpcOf(ownerId: string): VpcRecord | undefined;
  insertVpc(vpc: VpcRecord): void;
  deleteVpc(id: string): void;
  markGroupReady(vpcId: string): void;
  groupReady(vpcId: string): boolean;
  vpcsWithoutGroup(): VpcRecord[];

  subnet(id: string): SubnetRecord | undefined;
  subnetsOf(ownerId: string): SubnetRecord[];
  subnetsInVpc(vpcId: string): SubnetRecord[];
  insertSubnet(subnet: SubnetRecord): void;
  updateSubnet(subnet: SubnetRecord): void;
  deleteSubnet(id: string): void;

  gateway(id: string): InternetGatewayRecord | undefined;
  gatewaysOf(ownerId: string): InternetGatewayRecord[];
  gatewayOfVpc(vpcId: string): InternetGatewayRecord | undefined;
  insertGateway(gateway: InternetGatewayRecord): void;
  updateGateway(gateway: InternetGatewayRecord): void;
  deleteGateway(id: string): void;

  routeTable(id: string): RouteTableRecord | undefined;
  routeTablesOf(ownerId: string): RouteTableRecord[];
  routeTablesInVpc(vpcId: string): RouteTableRecord[];
  /** The table whose association (explicit or main) has this id. */
  routeTableOfAssociation(associationId: string): RouteTableRecord | undefined;
  /** Inserts or replaces the table with its routes and associations. */
  putRouteTable(table: RouteTableRecord): void;
  deleteRouteTable(id: string): void;

  networkInterface(id: string): StoredInterface | undefined;
  interfacesOf(ownerId: string): StoredInterface[];
  interfacesInVpc(vpcId: string): StoredInterface[];
  interfacesInSubnet(subnetId: string): StoredInterface[];
  interfacesOfInstances(instanceIds: string[]): StoredInterface[];
  /** Inserts or replaces the interface. */
  putInterface(nic: StoredInterface): void;
  deleteInterface(id: string): void;
  privateIpsInSubnet(subnetId: string): string[];
  macInUse(mac: string): boolean;
  /** Every public address held in the region (auto-assigned and Elastic). */
  publicIpsInUse(): string[];

  address(allocationId: string): AddressRecord | undefined;
  addressByIp(publicIp: string): AddressRecord | undefined;
  addressByAssociation(associationId: string): AddressRecord | undefined;
  addressOfInterface(networkInterfaceId: string): AddressRecord | undefined;
  addressesOf(ownerId: string): AddressRecord[];
  putAddress(address: AddressRecord): void;
  deleteAddress(allocationId: string): void;

  insertTags(resourceIds: string[], tags: Tag[]): void;
  deleteTags(resourceIds: string[]): void;
}

export interface NetworkStore extends GroupMembership {
  /** Runs fn in one transaction: it commits when fn returns, nothing of it stays when fn throws. */
  tx<T>(fn: (t: NetworkTx) => T): T;
}
