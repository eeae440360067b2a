// The region's pack index in PostgreSQL (tables chunks and packs): SqlitePackIndex's behaviour.
// A delete guarded by "no chunk points to it" is a SERIALIZABLE transaction, so it cannot pass
// its check while another host's addChunks records a chunk in that pack.
import type { ChunkLocation, PackIndex, PackUsage } from "../pack-index.ts";
import type { PgDatabase, PgRow } from "./pg-database.ts";

const UNUSED = "NOT EXISTS (SELECT 1 FROM chunks c WHERE c.pack = p.id)";

export class PgPackIndex implements PackIndex {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async locate(hashes: string[]): Promise<Map<string, ChunkLocation>> {
    const rows = await this.#db.query(
      "SELECT hash, pack, pack_offset, stored_bytes FROM chunks WHERE hash = ANY($1::text[])",
      [hashes],
    );
    const found = new Map(rows.map((r) => [String(r.hash), toLocation(r)]));
    // In the order asked (as SQLite's lookups one by one).
    const out = new Map<string, ChunkLocation>();
    for (const h of hashes) {
      const at = found.get(h);
      if (at) out.set(h, at);
    }
    return out;
  }

  async beginPack(id: string, now: number): Promise<void> {
    await this.#db.run("INSERT INTO packs (id, state, bytes, at) VALUES ($1, 'writing', 0, $2)", [id, now]);
  }

  async sealPack(id: string, bytes: number, chunks: number, now: number): Promise<void> {
    await this.#db.run("UPDATE packs SET state = 'sealed', bytes = $1, chunks = $2, at = $3 WHERE id = $4", [
      bytes,
      chunks,
      now,
      id,
    ]);
  }

  async deadPacks(cutoff: number): Promise<string[]> {
    return (await this.#db.column(`SELECT id AS v FROM packs p WHERE at < $1 AND ${UNUSED} ORDER BY at, id`, [
      cutoff,
    ])) as string[];
  }

  async forgetPack(id: string): Promise<boolean> {
    const n = await this.#db.tx((c) =>
      this.#db.run(`DELETE FROM packs AS p WHERE id = $1 AND ${UNUSED}`, [id], c),
    );
    return n > 0;
  }

  async forgetEmptiedPack(id: string): Promise<boolean> {
    const n = await this.#db.tx((c) =>
      this.#db.run(
        `DELETE FROM packs AS p WHERE id = $1 AND state = 'sealed' AND recorded >= chunks AND ${UNUSED}`,
        [id],
        c,
      ),
    );
    return n > 0;
  }

  async knownPacks(ids: string[]): Promise<Set<string>> {
    const known = new Set(
      (await this.#db.column("SELECT id AS v FROM packs WHERE id = ANY($1::text[])", [ids])) as string[],
    );
    return new Set(ids.filter((id) => known.has(id)));
  }

  async sparsePacks(cutoff: number, ratio: number, limit: number): Promise<PackUsage[]> {
    const rows = await this.#db.query(
      `SELECT p.id, p.bytes, coalesce(sum(c.stored_bytes), 0) AS live
       FROM packs p JOIN chunks c ON c.pack = p.id
       WHERE p.state = 'sealed' AND p.at < $1
       GROUP BY p.id HAVING coalesce(sum(c.stored_bytes), 0) < p.bytes * $2::float8
       ORDER BY coalesce(sum(c.stored_bytes), 0) * 1.0 / nullif(p.bytes, 0) NULLS FIRST, p.id LIMIT $3`,
      [cutoff, ratio, limit],
    );
    return rows.map((r) => ({ id: String(r.id), bytes: Number(r.bytes), liveBytes: Number(r.live) }));
  }

  async chunksIn(pack: string): Promise<({ hash: string } & ChunkLocation)[]> {
    const rows = await this.#db.query(
      "SELECT hash, pack, pack_offset, stored_bytes FROM chunks WHERE pack = $1 ORDER BY pack_offset, hash",
      [pack],
    );
    return rows.map((r) => ({ hash: String(r.hash), ...toLocation(r) }));
  }

  async moveChunks(from: string, moved: ({ hash: string } & ChunkLocation)[]): Promise<number> {
    const packs = moved.map((m) => m.pack);
    return this.#db.tx(async (c) => {
      await c.query(
        `UPDATE packs SET recorded = recorded + t.n
         FROM (SELECT p, count(*) AS n FROM unnest($1::text[]) AS p WHERE p IS NOT NULL GROUP BY p) AS t
         WHERE packs.id = t.p`,
        [packs],
      );
      // A hash given twice moves once, to its first copy (SQLite's row-by-row UPDATE ... AND pack = from).
      return this.#db.run(
        `UPDATE chunks SET pack = m.p, pack_offset = m.o, stored_bytes = m.l
         FROM (SELECT DISTINCT ON (h) h, p, o, l
               FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) WITH ORDINALITY AS t(h, p, o, l, n)
               ORDER BY h, n) AS m
         WHERE chunks.hash = m.h AND chunks.pack = $5`,
        [moved.map((m) => m.hash), packs, moved.map((m) => m.offset), moved.map((m) => m.length), from],
        c,
      );
    });
  }

  async packTotals(): Promise<{ packs: number; bytes: number; liveBytes: number }> {
    const r = (await this.#db.one(
      `SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b,
         (SELECT coalesce(sum(stored_bytes), 0) FROM chunks WHERE pack IS NOT NULL) AS live
       FROM packs`,
    )) as PgRow;
    return { packs: Number(r.n), bytes: Number(r.b), liveBytes: Number(r.live) };
  }
}

function toLocation(r: PgRow): ChunkLocation {
  return {
    pack: (r.pack as string | null) ?? null,
    offset: Number(r.pack_offset),
    length: Number(r.stored_bytes),
  };
}
