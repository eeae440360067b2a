import { type HostRecord, type HostStore, toHost } from "../host-store.ts";
import type { Row, SqliteDatabase } from "./sqlite-database.ts";

export class SqliteHostStore implements HostStore {
  readonly #db: SqliteDatabase;

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  register(h: HostRecord): Promise<void> {
    return this.#db.tx(() => {
      this.#db
        .q(
          `INSERT OR REPLACE INTO hosts (id, url, zone, free_vcpus, free_memory_mib, state, started_at, heartbeat_at, tunnel)
           VALUES (?, ?, ?, ?, ?, 'alive', ?, ?, ?)`,
        )
        .run(h.id, h.url, h.zone, h.freeVcpus, h.freeMemoryMiB, h.startedAt, h.heartbeatAt, h.tunnel);
    });
  }

  heartbeat(id: string, free: { vcpus: number; memoryMiB: number }, at: number): Promise<boolean> {
    return this.#db.tx(
      () =>
        this.#db
          .q(
            `UPDATE hosts SET heartbeat_at = ?, free_vcpus = ?, free_memory_mib = ?
             WHERE id = ? AND state = 'alive'`,
          )
          .run(at, free.vcpus, free.memoryMiB, id).changes === 1,
    );
  }

  list(): Promise<HostRecord[]> {
    return this.#db.exclusive(() =>
      this.#db
        .q("SELECT * FROM hosts ORDER BY id")
        .all()
        .map((r) => toHost(r as Row)),
    );
  }

  get(id: string): Promise<HostRecord | undefined> {
    return this.#db.exclusive(() => {
      const r = this.#db.q("SELECT * FROM hosts WHERE id = ?").get(id) as Row | undefined;
      return r && toHost(r);
    });
  }

  markLost(id: string, cutoff: number): Promise<boolean> {
    return this.#db.tx(
      () =>
        this.#db
          .q("UPDATE hosts SET state = 'lost' WHERE id = ? AND state = 'alive' AND heartbeat_at < ?")
          .run(id, cutoff).changes === 1,
    );
  }

  claimVolumes(host: string, all: boolean): Promise<number> {
    return this.#db.tx(() =>
      Number(
        all
          ? this.#db.q("UPDATE volumes SET host = ? WHERE host IS NOT ?").run(host, host).changes
          : this.#db.q("UPDATE volumes SET host = ? WHERE host IS NULL").run(host).changes,
      ),
    );
  }
}
