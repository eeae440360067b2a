// The host's way into Strata's networks: one veth from the host into the hub namespace, one host
// route to the public pool through it, and per VPC a veth from the hub to the VPC's namespace. The
// pool's first 16 addresses are these links': the host's veth /30 (.1 host, .2 hub) and the
// VPC links (every hub end .5/32, every VPC end .6/32, reached "onlink": one pair of addresses
// serves any number of VPCs, each link being its own segment).
import { addressAt, type Cidr, contains, formatCidr, overlaps, parseCidr, parseIp } from "./ipv4.ts";

export const RESERVED_POOL_ADDRESSES = 16;

export interface PoolLayout {
  pool: Cidr;
  hostIp: string;
  hubIp: string;
  /** The host veth's /30. */
  hostLink: string;
  hubVpcIp: string;
  vpcUplinkIp: string;
}

export function poolLayout(publicPool: string): PoolLayout {
  const pool = parseCidr(publicPool);
  if (pool.prefix > 27) throw new Error(`the public pool ${publicPool} is too small (at most /27)`);
  return {
    pool,
    hostIp: addressAt(pool, 1),
    hubIp: addressAt(pool, 2),
    hostLink: `${addressAt(pool, 0)}/30`,
    hubVpcIp: addressAt(pool, 5),
    vpcUplinkIp: addressAt(pool, 6),
  };
}

/** A public address must be in the pool, beyond its reserved start, not its broadcast address. */
export function checkPublicIp(layout: PoolLayout, ip: string): void {
  const n = parseIp(ip);
  const last = parseIp(addressAt(layout.pool, -1));
  if (!contains(layout.pool, n) || n < layout.pool.base + RESERVED_POOL_ADDRESSES || n === last) {
    throw new Error(`${ip} is not a usable address of the public pool ${formatCidr(layout.pool)}`);
  }
}

export interface HostRoute {
  dst: string;
  dev?: string;
  table?: string;
  type?: string;
}

export interface HostAddress {
  ifname: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

/**
 * The host route or address the pool would overlap (`ip -j -4 route show table all`, `ip -j addr`),
 * or null. Default routes are no conflict (the pool route is more specific); neither is anything
 * on the data plane's own veth (a re-open).
 */
export function poolConflict(
  pool: string,
  routes: HostRoute[],
  addresses: HostAddress[],
  ownDevice: string,
): string | null {
  const p = parseCidr(pool);
  for (const r of routes) {
    if (r.dst === "default" || r.dev === ownDevice) continue;
    const dst = parseCidr(r.dst.includes("/") ? r.dst : `${r.dst}/32`);
    if (overlaps(p, dst)) {
      return `route ${r.dst}${r.dev ? ` dev ${r.dev}` : ""}${r.table ? ` table ${r.table}` : ""}`;
    }
  }
  for (const a of addresses) {
    if (a.ifname === ownDevice) continue;
    for (const i of a.addr_info ?? []) {
      if (i.family !== "inet") continue;
      if (overlaps(p, parseCidr(`${i.local}/${i.prefixlen}`)))
        return `address ${i.local}/${i.prefixlen} on ${a.ifname}`;
    }
  }
  return null;
}

/**
 * The hub's own rules: the host may open connections to the pool; what comes back from the VPCs is
 * replies only, unless guest egress lets guests' connections out to (and through) the host.
 * Nothing may open a connection to the hub itself.
 */
export function compileHubRules(layout: PoolLayout, guestEgress: boolean, hostSide: string): string {
  const pool = formatCidr(layout.pool);
  const forward = [
    "type filter hook forward priority filter; policy drop;",
    "ct state established,related accept",
    `iifname "${hostSide}" ip daddr ${pool} accept`,
  ];
  if (guestEgress) forward.push(`iifname != "${hostSide}" accept`);
  return [
    "table inet strata-hub",
    "delete table inet strata-hub",
    "table inet strata-hub {",
    "  chain input {",
    "    type filter hook input priority filter; policy drop;",
    '    iif "lo" accept',
    "    ct state established,related accept",
    "  }",
    "  chain forward {",
    ...forward.map((l) => `    ${l}`),
    "  }",
    "}",
    "",
  ].join("\n");
}

/**
 * With guest egress only: on the host, guests' connections leave masqueraded (their source is a
 * pool address), and none of them may open a connection to the host itself.
 */
export function compileHostRules(table: string, layout: PoolLayout, hostVethName: string): string {
  return [
    `table inet ${table}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    "  chain input {",
    "    type filter hook input priority filter; policy accept;",
    `    iifname "${hostVethName}" ct state established,related accept`,
    `    iifname "${hostVethName}" drop`,
    "  }",
    "  chain post {",
    "    type nat hook postrouting priority srcnat; policy accept;",
    `    ip saddr ${formatCidr(layout.pool)} oifname != "${hostVethName}" masquerade`,
    "  }",
    "}",
    "",
  ].join("\n");
}
