// Space a snapshot, or a set of an owner's snapshots, takes in the chunk store (PostgreSQL).
import { BLOCK_SIZE, GIB } from "../../blocks.ts";
import type { SnapshotStats } from "../metadata-store.ts";
import type { PgDatabase, PgRow } from "./pg-database.ts";

export async function snapshotStats(db: PgDatabase, id: string): Promise<SnapshotStats> {
  return db.tx(async (c) => {
    const s = (await db.one("SELECT volume_size_gib FROM snapshots WHERE id = $1", [id], c)) as PgRow;
    const counted = await db.one(
      "SELECT count(*) AS n FROM snapshot_blocks WHERE snapshot_id = $1 AND chunk_hash IS NOT NULL",
      [id],
      c,
    );
    const sums = (await db.one(
      `SELECT coalesce(sum(c.stored_bytes), 0) AS stored,
       coalesce(sum(CASE WHEN NOT EXISTS (SELECT 1 FROM snapshot_blocks o WHERE o.chunk_hash = c.hash
         AND o.snapshot_id != $1) THEN c.stored_bytes ELSE 0 END), 0) AS uniq
       FROM chunks c WHERE c.hash IN (SELECT chunk_hash FROM snapshot_blocks WHERE snapshot_id = $1)`,
      [id],
      c,
    )) as PgRow;
    return stats(Number(s.volume_size_gib), Number(counted?.n), sums);
  });
}

export async function ownerSnapshotStats(
  db: PgDatabase,
  ownerId: string,
  ids: string[],
): Promise<SnapshotStats> {
  return db.tx(async (c) => {
    // The set: the given ids the owner owns.
    const set = "SELECT id FROM snapshots WHERE owner_id = $1 AND id = ANY($2::text[])";
    const sizes = (await db.one(
      `SELECT coalesce(sum(volume_size_gib), 0) AS gib,
         coalesce(sum((SELECT count(*) FROM snapshot_blocks b WHERE b.snapshot_id = s.id
           AND b.chunk_hash IS NOT NULL)), 0) AS blocks
       FROM snapshots s WHERE s.id IN (${set})`,
      [ownerId, ids],
      c,
    )) as PgRow;
    const sums = (await db.one(
      `SELECT coalesce(sum(c.stored_bytes), 0) AS stored,
         coalesce(sum(CASE WHEN NOT EXISTS (SELECT 1 FROM snapshot_blocks o JOIN snapshots os
           ON os.id = o.snapshot_id WHERE o.chunk_hash = c.hash AND os.owner_id = $1
           AND o.snapshot_id NOT IN (${set})) THEN c.stored_bytes ELSE 0 END), 0) AS uniq
       FROM chunks c WHERE c.hash IN
         (SELECT chunk_hash FROM snapshot_blocks WHERE snapshot_id IN (${set}))`,
      [ownerId, ids],
      c,
    )) as PgRow;
    return stats(Number(sizes.gib), Number(sizes.blocks), sums);
  });
}

function stats(volumeSizeGiB: number, blocks: number, sums: PgRow): SnapshotStats {
  const stored = Number(sums.stored);
  const unique = Number(sums.uniq);
  return {
    logicalBytes: volumeSizeGiB * GIB,
    dataBytes: blocks * BLOCK_SIZE,
    storedBytes: stored,
    uniqueBytes: unique,
    sharedBytes: stored - unique,
  };
}
