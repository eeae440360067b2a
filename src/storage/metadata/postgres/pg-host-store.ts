import { type HostRecord, type HostStore, toHost } from "../host-store.ts";
import type { PgDatabase } from "./pg-database.ts";

export class PgHostStore implements HostStore {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async register(h: HostRecord): Promise<void> {
    await this.#db.run(
      `INSERT INTO hosts (id, url, zone, free_vcpus, free_memory_mib, state, started_at, heartbeat_at, tunnel)
       VALUES ($1, $2, $3, $4, $5, 'alive', $6, $7, $8)
       ON CONFLICT (id) DO UPDATE SET url = excluded.url, zone = excluded.zone,
         free_vcpus = excluded.free_vcpus, free_memory_mib = excluded.free_memory_mib, state = 'alive',
         started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, tunnel = excluded.tunnel`,
      [h.id, h.url, h.zone, h.freeVcpus, h.freeMemoryMiB, h.startedAt, h.heartbeatAt, h.tunnel],
    );
  }

  async heartbeat(id: string, free: { vcpus: number; memoryMiB: number }, at: number): Promise<boolean> {
    const n = await this.#db.run(
      `UPDATE hosts SET heartbeat_at = $1, free_vcpus = $2, free_memory_mib = $3
       WHERE id = $4 AND state = 'alive'`,
      [at, free.vcpus, free.memoryMiB, id],
    );
    return n === 1;
  }

  async list(): Promise<HostRecord[]> {
    return (await this.#db.query("SELECT * FROM hosts ORDER BY id")).map(toHost);
  }

  async get(id: string): Promise<HostRecord | undefined> {
    const r = await this.#db.one("SELECT * FROM hosts WHERE id = $1", [id]);
    return r && toHost(r);
  }

  async markLost(id: string, cutoff: number): Promise<boolean> {
    const n = await this.#db.run(
      "UPDATE hosts SET state = 'lost' WHERE id = $1 AND state = 'alive' AND heartbeat_at < $2",
      [id, cutoff],
    );
    return n === 1;
  }

  async claimVolumes(host: string, all: boolean): Promise<number> {
    return this.#db.run(
      `UPDATE volumes SET host = $1 WHERE ${all ? "host IS DISTINCT FROM $1" : "host IS NULL"}`,
      [host],
    );
  }
}
