import type { AccountStore } from "../../accounts/account-store.ts";
import { StrataError } from "../../errors.ts";
import type { Engine } from "../../services/engine.ts";
import type { Region } from "../../services/regions/region.ts";

/** What every EC2 action handler gets besides its input: who asks, and where. */
export interface RequestContext {
  accountId: string;
  regionName: string;
  region: Region;
  engine: Engine;
  accounts: AccountStore;
  requestId: string;
  /** The host:port the client called (DescribeRegions answers it as every region's endpoint). */
  host: string;
}

/** An action handler: the SDK v3 input type in, the output type (without $metadata) out. */
export type Handler<I = never, O = unknown> = (ctx: RequestContext, input: I) => Promise<O>;
export type Out<T> = Omit<T, "$metadata">;

/**
 * EC2's DryRun: after the request is validated and authorised, answer DryRunOperation instead of
 * doing it. Handlers call this once their checks have passed, before changing anything.
 */
export function dryRunCheck(input: { DryRun?: boolean }): void {
  if (input.DryRun) {
    throw new StrataError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.");
  }
}

export function required<T>(value: T | undefined | null, name: string): T {
  if (value === undefined || value === null || (typeof value === "string" && value === "")) {
    throw new StrataError("MissingParameter", `The request must contain the parameter ${name}`);
  }
  return value;
}

/** Resolves the `self`/alias/account-id forms EC2 accepts in Owners and OwnerIds. */
export async function resolveOwners(ctx: RequestContext, owners: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const o of owners) {
    if (o === "self") out.add(ctx.accountId);
    else if (/^\d{12}$/.test(o)) out.add(o);
    else {
      const account = await ctx.accounts.findByAlias(o);
      // EC2 accepts unknown aliases (amazon, aws-marketplace) and simply matches nothing.
      out.add(account ? account.id : `alias:${o}`);
    }
  }
  return out;
}

/** Owner aliases (ImageOwnerAlias / OwnerAlias) by account id, cached per request. */
export function aliasLookup(ctx: RequestContext): (ownerId: string) => Promise<string | undefined> {
  const cache = new Map<string, Promise<string | undefined>>();
  return (ownerId) => {
    let hit = cache.get(ownerId);
    if (!hit) {
      hit = ctx.accounts.getAccount(ownerId).then((a) => a?.alias ?? undefined);
      cache.set(ownerId, hit);
    }
    return hit;
  };
}
