// How instances are networked on this host (`strata server --network/--public-pool/--guest-egress`).

export interface NetworkOptions {
  /**
   * vpc: each VPC a network namespace with bridges, taps, DHCP, nftables security groups and
   * public addresses from the pool; user: QEMU user-mode networking (SSH through a host port);
   * auto (default): vpc when the host allows it (CAP_NET_ADMIN, nft, dnsmasq), else user.
   */
  mode: "auto" | "vpc" | "user";
  /** Public addresses (1:1 NAT), reached from the host through Strata's veth. */
  publicPool?: string;
  /** Guests may reach beyond their VPC (masquerade through the host). Off unless asked for. */
  guestEgress?: boolean;
  /**
   * "address:port": this host's VXLAN endpoint, where other hosts of the region send VPC traffic
   * for its instances (see network/tunnel.ts). Absent: instances reach only those of this host.
   */
  tunnel?: string;
}

// In the shared address space (RFC 6598), away from its start where carrier-grade NAT and
// overlay VPNs tend to live; the server refuses it when a host route overlaps it.
export const DEFAULT_PUBLIC_POOL = "100.96.0.0/16";
