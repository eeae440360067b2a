// VPC traffic between hosts (issue 12): each VPC's namespace gets one VXLAN device, the VPC's
// tunnel (one VNI per VPC, the same on every host), and traffic to an interface on another host is
// routed into it: a /32 route per remote interface, a permanent neighbour entry giving the other
// host's tunnel MAC, and a forwarding entry giving that MAC's host. No learning, no flooding: the
// control plane (the region's database) says where each interface is, as EVPN routes would.
// A guest asking (ARP) for a remote address of its own subnet gets the router's MAC (proxy ARP),
// so traffic between hosts is always routed, entering the other host's namespace like traffic
// from its uplink: its firewall (stateful, conntrack) sees it, and each host keeps its own router,
// DHCP, DNS and metadata for its own guests. (Bridging the tunnel into the subnet's bridge instead
// loses the receiving host's conntrack state on this kernel: br_netfilter never confirmed entries
// for frames from a VXLAN port, so every reply was "invalid".)
//
// The VXLAN device's UDP socket lives in the namespace the device was created in: it is created on
// the host (where the underlay is) under a temporary name and moved into the VPC's namespace.
import { createHash, randomBytes } from "node:crypto";
import { isIPv4 } from "node:net";
import { run } from "./commands.ts";
import { subnetBridge, VPC_TUNNEL } from "./names.ts";
import { disableLocalBypass } from "./vxlan-local-bypass.ts";

export interface TunnelEndpoint {
  address: string;
  port: number;
}

/** An interface of the VPC running on another host, and where that host's tunnel is. */
export interface RemoteNic {
  subnetId: string;
  mac: string;
  ip: string;
  endpoint: TunnelEndpoint;
}

/** "address:port" (IPv4 literal, UDP port) as `--tunnel` and the hosts table take it. */
export function parseEndpoint(text: string): TunnelEndpoint {
  const m = /^(\d+\.\d+\.\d+\.\d+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : 0;
  if (!m || !isIPv4(m[1]) || port < 1 || port > 65535) {
    throw new Error(`a tunnel endpoint is an IPv4 address and a UDP port, e.g. 10.0.0.5:4789 (got ${text})`);
  }
  return { address: m[1], port };
}

export function formatEndpoint(e: TunnelEndpoint): string {
  return `${e.address}:${e.port}`;
}

/** A VPC's VNI: 24 bits of a hash of its id, never 0 (the same on every host, no allocation). */
export function vpcVni(vpcId: string): number {
  let h = 0x811c9dc5;
  for (const c of Buffer.from(vpcId)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return (h % 0xffffff) + 1;
}

/** The MAC of a host's tunnel device in a VPC: every other host derives it from the endpoint. */
export function tunnelMac(endpoint: TunnelEndpoint, vpcId: string): string {
  const h = createHash("sha256")
    .update(`${formatEndpoint(endpoint)}/${vpcId}`)
    .digest("hex");
  return `0e:${h.slice(0, 10).match(/../g)!.join(":")}`;
}

let warned = false;

/** Creates the VPC's tunnel device on the host and moves it into the VPC's namespace. */
export async function addTunnel(
  netns: string,
  tag: string,
  vpcId: string,
  local: TunnelEndpoint,
): Promise<void> {
  const temp = `x${tag}${randomBytes(4).toString("hex")}`;
  await run("ip", [
    "link",
    "add",
    "name",
    temp,
    "address",
    tunnelMac(local, vpcId),
    // 1500 like the guests: the outer packets may be fragmented on a 1500-byte underlay.
    "mtu",
    "1500",
    "type",
    "vxlan",
    "id",
    String(vpcVni(vpcId)),
    "local",
    local.address,
    "dstport",
    String(local.port),
    "nolearning",
  ]);
  try {
    const bypass = await disableLocalBypass(temp);
    if (!bypass.ok && !warned) {
      warned = true;
      console.warn(
        `VXLAN local bypass stays on (${bypass.reason}): tunnels work between machines, not between Strata hosts on one machine`,
      );
    }
    await run("ip", ["link", "set", temp, "netns", netns]);
  } catch (e) {
    await run("ip", ["link", "del", temp], { allowFail: true });
    throw e;
  }
  await run("ip", ["-n", netns, "-batch", "-"], {
    input: `link set ${temp} name ${VPC_TUNNEL}\nlink set ${VPC_TUNNEL} up\n`,
  });
}

/**
 * The forwarding state for `remotes` as a set of entries, each naming what to add and how to remove
 * it: the route into the tunnel, the neighbour entry (the other host's tunnel MAC), the VXLAN
 * forwarding entry (that MAC's host), and the proxy ARP entry on the interface's subnet bridge.
 */
export function tunnelEntries(vpcId: string, remotes: RemoteNic[], subnets: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const r of remotes) {
    if (!subnets.has(r.subnetId)) continue;
    const mac = tunnelMac(r.endpoint, vpcId);
    out.add(`rt ${r.ip}`);
    out.add(`nb ${r.ip} ${mac}`);
    out.add(`vx ${mac} ${r.endpoint.address} ${r.endpoint.port}`);
    out.add(`px ${subnetBridge(r.subnetId)} ${r.ip}`);
  }
  return out;
}

/** Applies the difference between two entry sets in the namespace (removals first). */
export async function applyTunnelEntries(netns: string, from: Set<string>, to: Set<string>): Promise<void> {
  const removals = { bridge: [] as string[], ip: [] as string[] };
  const additions = { bridge: [] as string[], ip: [] as string[] };
  const line = (entry: string, add: boolean) => {
    const { bridge, ip } = add ? additions : removals;
    const [kind, a, b, c] = entry.split(" ");
    const dev = VPC_TUNNEL;
    if (kind === "vx") {
      bridge.push(
        add ? `fdb replace ${a} dev ${dev} dst ${b} port ${c} self` : `fdb del ${a} dev ${dev} self`,
      );
    } else if (kind === "rt") {
      ip.push(add ? `route replace ${a}/32 dev ${dev}` : `route del ${a}/32 dev ${dev}`);
    } else if (kind === "nb") {
      ip.push(add ? `neigh replace ${a} lladdr ${b} dev ${dev} nud permanent` : `neigh del ${a} dev ${dev}`);
    } else {
      ip.push(add ? `neigh replace proxy ${b} dev ${a}` : `neigh del proxy ${b} dev ${a}`);
    }
  };
  for (const e of from) if (!to.has(e)) line(e, false);
  for (const e of to) if (!from.has(e)) line(e, true);
  // A removal may find its entry gone with its bridge (a subnet deleted meanwhile): not an error.
  await batches(netns, removals, true);
  await batches(netns, additions, false);
}

async function batches(netns: string, c: { bridge: string[]; ip: string[] }, allowFail: boolean) {
  if (c.bridge.length) {
    await run("ip", ["netns", "exec", netns, "bridge", "-force", "-batch", "-"], {
      input: `${c.bridge.join("\n")}\n`,
      allowFail,
    });
  }
  if (c.ip.length) {
    await run("ip", ["-n", netns, "-force", "-batch", "-"], { input: `${c.ip.join("\n")}\n`, allowFail });
  }
}
