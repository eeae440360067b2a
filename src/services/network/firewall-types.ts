// The data plane's firewall input, exactly as pinned in NETWORK-DESIGN.md (src/network/data-plane.ts
// defines the same types; the lead keeps one of the two when merging).

export interface FirewallRule {
  protocol: "tcp" | "udp" | "icmp" | "all";
  /** tcp/udp port range; icmp: type (fromPort) / code (toPort), -1 = any. */
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
