// Linux names of the data plane's objects. Namespaces are host-wide, so they carry the daemon's tag
// (a hash of its data dir: two daemons, e.g. tests in parallel, never collide); interface names
// are at most 15 characters and need only be unique where they live (the host, the hub or one
// VPC's namespace), so they are short hashes of the ids they stand for.
import { createHash } from "node:crypto";

/** 6 hex chars identifying one daemon's data dir. */
export function dataPlaneTag(dataDir: string): string {
  return shortHash(dataDir, 6);
}

function shortHash(text: string, chars: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, chars);
}

function checkTag(tag: string): string {
  if (!/^[0-9a-f]{6}$/.test(tag)) throw new Error(`data plane tag must be 6 hex chars: ${tag}`);
  return tag;
}

/** Every namespace of one daemon starts with this. */
export function netnsPrefix(tag: string): string {
  return `strata-${checkTag(tag)}-`;
}

/** The hub: between the host's veth and the VPCs' namespaces. */
export function hubNetns(tag: string): string {
  return `${netnsPrefix(tag)}hub`;
}

/** A VPC's namespace: strata-<tag>-<the vpc id's hex part>. */
export function vpcNetns(tag: string, vpcId: string): string {
  const m = /^vpc-([0-9a-f]{8,17})$/.exec(vpcId);
  if (!m) throw new Error(`not a VPC id: ${vpcId}`);
  return `${netnsPrefix(tag)}${m[1]}`;
}

/** The host's end of the veth into the hub (the only interface the data plane adds to the host). */
export function hostVeth(tag: string): string {
  return `strata${checkTag(tag)}`;
}

/** The hub's end of the host's veth (in the hub namespace). */
export const HUB_HOST_SIDE = "host";
/** A VPC namespace's end of its link to the hub. */
export const VPC_UPLINK = "uplink";
/** A VPC namespace's VXLAN device to the same VPC on other hosts (see tunnel.ts). */
export const VPC_TUNNEL = "tunnel";

/** The hub's end of a VPC's link (in the hub namespace). */
export function hubVpcLink(vpcId: string): string {
  return `v${shortHash(vpcId, 12)}`;
}

/** A subnet's bridge (in its VPC's namespace). */
export function subnetBridge(subnetId: string): string {
  return `b${shortHash(subnetId, 12)}`;
}

/**
 * A subnet bridge's own MAC. Without one a Linux bridge takes the lowest MAC of its ports, so it
 * changes when a port leaves and the other guests' ARP entries for the router go stale. Prefix 0a
 * (locally administered) keeps it apart from the instances' 02: MACs.
 */
export function bridgeMac(subnetId: string): string {
  const h = shortHash(`mac:${subnetId}`, 10);
  return `0a:${h.match(/../g)!.join(":")}`;
}

/** An instance's tap (in its VPC's namespace). */
export function nicTap(instanceId: string): string {
  return `t${shortHash(instanceId, 12)}`;
}

/** The host's nftables table (only with guest egress). */
export function hostTable(tag: string): string {
  return `strata-${checkTag(tag)}`;
}

/** Where dnsmasq's files are: readable by it after it drops root (see dhcp.ts). */
export function dnsmasqRoot(tag: string): string {
  return `/run/strata-${checkTag(tag)}`;
}
