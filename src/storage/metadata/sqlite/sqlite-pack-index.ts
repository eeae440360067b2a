import type { ChunkLocation, PackIndex, PackUsage } from "../pack-index.ts";
import type { Row, SqliteDatabase } from "./sqlite-database.ts";

const UNUSED = "NOT EXISTS (SELECT 1 FROM chunks c WHERE c.pack = p.id)";

/** The region's pack index in its SQLite database (tables chunks and packs). */
export class SqlitePackIndex implements PackIndex {
  readonly #db: SqliteDatabase;

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  async locate(hashes: string[]): Promise<Map<string, ChunkLocation>> {
    return this.#db.exclusive(() => {
      const q = this.#db.q("SELECT pack, pack_offset, stored_bytes FROM chunks WHERE hash = ?");
      const out = new Map<string, ChunkLocation>();
      for (const h of hashes) {
        const r = q.get(h) as Row | undefined;
        if (r) out.set(h, toLocation(r));
      }
      return out;
    });
  }

  async beginPack(id: string, now: number): Promise<void> {
    return this.#db.exclusive(() => {
      this.#db.q("INSERT INTO packs (id, state, bytes, at) VALUES (?, 'writing', 0, ?)").run(id, now);
    });
  }

  async sealPack(id: string, bytes: number, chunks: number, now: number): Promise<void> {
    return this.#db.exclusive(() => {
      this.#db
        .q("UPDATE packs SET state = 'sealed', bytes = ?, chunks = ?, at = ? WHERE id = ?")
        .run(bytes, chunks, now, id);
    });
  }

  async deadPacks(cutoff: number): Promise<string[]> {
    return this.#db.exclusive(() => {
      return this.#db.column(
        `SELECT id AS v FROM packs p WHERE at < ? AND ${UNUSED} ORDER BY at`,
        cutoff,
      ) as string[];
    });
  }

  async forgetPack(id: string): Promise<boolean> {
    return this.#db.exclusive(() => {
      return Number(this.#db.q(`DELETE FROM packs AS p WHERE id = ? AND ${UNUSED}`).run(id).changes) > 0;
    });
  }

  async forgetEmptiedPack(id: string): Promise<boolean> {
    return this.#db.exclusive(() => {
      const del = this.#db.q(
        `DELETE FROM packs AS p WHERE id = ? AND state = 'sealed' AND recorded >= chunks AND ${UNUSED}`,
      );
      return Number(del.run(id).changes) > 0;
    });
  }

  async knownPacks(ids: string[]): Promise<Set<string>> {
    return this.#db.exclusive(() => {
      const q = this.#db.q("SELECT 1 AS v FROM packs WHERE id = ?");
      return new Set(ids.filter((id) => q.get(id)));
    });
  }

  async sparsePacks(cutoff: number, ratio: number, limit: number): Promise<PackUsage[]> {
    return this.#db.exclusive(() => {
      const rows = this.#db
        .q(
          `SELECT p.id, p.bytes, coalesce(sum(c.stored_bytes), 0) AS live
           FROM packs p JOIN chunks c ON c.pack = p.id
           WHERE p.state = 'sealed' AND p.at < ?
           GROUP BY p.id HAVING live < p.bytes * ? ORDER BY live * 1.0 / p.bytes LIMIT ?`,
        )
        .all(cutoff, ratio, limit) as Row[];
      return rows.map((r) => ({ id: String(r.id), bytes: Number(r.bytes), liveBytes: Number(r.live) }));
    });
  }

  async chunksIn(pack: string): Promise<({ hash: string } & ChunkLocation)[]> {
    return this.#db.exclusive(() => {
      const rows = this.#db
        .q("SELECT hash, pack, pack_offset, stored_bytes FROM chunks WHERE pack = ? ORDER BY pack_offset")
        .all(pack) as Row[];
      return rows.map((r) => ({ hash: String(r.hash), ...toLocation(r) }));
    });
  }

  async moveChunks(from: string, moved: ({ hash: string } & ChunkLocation)[]): Promise<number> {
    return this.#db.exclusive(() => {
      const up = this.#db.q(
        "UPDATE chunks SET pack = ?, pack_offset = ?, stored_bytes = ? WHERE hash = ? AND pack = ?",
      );
      const recorded = this.#db.q("UPDATE packs SET recorded = recorded + 1 WHERE id = ?");
      return this.#db.transaction(() =>
        moved.reduce((n, m) => {
          if (m.pack) recorded.run(m.pack);
          return n + Number(up.run(m.pack, m.offset, m.length, m.hash, from).changes);
        }, 0),
      );
    });
  }

  async packTotals(): Promise<{ packs: number; bytes: number; liveBytes: number }> {
    return this.#db.exclusive(() => {
      const r = this.#db
        .q(
          `SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b,
             (SELECT coalesce(sum(stored_bytes), 0) FROM chunks WHERE pack IS NOT NULL) AS live
           FROM packs`,
        )
        .get() as Row;
      return { packs: Number(r.n), bytes: Number(r.b), liveBytes: Number(r.live) };
    });
  }
}

function toLocation(r: Row): ChunkLocation {
  return {
    pack: (r.pack as string | null) ?? null,
    offset: Number(r.pack_offset),
    length: Number(r.stored_bytes),
  };
}
