// Space a snapshot, or a set of an owner's snapshots, takes in the chunk store (SQLite).
import { BLOCK_SIZE, GIB } from "../../blocks.ts";
import type { SnapshotStats } from "../metadata-store.ts";
import type { Row, SqliteDatabase } from "./sqlite-database.ts";

export async function snapshotStats(db: SqliteDatabase, id: string): Promise<SnapshotStats> {
  return db.exclusive(() => {
    const s = db.q("SELECT volume_size_gib FROM snapshots WHERE id = ?").get(id) as Row;
    const blocks = Number(
      (
        db
          .q("SELECT count(*) AS n FROM snapshot_blocks WHERE snapshot_id = ? AND chunk_hash IS NOT NULL")
          .get(id) as Row
      ).n,
    );
    const sums = db
      .q(
        `SELECT coalesce(sum(c.stored_bytes), 0) AS stored,
         coalesce(sum(CASE WHEN NOT EXISTS (SELECT 1 FROM snapshot_blocks o WHERE o.chunk_hash = c.hash
           AND o.snapshot_id != ?) THEN c.stored_bytes ELSE 0 END), 0) AS uniq
       FROM chunks c WHERE c.hash IN (SELECT chunk_hash FROM snapshot_blocks WHERE snapshot_id = ?)`,
      )
      .get(id, id) as Row;
    const stored = Number(sums.stored);
    const unique = Number(sums.uniq);
    return {
      logicalBytes: Number(s.volume_size_gib) * GIB,
      dataBytes: blocks * BLOCK_SIZE,
      storedBytes: stored,
      uniqueBytes: unique,
      sharedBytes: stored - unique,
    };
  });
}

export async function ownerSnapshotStats(
  db: SqliteDatabase,
  ownerId: string,
  ids: string[],
): Promise<SnapshotStats> {
  return db.exclusive(() => {
    // The set: the given ids the owner owns (json_each binds the list as one parameter).
    const set = "SELECT id FROM snapshots WHERE owner_id = ? AND id IN (SELECT value FROM json_each(?))";
    const list = JSON.stringify(ids);
    const sizes = db
      .q(
        `SELECT coalesce(sum(volume_size_gib), 0) AS gib,
           coalesce(sum((SELECT count(*) FROM snapshot_blocks b WHERE b.snapshot_id = s.id
             AND b.chunk_hash IS NOT NULL)), 0) AS blocks
         FROM snapshots s WHERE s.id IN (${set})`,
      )
      .get(ownerId, list) as Row;
    const sums = db
      .q(
        `SELECT coalesce(sum(c.stored_bytes), 0) AS stored,
           coalesce(sum(CASE WHEN NOT EXISTS (SELECT 1 FROM snapshot_blocks o JOIN snapshots os
             ON os.id = o.snapshot_id WHERE o.chunk_hash = c.hash AND os.owner_id = ?
             AND o.snapshot_id NOT IN (${set})) THEN c.stored_bytes ELSE 0 END), 0) AS uniq
         FROM chunks c WHERE c.hash IN
           (SELECT chunk_hash FROM snapshot_blocks WHERE snapshot_id IN (${set}))`,
      )
      .get(ownerId, ownerId, list, ownerId, list) as Row;
    const stored = Number(sums.stored);
    const unique = Number(sums.uniq);
    return {
      logicalBytes: Number(sizes.gib) * GIB,
      dataBytes: Number(sizes.blocks) * BLOCK_SIZE,
      storedBytes: stored,
      uniqueBytes: unique,
      sharedBytes: stored - unique,
    };
  });
}
