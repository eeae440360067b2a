// The chunk index in SQLite: which chunks are stored, in which pack, and which nothing references.
import type { ChunkRecord } from "../metadata-store.ts";
import type { Row, SqliteDatabase } from "./sqlite-database.ts";

const NOT_REFERENCED = `NOT EXISTS (SELECT 1 FROM snapshot_blocks s WHERE s.chunk_hash = c.hash)
  AND NOT EXISTS (SELECT 1 FROM volume_blocks v WHERE v.chunk_hash = c.hash)`;

export async function liveChunks(db: SqliteDatabase, hashes: string[]): Promise<Set<string>> {
  return db.exclusive(() => {
    const q = db.q("SELECT 1 AS v FROM chunks WHERE hash = ?");
    return new Set(hashes.filter((h) => q.get(h)));
  });
}

export async function addChunks(db: SqliteDatabase, chunks: ChunkRecord[]): Promise<void> {
  return db.exclusive(() => {
    const ins = db.q(
      "INSERT OR IGNORE INTO chunks (hash, stored_bytes, pack, pack_offset) VALUES (?, ?, ?, ?)",
    );
    const recorded = db.q("UPDATE packs SET recorded = recorded + 1 WHERE id = ?");
    db.transaction(() => {
      for (const c of chunks) {
        ins.run(c.hash, c.storedBytes, c.pack, c.offset);
        if (c.pack) recorded.run(c.pack);
      }
    });
  });
}

export async function dropUnreferencedChunks(db: SqliteDatabase, candidates: string[]): Promise<string[]> {
  return db.exclusive(() => {
    const del = db.q(`DELETE FROM chunks AS c WHERE c.hash = ? AND ${NOT_REFERENCED}`);
    return db.transaction(() => candidates.filter((h) => Number(del.run(h).changes) > 0));
  });
}

export async function unreferencedChunks(db: SqliteDatabase): Promise<string[]> {
  return db.exclusive(() => {
    return db.column(`SELECT hash AS v FROM chunks c WHERE ${NOT_REFERENCED}`) as string[];
  });
}

export async function chunkTotals(db: SqliteDatabase): Promise<{ chunks: number; storedBytes: number }> {
  return db.exclusive(() => {
    const r = db.q("SELECT count(*) AS n, coalesce(sum(stored_bytes), 0) AS b FROM chunks").get() as Row;
    return { chunks: Number(r.n), storedBytes: Number(r.b) };
  });
}
