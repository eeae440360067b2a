// IPv4 addresses and CIDRs as 32-bit numbers, strictly parsed: every address that reaches an `ip`
// or `nft` command line, or a dnsmasq file, has gone through here.

export interface Cidr {
  /** The network address (host bits cleared). */
  base: number;
  prefix: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function parseIp(text: string): number {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p)))
    throw new Error(`not an IPv4 address: ${text}`);
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export function parseCidr(text: string): Cidr {
  const slash = text.indexOf("/");
  if (slash < 0) throw new Error(`not an IPv4 CIDR: ${text}`);
  const prefixText = text.slice(slash + 1);
  if (!/^(3[0-2]|[12]?\d)$/.test(prefixText)) throw new Error(`not an IPv4 CIDR: ${text}`);
  const prefix = Number(prefixText);
  const addr = parseIp(text.slice(0, slash));
  return { base: addr - (addr % size(prefix)), prefix };
}

export function size(prefix: number): number {
  return 2 ** (32 - prefix);
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.prefix}`;
}

/** The address `offset` into the block (negative: from its end; -1 is the broadcast address). */
export function addressAt(c: Cidr, offset: number): string {
  return formatIp(offset >= 0 ? c.base + offset : c.base + size(c.prefix) + offset);
}

export function netmask(prefix: number): string {
  return formatIp(2 ** 32 - size(prefix));
}

export function contains(c: Cidr, ip: number): boolean {
  return ip >= c.base && ip < c.base + size(c.prefix);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + size(b.prefix) && b.base < a.base + size(a.prefix);
}

/** A CIDR as nft and ip want it: the network address; a /32 as the bare address. */
export function normalizeCidr(text: string): string {
  const c = parseCidr(text);
  return c.prefix === 32 ? formatIp(c.base) : formatCidr(c);
}

export function parseMac(text: string): string {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(text)) throw new Error(`not a MAC address: ${text}`);
  return text.toLowerCase();
}
