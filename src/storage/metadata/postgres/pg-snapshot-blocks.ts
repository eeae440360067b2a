// Snapshot block maps in PostgreSQL: blocks recorded as a snapshot is written, and its completion
// (a volume's, a copy's, or one written through the EBS direct APIs).
import { StrataError } from "../../../errors.ts";
import type { BlockRef } from "../metadata-store.ts";
import type { PgDatabase, PgRow, Queryable } from "./pg-database.ts";
import { blockNumbers, toBlockRef } from "./pg-metadata-rows.ts";

/** A snapshot_blocks row (s) naming a chunk the chunk index does not hold. */
const UNSTORED =
  "s.chunk_hash IS NOT NULL AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.hash = s.chunk_hash)";
const COMPLETED_AT = "UPDATE snapshots SET state = 'completed', progress = 100, completed_at = $1";

export async function recordedBlocks(db: PgDatabase, id: string): Promise<number[]> {
  return blockNumbers(db, "SELECT block AS v FROM snapshot_blocks WHERE snapshot_id = $1 ORDER BY block", [
    id,
  ]);
}

export async function forgetUnstoredBlocks(db: PgDatabase, id: string, blocks?: number[]): Promise<number> {
  return db.tx((c) =>
    blocks
      ? db.run(
          `DELETE FROM snapshot_blocks AS s WHERE s.snapshot_id = $1 AND s.block = ANY($2::bigint[]) AND ${UNSTORED}`,
          [id, blocks],
          c,
        )
      : db.run(`DELETE FROM snapshot_blocks AS s WHERE s.snapshot_id = $1 AND ${UNSTORED}`, [id], c),
  );
}

async function assertAllStored(db: PgDatabase, id: string, c: Queryable): Promise<void> {
  const r = await db.one(
    `SELECT count(*) AS n FROM snapshot_blocks AS s WHERE s.snapshot_id = $1 AND ${UNSTORED}`,
    [id],
    c,
  );
  const n = Number(r?.n);
  if (n > 0) throw new Error(`Snapshot ${id} references ${n} chunks that are not stored; not completing it`);
}

export async function snapshotBlocks(
  db: PgDatabase,
  id: string,
  afterBlock: number,
  limit: number,
): Promise<BlockRef[]> {
  const rows = await db.query(
    `SELECT block, chunk_hash FROM snapshot_blocks WHERE snapshot_id = $1 AND block > $2 AND chunk_hash IS NOT NULL
     ORDER BY block LIMIT $3`,
    [id, afterBlock, limit],
  );
  return rows.map(toBlockRef);
}

export async function addSnapshotBlocks(db: PgDatabase, id: string, refs: BlockRef[]): Promise<string[]> {
  const blocks = refs.map((r) => r.block);
  const hashes = refs.map((r) => r.hash);
  return db.tx(async (c) => {
    // Checked in the same transaction: a block stored after its snapshot completed, failed or
    // was deleted would change a finished snapshot or pin chunks nothing can release.
    const s = await db.one("SELECT state FROM snapshots WHERE id = $1", [id], c);
    if (s?.state !== "pending") {
      throw new StrataError(
        "IncorrectState",
        `Snapshot ${id} is ${s ? String(s.state) : "gone"}, not pending`,
      );
    }
    // A block given twice keeps its last hash (SQLite's INSERT OR REPLACE, row by row).
    await c.query(
      `INSERT INTO snapshot_blocks (snapshot_id, block, chunk_hash)
       SELECT DISTINCT ON (b) $1, b, h FROM unnest($2::bigint[], $3::text[]) WITH ORDINALITY AS t(b, h, n)
       ORDER BY b, n DESC
       ON CONFLICT (snapshot_id, block) DO UPDATE SET chunk_hash = excluded.chunk_hash`,
      [id, blocks, hashes],
    );
    // The hashes that are not live chunks, each once, in the order they first appear.
    return (await db.column(
      `SELECT h AS v FROM unnest($1::text[]) WITH ORDINALITY AS t(h, n)
       WHERE h IS NOT NULL AND NOT EXISTS (SELECT 1 FROM chunks WHERE hash = h)
       GROUP BY h ORDER BY min(n)`,
      [hashes],
      c,
    )) as string[];
  });
}

