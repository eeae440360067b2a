// Snapshot block maps in SQLite: blocks recorded as a snapshot is written, and its completion
// (a volume's, a copy's, or one written through the EBS direct APIs).
import { StrataError } from "../../../errors.ts";
import { toBlockRef } from "../metadata-rows.ts";
import type { BlockRef } from "../metadata-store.ts";
import type { Row, SqliteDatabase } from "./sqlite-database.ts";

/** A snapshot_blocks row (s) naming a chunk the chunk index does not hold. */
const UNSTORED =
  "s.chunk_hash IS NOT NULL AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.hash = s.chunk_hash)";

export async function recordedBlocks(db: SqliteDatabase, id: string): Promise<number[]> {
  return db.exclusive(() => {
    return db.column("SELECT block AS v FROM snapshot_blocks WHERE snapshot_id = ?", id) as number[];
  });
}

export async function forgetUnstoredBlocks(
  db: SqliteDatabase,
  id: string,
  blocks?: number[],
): Promise<number> {
  return db.exclusive(() => {
    if (!blocks) {
      return Number(
        db.q(`DELETE FROM snapshot_blocks AS s WHERE s.snapshot_id = ? AND ${UNSTORED}`).run(id).changes,
      );
    }
    const del = db.q(
      `DELETE FROM snapshot_blocks AS s WHERE s.snapshot_id = ? AND s.block = ? AND ${UNSTORED}`,
    );
    return db.transaction(() => blocks.reduce((n, b) => n + Number(del.run(id, b).changes), 0));
  });
}

function assertAllStored(db: SqliteDatabase, id: string): void {
  const n = Number(
    (
      db
        .q(`SELECT count(*) AS n FROM snapshot_blocks AS s WHERE s.snapshot_id = ? AND ${UNSTORED}`)
        .get(id) as Row
    ).n,
  );
  if (n > 0) throw new Error(`Snapshot ${id} references ${n} chunks that are not stored; not completing it`);
}

export async function snapshotBlocks(
  db: SqliteDatabase,
  id: string,
  afterBlock: number,
  limit: number,
): Promise<BlockRef[]> {
  return db.exclusive(() => {
    const rows = db
      .q(
        `SELECT block, chunk_hash FROM snapshot_blocks WHERE snapshot_id = ? AND block > ? AND chunk_hash IS NOT NULL
       ORDER BY block LIMIT ?`,
      )
      .all(id, afterBlock, limit) as Row[];
    return rows.map(toBlockRef);
  });
}

export async function addSnapshotBlocks(db: SqliteDatabase, id: string, refs: BlockRef[]): Promise<string[]> {
  return db.exclusive(() => {
    const ins = db.q(
      "INSERT OR REPLACE INTO snapshot_blocks (snapshot_id, block, chunk_hash) VALUES (?, ?, ?)",
    );
    const live = db.q("SELECT 1 AS v FROM chunks WHERE hash = ?");
    return db.transaction(() => {
      // Checked in the same transaction: a block stored after its snapshot completed, failed or
      // was deleted would change a finished snapshot or pin chunks nothing can release.
      const s = db.q("SELECT state FROM snapshots WHERE id = ?").get(id) as Row | undefined;
      if (s?.state !== "pending") {
        throw new StrataError(
          "IncorrectState",
          `Snapshot ${id} is ${s ? String(s.state) : "gone"}, not pending`,
        );
      }
      const missing = new Set<string>();
      for (const r of refs) {
        ins.run(id, r.block, r.hash);
        if (r.hash && !missing.has(r.hash) && !live.get(r.hash)) missing.add(r.hash);
      }
      return [...missing];
    });
  });
}

export async function recordedRefs(db: SqliteDatabase, id: string): Promise<BlockRef[]> {
  return db.exclusive(() => {
    const rows = db
      .q("SELECT block, chunk_hash FROM snapshot_blocks WHERE snapshot_id = ? ORDER BY block")
      .all(id) as Row[];
    return rows.map(toBlockRef);
  });
}

