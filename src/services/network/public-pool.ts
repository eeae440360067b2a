// The host's public pool (`--public-pool`, default 100.96.0.0/16, inside the shared address space
// 100.64.0.0/10): its first 16 addresses belong to the data plane's own links, the rest is split
// evenly among the server's regions, so public addresses are unique across the host while each
// region allocates from its own database.
import { formatIp, parseCidr, size } from "./cidr.ts";

export const DEFAULT_PUBLIC_POOL = "100.96.0.0/16";
export const POOL_RESERVED = 16;

export interface PublicRange {
  /** First and last address of the region's share, as numbers (inclusive). */
  first: number;
  last: number;
}

/** Region `regionIndex` (0-based) of `regionCount`'s share of the pool. */
export function regionPublicRange(pool: string, regionIndex: number, regionCount: number): PublicRange {
  const c = parseCidr(pool);
  if (!c) throw new Error(`The public pool '${pool}' is not a CIDR block (e.g. ${DEFAULT_PUBLIC_POOL})`);
  if (!Number.isInteger(regionCount) || regionCount < 1 || regionIndex < 0 || regionIndex >= regionCount) {
    throw new Error(`Region index ${regionIndex} is not one of ${regionCount} regions`);
  }
  const share = Math.floor((size(c) - POOL_RESERVED) / regionCount);
  if (share < 1) {
    throw new Error(
      `The public pool '${pool}' is too small for ${regionCount} regions (it reserves ${POOL_RESERVED})`,
    );
  }
  const first = c.base + POOL_RESERVED + regionIndex * share;
  return { first, last: first + share - 1 };
}

export function describeRange(r: PublicRange): string {
  return `${formatIp(r.first)}-${formatIp(r.last)}`;
}
