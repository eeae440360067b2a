// Named locks that hold across processes and hosts sharing one PostgreSQL database: chunk locks
// (lockChunks) and region locks (RegionLocks: quotas, client tokens), one instance each.
//
// A lock is held around work that is not one transaction (an upload, a pack put, a create made of
// several units of work), so it cannot be a transaction-scoped lock: an acquisition takes a client
// from a small pool kept for locks only and takes session-level pg_advisory_lock on every key
// there, in one statement (an array, so thousands of keys are one round trip). The release
// unlocks its keys and returns the client; if the connection broke, it is destroyed, and
// PostgreSQL drops a dead session's locks itself, so a crashed host never leaves a name locked.
//
// - The pool is separate from the database's: holders wait on work that needs the main pool, so
//   sharing one pool could starve it. Chunk and region locks have a pool each for the same reason.
// - Keys are taken in the order of their 64-bit advisory keys (deduplicated), the same on every
//   host, so two holders of overlapping sets cannot deadlock (a hash collision merges two names:
//   more exclusion, never less).
// - An in-process KeyedLock goes first, so callers of one process waiting for the same name wait
//   in memory instead of each holding a connection.
// - withLocks nested in another of the same instance (a quota lock taken under a client token's)
//   takes its keys on the outer holder's session instead of a second client: N holders each
//   waiting for a second client of a pool of N would otherwise wait forever. The session goes
//   back to the pool when its last holder releases.
import { AsyncLocalStorage } from "node:async_hooks";
import pg from "pg";
import { KeyedLock } from "../../../util/keyed-lock.ts";
import type { RegionLocks } from "../region-locks.ts";
import { advisoryKey } from "./pg-database.ts";

interface Session {
  client: pg.PoolClient;
  /** Acquisitions holding keys on it: the client goes back to the pool at zero. */
  refs: number;
  /** A statement failed on it: destroyed, not reused, once released. */
  broken: boolean;
  onError: () => void;
}

const LOCK = "SELECT count(pg_advisory_lock(k)::text) FROM unnest($1::bigint[]) AS k";
// Session-level advisory locks count: unlocking only our keys leaves an outer holder's intact.
const UNLOCK = "SELECT count(pg_advisory_unlock(k)::text) FROM unnest($1::bigint[]) AS k";

export class PgAdvisoryLocks implements RegionLocks {
  readonly #pool: pg.Pool;
  readonly #namespace: string;
  readonly #local = new KeyedLock<string>();
  // The session of the withLocks this call chain runs in; `active` turns false on release, so
  // background work started inside takes a session of its own.
  readonly #chain = new AsyncLocalStorage<{ session: Session; active: boolean }>();

  /** `namespace` prefixes every name, so keys cannot meet other users of advisory locks. */
  constructor(options: pg.PoolConfig, namespace: string) {
    this.#namespace = namespace;
    this.#pool = new pg.Pool(options);
    this.#pool.on("error", () => {}); // an idle client's error: the next connect makes a new one
  }

  /** Takes every name; the returned function releases them (once). */
  async acquire(names: Iterable<string>): Promise<() => void> {
    return (await this.#acquire(names)).release;
  }

  async withLocks<T>(names: string[], fn: () => Promise<T>): Promise<T> {
    const { release, session } = await this.#acquire(names);
    const scope = session ? { session, active: true } : undefined;
    try {
      return await (scope ? this.#chain.run(scope, fn) : fn());
    } finally {
      if (scope) scope.active = false;
      release();
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  async #acquire(names: Iterable<string>): Promise<{ release: () => void; session?: Session }> {
    const unique = [...new Set(names)];
    const releaseLocal = await this.#local.acquireAll(unique);
    if (unique.length === 0) return { release: releaseLocal };
    const keys = [...new Set(unique.map((n) => BigInt(advisoryKey(this.#namespace + n))))]
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .map(String);
    const outer = this.#chain.getStore();
    let session: Session;
    try {
      session = outer?.active ? outer.session : await this.#open();
    } catch (e) {
      releaseLocal();
      throw e;
    }
    session.refs++;
    try {
      // unnest yields the keys in array order, and the aggregate calls the function row by row.
      await session.client.query(LOCK, [keys]);
    } catch (e) {
      // Destroying the session (once its other holders are done) drops any key taken before the error.
      session.broken = true;
      this.#unref(session);
      releaseLocal();
      throw e;
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      // Local waiters go on once the unlock has landed, so none holds a client only to wait for it.
      session.client
        .query(UNLOCK, [keys])
        .then(
          () => {},
          () => {
            session.broken = true;
          },
        )
        .finally(() => {
          this.#unref(session);
          releaseLocal();
        });
    };
    return { release, session };
  }

  async #open(): Promise<Session> {
    const client = await this.#pool.connect();
    // A checked-out client has no listener of the pool's: without this one, a session killed
    // while holding (a server restart) would be an uncaught 'error' event. Its locks are gone
    // then; the holder is not told (it has no way to be), and finishes its work.
    const onError = () => {};
    client.on("error", onError);
    return { client, refs: 0, broken: false, onError };
  }

  #unref(session: Session): void {
    session.refs--;
    if (session.refs > 0) return;
    session.client.off("error", session.onError);
    session.client.release(session.broken);
  }
}
