// Region-wide named locks: what a check-then-write on shared metadata holds so that no other
// writer of the region passes the same check in between (a quota, a client token). One process
// owns a SQLite region, so an in-process lock does; hosts sharing a PostgreSQL database take
// advisory locks there (PgAdvisoryLocks).
import { KeyedLock } from "../../util/keyed-lock.ts";

export interface RegionLocks {
  /**
   * Runs `fn` holding every named lock, taken in one fixed order so two holders of overlapping
   * sets cannot deadlock. Not reentrant: a call chain holding a name must not ask for it again
   * (callers filter what they hold), but it may take other names while holding some.
   */
  withLocks<T>(names: string[], fn: () => Promise<T>): Promise<T>;
}

/** The locks of a region only this process writes. */
export class LocalRegionLocks implements RegionLocks {
  readonly #locks = new KeyedLock<string>();

  async withLocks<T>(names: string[], fn: () => Promise<T>): Promise<T> {
    const release = await this.#locks.acquireAll(names);
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
