// EC2's ClientToken: a retried create with the same token returns what the first call made, and
// the same token with other parameters is refused. One helper serves every action: the token is
// held (a region lock per account and token, so across hosts sharing the region's database too)
// while the work runs, then recorded with a unique insert, so two concurrent retries do the work
// once and the second answers like the first.
import { createHash } from "node:crypto";
import { StrataError } from "../../errors.ts";
import type { CatalogStore } from "../../storage/metadata/catalog-store.ts";
import type { RegionLocks } from "../../storage/metadata/region-locks.ts";

export interface ClientTokenUse {
  catalog: CatalogStore;
  /** The region's locks (the token's is held while the work runs). */
  locks: RegionLocks;
  /** Scopes the lock (the region), as the catalogue scopes the record. */
  scope: string;
  ownerId: string;
  token: string | null | undefined;
  action: string;
  /** The request's parameters (without the token): a retry must repeat them. */
  request: unknown;
  /** The action's own error for a token reused with other parameters. */
  mismatch: () => StrataError;
  /** The action's own error for a malformed token (EC2's InvalidParameterValue by default). */
  malformed?: (message: string) => StrataError;
}

// EC2 and EBS: a client token is up to 64 ASCII characters.
const TOKEN = /^[\x20-\x7e]{1,64}$/;

export async function idempotent<T>(
  use: ClientTokenUse,
  replay: (resourceId: string) => Promise<T>,
  work: () => Promise<{ resourceId: string; result: T }>,
): Promise<T> {
  const { catalog, ownerId, token, action } = use;
  if (token === null || token === undefined || token === "") return (await work()).result;
  if (!TOKEN.test(token)) {
    const message = "The client token must be 1 to 64 ASCII characters";
    throw use.malformed ? use.malformed(message) : new StrataError("InvalidParameterValue", message);
  }
  const requestHash = createHash("sha256").update(JSON.stringify(use.request)).digest("hex");
  return use.locks.withLocks([`client-token:${use.scope}/${ownerId}/${token}`], async () => {
    const seen = await catalog.clientToken(ownerId, token);
    if (seen) {
      if (seen.action !== action || seen.requestHash !== requestHash) throw use.mismatch();
      return replay(seen.resourceId);
    }
    const done = await work();
    await catalog.saveClientToken(ownerId, token, action, requestHash, done.resourceId);
    return done.result;
  });
}
