// The fuzzers' "no state change on error" oracle: a fingerprint of everything a request could
// change (each region's metadata.db, the account store, the volume files), read beside the live
// daemon through read-only SQLite connections. `PRAGMA data_version` tells for free whether any
// other connection committed since the last look; only then are the rows hashed and compared.
import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { setTimeout as sleep } from "node:timers/promises";
import { packFiles } from "../crash/pack-audit.ts";
import { violations } from "./invariants.ts";

export class StateWatch {
  readonly #dataDir: string;
  readonly #regions: string[];
  readonly #dbs = new Map<string, DatabaseSync>();
  #baseline = { version: "", hash: "" };
  readonly #reported = new Set<string>();

  constructor(dataDir: string, regions: string[]) {
    this.#dataDir = dataDir;
    this.#regions = regions;
    for (const r of regions)
      this.#dbs.set(r, new DatabaseSync(join(dataDir, "regions", r, "metadata.db"), { readOnly: true }));
    this.#dbs.set("accounts", new DatabaseSync(join(dataDir, "accounts.db"), { readOnly: true }));
  }

  db(region: string): DatabaseSync {
    const db = this.#dbs.get(region);
    if (!db) throw new Error(`no database for ${region}`);
    return db;
  }

  /** Cheap: every database's commit counter and the files that stand for volumes. */
  version(): string {
    const parts: string[] = [];
    for (const [name, db] of this.#dbs) {
      parts.push(
        `${name}:${(db.prepare("PRAGMA data_version").get() as { data_version: number }).data_version}`,
      );
    }
    parts.push(this.#files());
    return parts.join("|");
  }

  /** Volume files, pack files and pack temp files: a failed request must leave none behind. */
  #files(): string {
    const parts: string[] = [];
    for (const r of this.#regions) {
      const dir = join(this.#dataDir, "regions", r, "volumes");
      parts.push(`${r}:${existsSync(dir) ? readdirSync(dir).sort().join(",") : ""}`);
      const chunks = join(this.#dataDir, "regions", r, "chunks");
      parts.push(`${r}/packs:${[...packFiles(chunks).keys()].sort().join(",")}`);
      parts.push(`${r}/tmp:${readdirSync(join(chunks, "tmp")).length}`);
    }
    return parts.join("|");
  }

  /** Every row of every table, in a stable order, hashed. */
  hash(): string {
    const h = createHash("sha256");
    for (const [name, db] of this.#dbs) {
      const tables = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .all() as { name: string }[];
      for (const { name: table } of tables) {
        // Heartbeats: the daemon's liveness, written every few seconds whatever the requests do.
        if (table === "hosts") continue;
        const rows = db
          .prepare(`SELECT * FROM "${table}"`)
          .all()
          .map((row) => JSON.stringify(row))
          .sort();
        h.update(`${name}.${table}\n${rows.join("\n")}\n`);
      }
    }
    h.update(this.#files());
    return h.digest("hex");
  }

  /** Background work (snapshot and copy jobs, images waiting for them, hydration) still running. */
  busy(): string[] {
    const out: string[] = [];
    for (const r of this.#regions) {
      const db = this.db(r);
      const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
      if (count("SELECT count(*) AS n FROM snapshots WHERE state = 'pending' AND expires_at IS NULL"))
        out.push(`${r}: snapshot jobs`);
      if (count("SELECT count(*) AS n FROM volume_blocks WHERE local = 0")) out.push(`${r}: hydration`);
      const waiting = count(
        `SELECT count(*) AS n FROM images i WHERE state = 'pending' AND NOT EXISTS (
           SELECT 1 FROM image_snapshots m JOIN snapshots s ON s.id = m.snapshot_id
           WHERE m.image_id = i.id AND s.state = 'pending')`,
      );
      if (waiting) out.push(`${r}: images settling`);
    }
    return out;
  }

  /**
   * Waits for background work to finish, then takes the state as the new baseline. Returns the
   * rules of invariants.ts the new state breaks (none if nothing changed).
   */
  async settle(timeoutMs = 60_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (let busy = this.busy(); busy.length > 0; busy = this.busy()) {
      if (Date.now() > deadline)
        throw new Error(`state did not settle in ${timeoutMs} ms: ${busy.join(", ")}`);
      await sleep(5);
    }
    const version = this.version();
    if (version === this.#baseline.version) return [];
    this.#baseline = { version, hash: this.hash() };
    const accounts = new Set(
      (this.db("accounts").prepare("SELECT id FROM accounts").all() as { id: string }[]).map((r) => r.id),
    );
    // Each broken rule once, from the request that broke it (it stays broken afterwards).
    const fresh = this.#regions
      .flatMap((r) => violations(r, this.db(r), accounts))
      .filter((v) => !this.#reported.has(v));
    for (const v of fresh) this.#reported.add(v);
    return fresh;
  }

  /**
   * Whether the state is what it was at the last settle. A commit that left every row as it was
   * (a no-op write) passes and becomes the new baseline.
   */
  unchanged(): boolean {
    const version = this.version();
    if (version === this.#baseline.version) return true;
    if (this.hash() !== this.#baseline.hash) return false;
    this.#baseline.version = version;
    return true;
  }

  close(): void {
    for (const db of this.#dbs.values()) db.close();
  }
}
