// Snapshot records in SQLite: creation, listing, progress, failure and deletion.
import { StrataError } from "../../../errors.ts";
import type { Tag } from "../catalog-store.ts";
import { SNAPSHOT_COLUMNS, snapshotParams, toSnapshot } from "../metadata-rows.ts";
import type { Counters, ListScope, SnapshotRecord } from "../metadata-store.ts";
import type { Row, SqliteDatabase } from "./sqlite-database.ts";

function insertSnapshotRow(db: SqliteDatabase, s: SnapshotRecord): void {
  const params = snapshotParams(s);
  db.q(`INSERT INTO snapshots (${SNAPSHOT_COLUMNS}) VALUES (${params.map(() => "?").join(", ")})`).run(
    ...params,
  );
}

export async function beginVolumeSnapshot(
  db: SqliteDatabase,
  s: SnapshotRecord,
  tags: Tag[] = [],
): Promise<number[]> {
  return db.exclusive(() => {
    return db.transaction(() => {
      insertSnapshotRow(db, s);
      db.insertTags([s.id], tags);
      db.q("UPDATE volume_dirty SET gen = ? WHERE volume_id = ? AND gen = ''").run(s.id, s.volumeId);
      return db.column(
        "SELECT block AS v FROM volume_dirty WHERE volume_id = ? AND gen = ?",
        s.volumeId,
        s.id,
      );
    }) as number[];
  });
}

export async function insertSnapshot(db: SqliteDatabase, s: SnapshotRecord, tags: Tag[] = []): Promise<void> {
  return db.exclusive(() => {
    db.transaction(() => {
      insertSnapshotRow(db, s);
      db.insertTags([s.id], tags);
    });
  });
}

export async function getSnapshot(db: SqliteDatabase, id: string): Promise<SnapshotRecord | undefined> {
  return db.exclusive(() => {
    const row = db.q("SELECT * FROM snapshots WHERE id = ?").get(id) as Row | undefined;
    return row && toSnapshot(row);
  });
}

export async function listSnapshots(db: SqliteDatabase): Promise<SnapshotRecord[]> {
  return db.exclusive(() => {
    return (db.q("SELECT * FROM snapshots ORDER BY started_at, id").all() as Row[]).map(toSnapshot);
  });
}

export async function snapshotsVisibleTo(
  db: SqliteDatabase,
  accountId: string,
  scope: ListScope = {},
): Promise<SnapshotRecord[]> {
  return db.exclusive(() => {
    return (db.visibleTo("snapshots", accountId, scope) as Row[]).map(toSnapshot);
  });
}

export async function pendingSnapshots(db: SqliteDatabase): Promise<SnapshotRecord[]> {
  return db.exclusive(() => {
    return (db.q("SELECT * FROM snapshots WHERE state = 'pending' ORDER BY started_at").all() as Row[]).map(
      toSnapshot,
    );
  });
}

export async function setSnapshotProgress(
  db: SqliteDatabase,
  id: string,
  progress: number,
  add: Partial<Counters>,
): Promise<void> {
  return db.exclusive(() => {
    db.q(
      `UPDATE snapshots SET progress = ?, blocks_read = blocks_read + ?, bytes_stored = bytes_stored + ?,
         bytes_transferred = bytes_transferred + ? WHERE id = ? AND state = 'pending'`,
    ).run(progress, add.blocksRead ?? 0, add.bytesStored ?? 0, add.bytesTransferred ?? 0, id);
  });
}

export async function extendSnapshot(db: SqliteDatabase, id: string, expiresAt: string): Promise<void> {
  return db.exclusive(() => {
    db.q("UPDATE snapshots SET expires_at = ? WHERE id = ? AND state = 'pending'").run(expiresAt, id);
  });
}

export async function expiredSnapshots(db: SqliteDatabase, now: string): Promise<string[]> {
  return db.exclusive(() => {
    return db.column(
      "SELECT id AS v FROM snapshots WHERE state = 'pending' AND expires_at IS NOT NULL AND expires_at < ?",
      now,
    ) as string[];
  });
}

export async function failSnapshot(db: SqliteDatabase, id: string, message: string): Promise<string[]> {
  return db.exclusive(() => {
    return db.transaction(() => {
      const s = db.q("SELECT volume_id FROM snapshots WHERE id = ?").get(id) as Row | undefined;
      if (!s) return [];
      if (s.volume_id) {
        // Changes frozen into the failed snapshot belong to the volume's next snapshot again.
        db.q(
          `INSERT OR IGNORE INTO volume_dirty (volume_id, gen, block)
           SELECT volume_id, '', block FROM volume_dirty WHERE volume_id = ? AND gen = ?`,
        ).run(s.volume_id, id);
        db.q("DELETE FROM volume_dirty WHERE volume_id = ? AND gen = ?").run(s.volume_id, id);
      }
      const hashes = snapshotHashes(db, id);
      db.q("DELETE FROM snapshot_blocks WHERE snapshot_id = ?").run(id);
      db.q("UPDATE snapshots SET state = 'error', state_message = ? WHERE id = ?").run(message, id);
      return hashes;
    });
  });
}

export async function deleteSnapshot(db: SqliteDatabase, id: string): Promise<string[]> {
  return db.exclusive(() => {
    return db.transaction(() => {
      // Checked in the same transaction as the delete, so a RegisterImage cannot slip in between.
      // Only the owner's own images count: an image only its owner's snapshots can back (older
      // versions let another account register one on a shared snapshot; it does not pin it).
      const image = db
        .q(
          `SELECT l.image_id FROM image_snapshots l JOIN images i ON i.id = l.image_id
           JOIN snapshots s ON s.id = l.snapshot_id
           WHERE l.snapshot_id = ? AND i.owner_id = s.owner_id ORDER BY l.image_id`,
        )
        .get(id) as Row | undefined;
      if (image) {
        throw new StrataError(
          "InvalidSnapshot.InUse",
          `The snapshot ${id} is currently in use by ${String(image.image_id)}`,
        );
      }
      const hashes = snapshotHashes(db, id);
      db.q("DELETE FROM snapshot_blocks WHERE snapshot_id = ?").run(id);
      db.q("DELETE FROM snapshots WHERE id = ?").run(id);
      db.q("DELETE FROM tags WHERE resource_id = ?").run(id);
      db.q("DELETE FROM permissions WHERE resource_id = ?").run(id);
      return hashes;
    });
  });
}

function snapshotHashes(db: SqliteDatabase, id: string): string[] {
  return db.column(
    "SELECT DISTINCT chunk_hash AS v FROM snapshot_blocks WHERE snapshot_id = ? AND chunk_hash IS NOT NULL",
    id,
  ) as string[];
}
