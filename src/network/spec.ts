// The data plane's inputs: what the control plane tells it about VPCs, interfaces and firewalls.
// Plain addresses and ids only; the data plane knows nothing of the database or EC2 shapes.

export interface SubnetSpec {
  id: string;
  /** The router is the .1 of the subnet (AWS reserves .0-.3 and the last address). */
  cidr: string;
}

export interface VpcSpec {
  id: string;
  /** The VPC's DNS server is the CIDR's base + 2 (e.g. 172.31.0.2), as on AWS. */
  cidr: string;
  subnets: SubnetSpec[];
}

export interface NicSpec {
  instanceId: string;
  vpcId: string;
  subnetId: string;
  mac: string;
  privateIp: string;
  /** 1:1 NAT from the public pool when set. */
  publicIp: string | null;
  /** ip-a-b-c-d (DHCP option 12); the VPC's DNS answers <hostname>.<domain>. */
  hostname: string;
  /** The instance's IMDS unix socket (MetadataService.socketPath). */
  metadataSocket: string;
}

export interface FirewallRule {
  protocol: "tcp" | "udp" | "icmp" | "all";
  /** tcp/udp: port range; icmp: type (fromPort) and code (toPort), -1 = any. Absent: all. */
  fromPort?: number;
  toPort?: number;
  /** IPv4 CIDRs; group references already resolved to member /32s. */
  cidrs: string[];
}

export interface NicFirewall {
  instanceId: string;
  privateIp: string;
  ingress: FirewallRule[];
  egress: FirewallRule[];
}

export interface DataPlaneOptions {
  /** 6 hex chars of a hash of the data dir (namesOf: two daemons never collide). */
  tag: string;
  /** <data-dir>/run (0700): state the data plane keeps for itself. */
  runDir: string;
  /** CIDR of the public pool; its first 16 addresses are the data plane's own links. */
  publicPool: string;
  /** Masquerade guests with a public address to beyond the VPC through the host. */
  guestEgress: boolean;
  /** The DNS domain of a VPC's hostnames, e.g. "ec2.internal" or "eu-west-1.compute.internal". */
  domain: (vpcId: string) => string;
  /** This host's VXLAN endpoint, for VPC traffic to instances on other hosts (absent: none). */
  tunnel?: { address: string; port: number };
}
