// IPv4 CIDR arithmetic for the network model: addresses as unsigned 32-bit numbers.
import { StrataError } from "../../errors.ts";

export interface Cidr {
  base: number;
  prefix: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The address as a number, or undefined when it is not a dotted IPv4 address. */
export function parseIp(ip: string): number | undefined {
  const m = IPV4.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p, i) => p > 255 || (m[i + 1].length > 1 && m[i + 1].startsWith("0")))) return undefined;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** A canonical CIDR (the base is the network address), or undefined. */
export function parseCidr(cidr: string): Cidr | undefined {
  const slash = cidr.indexOf("/");
  if (slash < 0) return undefined;
  const base = parseIp(cidr.slice(0, slash));
  const p = cidr.slice(slash + 1);
  if (base === undefined || !/^\d{1,2}$/.test(p) || Number(p) > 32) return undefined;
  const prefix = Number(p);
  if ((base & mask(prefix)) >>> 0 !== base) return undefined;
  return { base, prefix };
}

/** The CIDR or EC2's InvalidParameterValue for a block that is not one (e.g. 10.0.0.1/16). */
export function cidrParameter(cidr: string, parameter: string): Cidr {
  const c = parseCidr(cidr);
  if (!c) {
    throw new StrataError(
      "InvalidParameterValue",
      `Value (${cidr}) for parameter ${parameter} is invalid. This is not a valid CIDR block.`,
    );
  }
  return c;
}

export function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.prefix}`;
}

export function containsIp(c: Cidr, ip: number): boolean {
  return ip >= c.base && ip < c.base + size(c);
}

/** Whether `inner` lies wholly inside `outer`. */
export function containsCidr(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && containsIp(outer, inner.base);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return containsIp(a, b.base) || containsIp(b, a.base);
}

// AWS reserves the first four addresses of every subnet (network, router, DNS, future use) and
// the last (broadcast): https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html
export const RESERVED_LOW = 4;

/** Whether the address is one of the subnet's five AWS-reserved addresses. */
export function isReserved(c: Cidr, ip: number): boolean {
  return ip < c.base + RESERVED_LOW || ip === c.base + size(c) - 1;
}

/** Addresses instances can have in the subnet (its size less the five reserved). */
export function usableCount(c: Cidr): number {
  return size(c) - RESERVED_LOW - 1;
}

/** The first address from .4 up that is not in `used`, or undefined when the subnet is full. */
export function firstFree(c: Cidr, used: Set<number>): number | undefined {
  const last = c.base + size(c) - 2;
  for (let ip = c.base + RESERVED_LOW; ip <= last; ip++) if (!used.has(ip)) return ip;
  return undefined;
}
