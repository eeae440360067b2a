// Snapshot records in PostgreSQL: creation, listing, progress, failure and deletion.
import { StrataError } from "../../../errors.ts";
import type { Tag } from "../catalog-store.ts";
import type { Counters, ListScope, SnapshotRecord } from "../metadata-store.ts";
import type { PgDatabase, Queryable } from "./pg-database.ts";
import { blockNumbers, INSERT_SNAPSHOT, snapshotParams, toSnapshot } from "./pg-metadata-rows.ts";

export async function beginVolumeSnapshot(
  db: PgDatabase,
  s: SnapshotRecord,
  tags: Tag[] = [],
): Promise<number[]> {
  return db.tx(async (c) => {
    await c.query(INSERT_SNAPSHOT, snapshotParams(s));
    await db.insertTags(c, [s.id], tags);
    await c.query("UPDATE volume_dirty SET gen = $1 WHERE volume_id = $2 AND gen = ''", [s.id, s.volumeId]);
    return blockNumbers(
      db,
      "SELECT block AS v FROM volume_dirty WHERE volume_id = $1 AND gen = $2 ORDER BY block",
      [s.volumeId, s.id],
      c,
    );
  });
}

export async function insertSnapshot(db: PgDatabase, s: SnapshotRecord, tags: Tag[] = []): Promise<void> {
  await db.tx(async (c) => {
    await c.query(INSERT_SNAPSHOT, snapshotParams(s));
    await db.insertTags(c, [s.id], tags);
  });
}

export async function getSnapshot(db: PgDatabase, id: string): Promise<SnapshotRecord | undefined> {
  const row = await db.one("SELECT * FROM snapshots WHERE id = $1", [id]);
  return row && toSnapshot(row);
}

export async function listSnapshots(db: PgDatabase): Promise<SnapshotRecord[]> {
  return (await db.query("SELECT * FROM snapshots ORDER BY started_at, id")).map(toSnapshot);
}

export async function snapshotsVisibleTo(
  db: PgDatabase,
  accountId: string,
  scope: ListScope = {},
): Promise<SnapshotRecord[]> {
  return (await db.visibleTo("snapshots", accountId, scope)).map(toSnapshot);
}

export async function pendingSnapshots(db: PgDatabase): Promise<SnapshotRecord[]> {
  return (await db.query("SELECT * FROM snapshots WHERE state = 'pending' ORDER BY started_at")).map(
    toSnapshot,
  );
}

export async function setSnapshotProgress(
  db: PgDatabase,
  id: string,
  progress: number,
  add: Partial<Counters>,
): Promise<void> {
  await db.run(
    `UPDATE snapshots SET progress = $1, blocks_read = blocks_read + $2, bytes_stored = bytes_stored + $3,
     bytes_transferred = bytes_transferred + $4 WHERE id = $5 AND state = 'pending'`,
    [progress, add.blocksRead ?? 0, add.bytesStored ?? 0, add.bytesTransferred ?? 0, id],
  );
}

export async function extendSnapshot(db: PgDatabase, id: string, expiresAt: string): Promise<void> {
  await db.run("UPDATE snapshots SET expires_at = $1 WHERE id = $2 AND state = 'pending'", [expiresAt, id]);
}

export async function expiredSnapshots(db: PgDatabase, now: string): Promise<string[]> {
  return (await db.column(
    "SELECT id AS v FROM snapshots WHERE state = 'pending' AND expires_at IS NOT NULL AND expires_at < $1 ORDER BY id",
    [now],
  )) as string[];
}

export async function failSnapshot(db: PgDatabase, id: string, message: string): Promise<string[]> {
  return db.tx(async (c) => {
    const s = await db.one("SELECT volume_id FROM snapshots WHERE id = $1", [id], c);
    if (!s) return [];
    if (s.volume_id) {
      // Changes frozen into the failed snapshot belong to the volume's next snapshot again.
      await c.query(
        `INSERT INTO volume_dirty (volume_id, gen, block)
         SELECT volume_id, '', block FROM volume_dirty WHERE volume_id = $1 AND gen = $2 ON CONFLICT DO NOTHING`,
        [s.volume_id, id],
      );
      await c.query("DELETE FROM volume_dirty WHERE volume_id = $1 AND gen = $2", [s.volume_id, id]);
    }
    const hashes = await snapshotHashes(db, id, c);
    await c.query("DELETE FROM snapshot_blocks WHERE snapshot_id = $1", [id]);
    await c.query("UPDATE snapshots SET state = 'error', state_message = $1 WHERE id = $2", [message, id]);
    return hashes;
  });
}

export async function deleteSnapshot(db: PgDatabase, id: string): Promise<string[]> {
  return db.tx(async (c) => {
    // Checked in the same transaction as the delete, so a RegisterImage cannot slip in between.
    // Only the owner's own images count: an image only its owner's snapshots can back (older
    // versions let another account register one on a shared snapshot; it does not pin it).
    const image = await db.one(
      `SELECT l.image_id FROM image_snapshots l JOIN images i ON i.id = l.image_id
       JOIN snapshots s ON s.id = l.snapshot_id
       WHERE l.snapshot_id = $1 AND i.owner_id = s.owner_id ORDER BY l.image_id LIMIT 1`,
      [id],
      c,
    );
    if (image) {
      throw new StrataError(
        "InvalidSnapshot.InUse",
        `The snapshot ${id} is currently in use by ${String(image.image_id)}`,
      );
    }
    const hashes = await snapshotHashes(db, id, c);
    await c.query("DELETE FROM snapshot_blocks WHERE snapshot_id = $1", [id]);
    await c.query("DELETE FROM snapshots WHERE id = $1", [id]);
    await c.query("DELETE FROM tags WHERE resource_id = $1", [id]);
    await c.query("DELETE FROM permissions WHERE resource_id = $1", [id]);
    return hashes;
  });
}

async function snapshotHashes(db: PgDatabase, id: string, c: Queryable): Promise<string[]> {
  return (await db.column(
    `SELECT DISTINCT chunk_hash AS v FROM snapshot_blocks WHERE snapshot_id = $1 AND chunk_hash IS NOT NULL
     ORDER BY chunk_hash`,
    [id],
    c,
  )) as string[];
}