export async function completeVolumeSnapshot(db: SqliteDatabase, id: string): Promise<string[]> {
  return db.exclusive(() => {
    return db.transaction(() => {
      const s = db.q("SELECT volume_id FROM snapshots WHERE id = ?").get(id) as Row;
      const volumeId = String(s.volume_id);
      assertAllStored(db, id);
      // Base-map entries this snapshot replaces: their chunks may now be unreferenced.
      const replaced = db.column(
        `SELECT DISTINCT v.chunk_hash AS v FROM volume_blocks v JOIN snapshot_blocks s
           ON s.snapshot_id = ? AND s.block = v.block
         WHERE v.volume_id = ? AND (s.chunk_hash IS NULL OR s.chunk_hash != v.chunk_hash)`,
        id,
        volumeId,
      );
      // The volume's base map becomes this snapshot's map...
      db.q(
        `INSERT INTO volume_blocks (volume_id, block, chunk_hash, local)
         SELECT ?, block, chunk_hash, 1 FROM snapshot_blocks WHERE snapshot_id = ? AND chunk_hash IS NOT NULL
         ON CONFLICT (volume_id, block) DO UPDATE SET chunk_hash = excluded.chunk_hash, local = 1`,
      ).run(volumeId, id);
      db.q(
        `DELETE FROM volume_blocks WHERE volume_id = ? AND block IN
           (SELECT block FROM snapshot_blocks WHERE snapshot_id = ? AND chunk_hash IS NULL)`,
      ).run(volumeId, id);
      // ...and the snapshot's map is completed from the unchanged blocks of that base map.
      db.q(
        `INSERT OR IGNORE INTO snapshot_blocks (snapshot_id, block, chunk_hash)
         SELECT ?, block, chunk_hash FROM volume_blocks WHERE volume_id = ?`,
      ).run(id, volumeId);
      db.q("DELETE FROM snapshot_blocks WHERE snapshot_id = ? AND chunk_hash IS NULL").run(id);
      db.q("DELETE FROM volume_dirty WHERE volume_id = ? AND gen = ?").run(volumeId, id);
      db.q("UPDATE volumes SET last_snapshot_id = ? WHERE id = ?").run(id, volumeId);
      db.q("UPDATE snapshots SET state = 'completed', progress = 100, completed_at = ? WHERE id = ?").run(
        new Date().toISOString(),
        id,
      );
      return replaced as string[];
    });
  });
}

export async function completeCopiedSnapshot(db: SqliteDatabase, id: string): Promise<void> {
  return db.exclusive(() => {
    db.transaction(() => {
      assertAllStored(db, id);
      db.q("DELETE FROM snapshot_blocks WHERE snapshot_id = ? AND chunk_hash IS NULL").run(id);
      db.q("UPDATE snapshots SET state = 'completed', progress = 100, completed_at = ? WHERE id = ?").run(
        new Date().toISOString(),
        id,
      );
    });
  });
}

export async function completeDirectSnapshot(db: SqliteDatabase, id: string): Promise<void> {
  return db.exclusive(() => {
    db.transaction(() => {
      assertAllStored(db, id);
      const s = db.q("SELECT parent_snapshot_id FROM snapshots WHERE id = ?").get(id) as Row;
      if (s.parent_snapshot_id) {
        const parent = db.q("SELECT state FROM snapshots WHERE id = ?").get(s.parent_snapshot_id) as
          | Row
          | undefined;
        if (parent?.state !== "completed") {
          throw new StrataError(
            "ValidationException",
            `The parent snapshot ${String(s.parent_snapshot_id)} was deleted before this snapshot completed`,
            "INVALID_DEPENDENCY_REQUEST",
          );
        }
        db.q(
          `INSERT OR IGNORE INTO snapshot_blocks (snapshot_id, block, chunk_hash)
             SELECT ?, block, chunk_hash FROM snapshot_blocks WHERE snapshot_id = ?`,
        ).run(id, s.parent_snapshot_id as string);
      }
      db.q("DELETE FROM snapshot_blocks WHERE snapshot_id = ? AND chunk_hash IS NULL").run(id);
      db.q(
        "UPDATE snapshots SET state = 'completed', progress = 100, completed_at = ?, expires_at = NULL WHERE id = ?",
      ).run(new Date().toISOString(), id);
    });
  });
}
