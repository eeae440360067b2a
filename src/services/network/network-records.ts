// The EC2 network model's records, as the region's database keeps them. Everything is per account
// and region: another account's VPCs, groups and addresses do not exist for it.

export interface VpcRecord {
  id: string; // vpc-...
  ownerId: string;
  cidr: string; // e.g. 172.31.0.0/16 (/16 to /28, as EC2)
  isDefault: boolean;
  createdAt: string;
}

export interface SubnetRecord {
  id: string; // subnet-...
  ownerId: string;
  vpcId: string;
  cidr: string;
  availabilityZone: string;
  mapPublicIpOnLaunch: boolean;
  defaultForAz: boolean;
}

export interface InternetGatewayRecord {
  id: string; // igw-...
  ownerId: string;
  vpcId: string | null;
}

export interface RouteRecord {
  destinationCidr: string;
  /** "local" for the VPC's own CIDR, else an internet gateway id. */
  gatewayId: string;
}

export interface RouteTableRecord {
  id: string; // rtb-...
  ownerId: string;
  vpcId: string;
  main: boolean;
  routes: RouteRecord[];
  /** Explicit subnet associations (rtbassoc-... -> subnet id); the main table has its own too. */
  associations: { id: string; subnetId: string | null; main: boolean }[];
}

export interface SecurityGroupRecord {
  id: string; // sg-...
  ownerId: string;
  vpcId: string;
  name: string;
  description: string;
}

export type RuleProtocol = "tcp" | "udp" | "icmp" | "-1";

export interface SecurityGroupRuleRecord {
  id: string; // sgr-...
  groupId: string;
  ownerId: string;
  egress: boolean;
  protocol: RuleProtocol;
  /** -1 for all (protocol -1), ICMP type for icmp. */
  fromPort: number;
  /** -1 for all (protocol -1), ICMP code for icmp. */
  toPort: number;
  /** Exactly one of cidr / referencedGroupId. */
  cidr: string | null;
  referencedGroupId: string | null;
  description: string | null;
}

export interface NetworkInterfaceRecord {
  id: string; // eni-...
  ownerId: string;
  vpcId: string;
  subnetId: string;
  availabilityZone: string;
  mac: string;
  privateIp: string;
  groupIds: string[];
  /** The public address auto-assigned at launch (not an Elastic IP), released at stop as on EC2. */
  publicIp: string | null;
  instanceId: string | null;
  attachmentId: string | null; // eni-attach-...
  deviceIndex: number;
  deleteOnTermination: boolean;
  description: string;
}

export interface AddressRecord {
  allocationId: string; // eipalloc-...
  ownerId: string;
  publicIp: string;
  associationId: string | null; // eipassoc-...
  networkInterfaceId: string | null;
  instanceId: string | null;
  privateIp: string | null;
}
