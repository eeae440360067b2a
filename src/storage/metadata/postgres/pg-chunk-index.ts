// The chunk index in PostgreSQL: which chunks are stored, in which pack, and which nothing references.
import type { ChunkRecord } from "../metadata-store.ts";
import type { PgDatabase, PgRow } from "./pg-database.ts";

const NOT_REFERENCED = `NOT EXISTS (SELECT 1 FROM snapshot_blocks s WHERE s.chunk_hash = c.hash)
  AND NOT EXISTS (SELECT 1 FROM volume_blocks v WHERE v.chunk_hash = c.hash)`;

export async function liveChunks(db: PgDatabase, hashes: string[]): Promise<Set<string>> {
  const live = new Set(
    (await db.column("SELECT hash AS v FROM chunks WHERE hash = ANY($1::text[])", [hashes])) as string[],
  );
  return new Set(hashes.filter((h) => live.has(h)));
}

export async function addChunks(db: PgDatabase, chunks: ChunkRecord[]): Promise<void> {
  const packs = chunks.map((c) => c.pack);
  await db.tx(async (c) => {
    // A hash given twice keeps its first row (INSERT OR IGNORE, row by row)...
    await c.query(
      `INSERT INTO chunks (hash, stored_bytes, pack, pack_offset)
       SELECT h, b, p, o FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[]) WITH ORDINALITY
         AS t(h, b, p, o, n) ORDER BY n
       ON CONFLICT (hash) DO NOTHING`,
      [chunks.map((x) => x.hash), chunks.map((x) => x.storedBytes), packs, chunks.map((x) => x.offset)],
    );
    // ...and every chunk given with a pack counts as recorded in it, stored now or before.
    await c.query(
      `UPDATE packs SET recorded = recorded + t.n
       FROM (SELECT p, count(*) AS n FROM unnest($1::text[]) AS p WHERE p IS NOT NULL GROUP BY p) AS t
       WHERE packs.id = t.p`,
      [packs],
    );
  });
}

export async function dropUnreferencedChunks(db: PgDatabase, candidates: string[]): Promise<string[]> {
  const dropped = await db.tx(
    async (c) =>
      new Set(
        (await db.column(
          `DELETE FROM chunks AS c WHERE c.hash = ANY($1::text[]) AND ${NOT_REFERENCED} RETURNING c.hash AS v`,
          [candidates],
          c,
        )) as string[],
      ),
  );
  // In the candidates' order, each once (SQLite deletes one by one: a repeat changes nothing).
  return candidates.filter((h) => dropped.delete(h));
}

export async function unreferencedChunks(db: PgDatabase): Promise<string[]> {
  return (await db.column(
    `SELECT hash AS v FROM chunks c WHERE ${NOT_REFERENCED} ORDER BY hash`,
  )) as string[];
}

export async function chunkTotals(db: PgDatabase): Promise<{ chunks: number; storedBytes: number }> {
  const r = (await db.one("SELECT count(*) AS n, coalesce(sum(stored_bytes), 0) AS b FROM chunks")) as PgRow;
  return { chunks: Number(r.n), storedBytes: Number(r.b) };
}
