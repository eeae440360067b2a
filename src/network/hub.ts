// The host side of the data plane: the hub namespace, the host's veth into it and the route to the
// public pool (plus, with guest egress only, the host's masquerade table and ip_forward); and the
// removal of everything carrying the daemon's tag, at close and when a killed daemon left it.
import { rm } from "node:fs/promises";
import { ipBatch, ipJson, linkNames, nft, run, sysctl } from "./commands.ts";
import { formatCidr } from "./ipv4.ts";
import { dnsmasqRoot, HUB_HOST_SIDE, hostTable, hostVeth, hubNetns, netnsPrefix } from "./names.ts";
import { ensureNetns, listNetns, NO_IPV6, removeNetns } from "./netns.ts";
import {
  compileHostRules,
  compileHubRules,
  type HostAddress,
  type HostRoute,
  type PoolLayout,
  poolConflict,
} from "./public-link.ts";
import type { DataPlaneOptions } from "./spec.ts";

/** Refuses a pool that overlaps a host route or address (the data plane's own veth excepted). */
export async function checkPoolFree(layout: PoolLayout, ownVeth: string): Promise<void> {
  const [routes, addresses] = await Promise.all([
    ipJson<HostRoute[]>(null, ["-4", "route", "show", "table", "all"]),
    ipJson<HostAddress[]>(null, ["-4", "addr", "show"]),
  ]);
  const pool = formatCidr(layout.pool);
  const conflict = poolConflict(pool, routes, addresses, ownVeth);
  if (conflict) {
    throw new Error(`the public pool ${pool} overlaps the host's ${conflict}: choose another --public-pool`);
  }
}

export async function buildHub(options: DataPlaneOptions, layout: PoolLayout): Promise<void> {
  const hub = hubNetns(options.tag);
  const veth = hostVeth(options.tag);
  await ensureNetns(hub);
  await sysctl(hub, { "net.ipv4.ip_forward": 1, ...NO_IPV6 });
  await nft(hub, compileHubRules(layout, options.guestEgress, HUB_HOST_SIDE));
  await ipBatch(null, [
    `link add name ${veth} type veth peer name ${HUB_HOST_SIDE} netns ${hub}`,
    `addr add ${layout.hostIp}/30 dev ${veth}`,
    `link set ${veth} up`,
  ]);
  await ipBatch(hub, [
    `addr add ${layout.hubIp}/30 dev ${HUB_HOST_SIDE}`,
    `link set ${HUB_HOST_SIDE} up`,
    // Pool addresses no VPC holds go nowhere (not back to the host).
    `route add unreachable ${formatCidr(layout.pool)}`,
    ...(options.guestEgress ? [`route add default via ${layout.hostIp} dev ${HUB_HOST_SIDE}`] : []),
  ]);
  await ipBatch(null, [
    `route add ${formatCidr(layout.pool)} via ${layout.hubIp} dev ${veth} src ${layout.hostIp}`,
  ]);
  if (options.guestEgress) {
    await nft(null, compileHostRules(hostTable(options.tag), layout, veth));
    // Left on at close: something else on the host may rely on it by then.
    await run("sysctl", ["-q", "-w", "net.ipv4.ip_forward=1"]);
  }
}

/** Everything of this tag: namespaces (with their processes), the host's veth (and so its route), the host table, dnsmasq's files. */
export async function removeTagged(tag: string): Promise<void> {
  const prefix = netnsPrefix(tag);
  for (const ns of await listNetns()) {
    if (ns.startsWith(prefix)) await removeNetns(ns);
  }
  const veth = hostVeth(tag);
  // Removing the hub namespace destroys the pair: its host end may vanish meanwhile.
  if ((await linkNames(null)).has(veth)) {
    await run("ip", ["link", "del", veth], { allowFail: true });
    if ((await linkNames(null)).has(veth)) throw new Error(`could not remove the host veth ${veth}`);
  }
  // A tunnel port created on the host but not yet moved into its VPC's namespace (see tunnel.ts).
  for (const link of await linkNames(null)) {
    if (link.startsWith(`x${tag}`)) await run("ip", ["link", "del", link], { allowFail: true });
  }
  const table = hostTable(tag);
  const tables = await run("nft", ["list", "tables"], { allowFail: true });
  if (tables.stdout.split("\n").includes(`table inet ${table}`)) {
    await run("nft", ["delete", "table", "inet", table]);
  }
  await rm(dnsmasqRoot(tag), { recursive: true, force: true });
}