export async function recordedRefs(db: PgDatabase, id: string): Promise<BlockRef[]> {
  const rows = await db.query(
    "SELECT block, chunk_hash FROM snapshot_blocks WHERE snapshot_id = $1 ORDER BY block",
    [id],
  );
  return rows.map(toBlockRef);
}

export async function completeVolumeSnapshot(db: PgDatabase, id: string): Promise<string[]> {
  return db.tx(async (c) => {
    const s = (await db.one("SELECT volume_id FROM snapshots WHERE id = $1", [id], c)) as PgRow;
    const volumeId = String(s.volume_id);
    await assertAllStored(db, id, c);
    // Base-map entries this snapshot replaces: their chunks may now be unreferenced.
    const replaced = await db.column(
      `SELECT DISTINCT v.chunk_hash AS v FROM volume_blocks v JOIN snapshot_blocks s
         ON s.snapshot_id = $1 AND s.block = v.block
       WHERE v.volume_id = $2 AND (s.chunk_hash IS NULL OR s.chunk_hash != v.chunk_hash) ORDER BY v.chunk_hash`,
      [id, volumeId],
      c,
    );
    // The volume's base map becomes this snapshot's map...
    await c.query(
      `INSERT INTO volume_blocks (volume_id, block, chunk_hash, local)
       SELECT $1, block, chunk_hash, true FROM snapshot_blocks WHERE snapshot_id = $2 AND chunk_hash IS NOT NULL
       ON CONFLICT (volume_id, block) DO UPDATE SET chunk_hash = excluded.chunk_hash, local = true`,
      [volumeId, id],
    );
    await c.query(
      `DELETE FROM volume_blocks WHERE volume_id = $1 AND block IN
         (SELECT block FROM snapshot_blocks WHERE snapshot_id = $2 AND chunk_hash IS NULL)`,
      [volumeId, id],
    );
    // ...and the snapshot's map is completed from the unchanged blocks of that base map.
    await c.query(
      `INSERT INTO snapshot_blocks (snapshot_id, block, chunk_hash)
       SELECT $1, block, chunk_hash FROM volume_blocks WHERE volume_id = $2 ON CONFLICT DO NOTHING`,
      [id, volumeId],
    );
    await c.query("DELETE FROM snapshot_blocks WHERE snapshot_id = $1 AND chunk_hash IS NULL", [id]);
    await c.query("DELETE FROM volume_dirty WHERE volume_id = $1 AND gen = $2", [volumeId, id]);
    await c.query("UPDATE volumes SET last_snapshot_id = $1 WHERE id = $2", [id, volumeId]);
    await c.query(`${COMPLETED_AT} WHERE id = $2`, [new Date().toISOString(), id]);
    return replaced as string[];
  });
}

export async function completeCopiedSnapshot(db: PgDatabase, id: string): Promise<void> {
  await db.tx(async (c) => {
    await assertAllStored(db, id, c);
    await c.query("DELETE FROM snapshot_blocks WHERE snapshot_id = $1 AND chunk_hash IS NULL", [id]);
    await c.query(`${COMPLETED_AT} WHERE id = $2`, [new Date().toISOString(), id]);
  });
}

export async function completeDirectSnapshot(db: PgDatabase, id: string): Promise<void> {
  await db.tx(async (c) => {
    await assertAllStored(db, id, c);
    const s = (await db.one("SELECT parent_snapshot_id FROM snapshots WHERE id = $1", [id], c)) as PgRow;
    if (s.parent_snapshot_id) {
      const parent = await db.one("SELECT state FROM snapshots WHERE id = $1", [s.parent_snapshot_id], c);
      if (parent?.state !== "completed") {
        throw new StrataError(
          "ValidationException",
          `The parent snapshot ${String(s.parent_snapshot_id)} was deleted before this snapshot completed`,
          "INVALID_DEPENDENCY_REQUEST",
        );
      }
      await c.query(
        `INSERT INTO snapshot_blocks (snapshot_id, block, chunk_hash)
         SELECT $1, block, chunk_hash FROM snapshot_blocks WHERE snapshot_id = $2 ON CONFLICT DO NOTHING`,
        [id, s.parent_snapshot_id],
      );
    }
    await c.query("DELETE FROM snapshot_blocks WHERE snapshot_id = $1 AND chunk_hash IS NULL", [id]);
    await c.query(`${COMPLETED_AT}, expires_at = NULL WHERE id = $2`, [new Date().toISOString(), id]);
  });
}
