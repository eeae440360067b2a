// Private, public and MAC addresses, chosen inside the transaction that takes them.
import { randomBytes } from "node:crypto";
import { StrataError } from "../../errors.ts";
import type { NetworkTx } from "../../storage/metadata/network-store.ts";
import { firstFree, formatIp, parseCidr, parseIp } from "./cidr.ts";
import type { SubnetRecord } from "./network-records.ts";
import type { PublicRange } from "./public-pool.ts";

/** The subnet's lowest free address from .4 up (AWS reserves .0-.3 and the last). */
export async function allocatePrivateIp(
  t: NetworkTx,
  subnet: SubnetRecord,
  taken: Set<number> = new Set(),
): Promise<string> {
  const used = new Set([...(await t.privateIpsInSubnet(subnet.id)).map((ip) => parseIp(ip)!), ...taken]);
  const ip = firstFree(parseCidr(subnet.cidr)!, used);
  if (ip === undefined) {
    throw new StrataError(
      "InsufficientFreeAddressesInSubnet",
      `There are not enough free addresses in subnet '${subnet.id}' to satisfy the requested number of instances.`,
    );
  }
  return formatIp(ip);
}

/** The lowest free address of the region's share of the public pool. */
export async function allocatePublicIp(t: NetworkTx, range: PublicRange): Promise<string> {
  const used = new Set((await t.publicIpsInUse()).map((ip) => parseIp(ip)!));
  for (let ip = range.first; ip <= range.last; ip++) if (!used.has(ip)) return formatIp(ip);
  throw new StrataError(
    "InsufficientAddressCapacity",
    "There are no free public addresses in this region's pool.",
  );
}

/** Free public addresses left in the region's share (for a launch's check before it starts). */
export async function freePublicIps(t: NetworkTx, range: PublicRange): Promise<number> {
  const inRange = (await t.publicIpsInUse()).filter((ip) => {
    const n = parseIp(ip)!;
    return n >= range.first && n <= range.last;
  });
  return range.last - range.first + 1 - inRange.length;
}

/** A random locally administered unicast MAC (02:...), unique in the region. */
export async function allocateMac(t: NetworkTx): Promise<string> {
  for (;;) {
    const mac = ["02", ...[...randomBytes(5)].map((b) => b.toString(16).padStart(2, "0"))].join(":");
    if (!(await t.macInUse(mac))) return mac;
  }
}
