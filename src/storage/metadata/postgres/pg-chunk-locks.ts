// Chunk locks that hold across processes and hosts sharing one PostgreSQL database.
//
// A lock is held around work that is not database work (an upload, a pack put), so it cannot be
// a transaction-scoped lock: each acquisition takes a client of its own from a small pool kept
// for locks only and takes session-level pg_advisory_lock on every key there, in one statement
// (an array, so thousands of keys are one round trip). The release unlocks them all and returns
// the client; if the connection broke, it is destroyed, and PostgreSQL drops a dead session's
// locks itself, so a crashed host never leaves a chunk locked.
//
// - The pool is separate from the database's: holders wait on uploads while the work inside the
//   lock (addChunks, locate) needs the main pool, so sharing one pool could starve it.
// - Keys are taken in the order of their 64-bit advisory keys (deduplicated), the same on every
//   host, so two holders of overlapping sets cannot deadlock (a hash collision merges two keys:
//   more exclusion, never less).
// - An in-process KeyedLock goes first, so callers of one process waiting for the same chunk
//   wait in memory instead of each holding a connection; a holder takes its lock client only
//   once it owns all its keys in-process, and never waits for another lock while holding one.
import pg from "pg";
import { KeyedLock } from "../../../util/keyed-lock.ts";
import { advisoryKey } from "./pg-database.ts";

/** Lock keys are namespaced, so they cannot meet other users of advisory locks in the database. */
const chunkKey = (hash: string) => BigInt(advisoryKey(`strata:chunk:${hash}`));

export class PgChunkLocks {
  readonly #pool: pg.Pool;
  readonly #local = new KeyedLock<string>();

  constructor(options: pg.PoolConfig) {
    this.#pool = new pg.Pool(options);
    this.#pool.on("error", () => {}); // an idle client's error: the next connect makes a new one
  }

  async acquire(hashes: Iterable<string>): Promise<() => void> {
    const unique = [...new Set(hashes)];
    const releaseLocal = await this.#local.acquireAll(unique);
    if (unique.length === 0) return releaseLocal;
    const keys = [...new Set(unique.map(chunkKey))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (e) {
      releaseLocal();
      throw e;
    }
    // A checked-out client has no listener of the pool's: without this one, a session killed
    // while holding (a server restart) would be an uncaught 'error' event. Its locks are gone
    // then; the holder is not told (lockChunks has no way to), and finishes its work.
    const onError = () => {};
    client.on("error", onError);
    try {
      // unnest yields the keys in array order, and the aggregate calls the function row by row.
      await client.query("SELECT count(pg_advisory_lock(k)::text) FROM unnest($1::bigint[]) AS k", [
        keys.map(String),
      ]);
    } catch (e) {
      client.off("error", onError);
      client.release(true); // ends the session, and with it any lock taken before the error
      releaseLocal();
      throw e;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // Local waiters go on once the unlock has landed, so none holds a client only to wait for it.
      const done = (broken: boolean) => {
        client.off("error", onError);
        client.release(broken);
        releaseLocal();
      };
      client.query("SELECT pg_advisory_unlock_all()").then(
        () => done(false),
        () => done(true),
      );
    };
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
