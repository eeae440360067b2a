import type { Filter } from "@aws-sdk/client-ec2";
import { aliasLookup, type RequestContext } from "./context.ts";

/** Tags are loaded for every candidate only when a filter needs them; otherwise just for the page. */
export function needsTags(filters: Filter[] | undefined): boolean {
  return (filters ?? []).some(
    (f) => f.Name?.startsWith("tag:") || f.Name === "tag-key" || f.Name === "tag-value",
  );
}

/** Owner aliases by owner id, one lookup per distinct owner. */
export async function ownerAliases(
  ctx: RequestContext,
  ownerIds: Iterable<string>,
): Promise<Map<string, string | undefined>> {
  const alias = aliasLookup(ctx);
  const owners = [...new Set(ownerIds)];
  return new Map(await Promise.all(owners.map(async (o) => [o, await alias(o)] as const)));
}

const MAX_PUSHED_PATTERN = 1024;

/**
 * Splits EC2 filters into those the database can answer (a filter on a column it indexes or
 * stores, wildcards and all) and those applied in memory.
 */
export function splitFilters(
  filters: Filter[] | undefined,
  columns: Record<string, string>,
): { pushed: { column: string; patterns: string[] }[]; rest: Filter[] } {
  const pushed: { column: string; patterns: string[] }[] = [];
  const rest: Filter[] = [];
  for (const f of filters ?? []) {
    // Own keys only: a filter named `constructor` is no column (nor Object's constructor).
    const column = f.Name && Object.hasOwn(columns, f.Name) ? columns[f.Name] : undefined;
    // SQLite refuses GLOB patterns over 50,000 bytes ("pattern too complex", an InternalError
    // found by the fuzzer); long ones are matched in memory instead.
    const short = (f.Values ?? []).every((v) => v.length <= MAX_PUSHED_PATTERN);
    if (column && short) pushed.push({ column, patterns: f.Values ?? [] });
    else rest.push(f);
  }
  return { pushed, rest };
}
