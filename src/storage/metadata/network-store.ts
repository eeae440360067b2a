// The EC2 network model in the region's database. A change and every check it depends on run in
// one transaction (tx, an async unit of work), so "is this CIDR free" and "insert the subnet"
// cannot be interleaved with another request, and a failed check leaves nothing written.
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

/**
 * Reads and writes inside one transaction (a unit of work: nothing of another request joins it or
 * interleaves with it in a way it could see). Await every call; use it only inside its tx().
 */
export interface NetworkTx {
  vpc(id: string): Promise<VpcRecord | undefined>;
  vpcsOf(ownerId: string): Promise<VpcRecord[]>;
  defaultVpcOf(ownerId: string): Promise<VpcRecord | undefined>;
  insertVpc(vpc: VpcRecord): Promise<void>;
  deleteVpc(id: string): Promise<void>;
  markGroupReady(vpcId: string): Promise<void>;
  groupReady(vpcId: string): Promise<boolean>;
  vpcsWithoutGroup(): Promise<VpcRecord[]>;

  subnet(id: string): Promise<SubnetRecord | undefined>;
  subnetsOf(ownerId: string): Promise<SubnetRecord[]>;
  subnetsInVpc(vpcId: string): Promise<SubnetRecord[]>;
  insertSubnet(subnet: SubnetRecord): Promise<void>;
  updateSubnet(subnet: SubnetRecord): Promise<void>;
  deleteSubnet(id: string): Promise<void>;

  gateway(id: string): Promise<InternetGatewayRecord | undefined>;
  gatewaysOf(ownerId: string): Promise<InternetGatewayRecord[]>;
  gatewayOfVpc(vpcId: string): Promise<InternetGatewayRecord | undefined>;
  insertGateway(gateway: InternetGatewayRecord): Promise<void>;
  updateGateway(gateway: InternetGatewayRecord): Promise<void>;
  deleteGateway(id: string): Promise<void>;

  routeTable(id: string): Promise<RouteTableRecord | undefined>;
  routeTablesOf(ownerId: string): Promise<RouteTableRecord[]>;
  routeTablesInVpc(vpcId: string): Promise<RouteTableRecord[]>;
  /** The table whose association (explicit or main) has this id. */
  routeTableOfAssociation(associationId: string): Promise<RouteTableRecord | undefined>;
  /** Inserts or replaces the table with its routes and associations. */
  putRouteTable(table: RouteTableRecord): Promise<void>;
  deleteRouteTable(id: string): Promise<void>;

  networkInterface(id: string): Promise<StoredInterface | undefined>;
  interfacesOf(ownerId: string): Promise<StoredInterface[]>;
  interfacesInVpc(vpcId: string): Promise<StoredInterface[]>;
  interfacesInSubnet(subnetId: string): Promise<StoredInterface[]>;
  interfacesOfInstances(instanceIds: string[]): Promise<StoredInterface[]>;
  /** Inserts or replaces the interface. */
  putInterface(nic: StoredInterface): Promise<void>;
  /**
   * InvalidGroup.NotFound unless every security group exists. A unit giving an interface groups
   * checks them here, in its own transaction, so a DeleteSecurityGroup (which refuses while an
   * interface has the group, in its transaction) cannot slip in after the service's lookup.
   */
  requireGroups(groupIds: string[]): Promise<void>;
  deleteInterface(id: string): Promise<void>;
  privateIpsInSubnet(subnetId: string): Promise<string[]>;
  macInUse(mac: string): Promise<boolean>;
  /** Every public address held in the region (auto-assigned and Elastic). */
  publicIpsInUse(): Promise<string[]>;

  address(allocationId: string): Promise<AddressRecord | undefined>;
  addressByIp(publicIp: string): Promise<AddressRecord | undefined>;
  addressByAssociation(associationId: string): Promise<AddressRecord | undefined>;
  addressOfInterface(networkInterfaceId: string): Promise<AddressRecord | undefined>;
  addressesOf(ownerId: string): Promise<AddressRecord[]>;
  putAddress(address: AddressRecord): Promise<void>;
  deleteAddress(allocationId: string): Promise<void>;

  insertTags(resourceIds: string[], tags: Tag[]): Promise<void>;
  deleteTags(resourceIds: string[]): Promise<void>;
}

export interface NetworkStore extends GroupMembership {
  /**
   * Runs fn as one unit of work: it commits when fn resolves, nothing of it stays when fn throws.
   * fn must await only its NetworkTx calls (and pure work): the transaction is held while it waits.
   */
  tx<T>(fn: (t: NetworkTx) => Promise<T>): Promise<T>;
}
