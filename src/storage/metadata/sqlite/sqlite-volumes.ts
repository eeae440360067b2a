// Volumes in SQLite: their rows, base maps (volume_blocks) and dirty sets (volume_dirty).
import { StrataError } from "../../../errors.ts";
import type { Tag } from "../catalog-store.ts";
import { toVolume } from "../metadata-rows.ts";
import type { VolumeRecord, VolumeTracking } from "../metadata-store.ts";
import { tookOver } from "../metadata-store.ts";
import type { Row, SqliteDatabase } from "./sqlite-database.ts";

export async function insertVolume(db: SqliteDatabase, v: VolumeRecord, tags: Tag[] = []): Promise<void> {
  return db.exclusive(() => {
    db.transaction(() => {
      db.insertTags([v.id], tags);
      db.q(
        `INSERT INTO volumes (id, size_gib, state, availability_zone, volume_type, source_snapshot_id,
           last_snapshot_id, created_at, owner_id, iops, host) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        v.id,
        v.sizeGiB,
        v.state,
        v.availabilityZone,
        v.volumeType,
        v.sourceSnapshotId,
        v.lastSnapshotId,
        v.createdAt,
        v.ownerId,
        v.iops ?? null,
        v.host ?? null,
      );
      if (v.sourceSnapshotId) {
        // Checked in the same transaction as the copy of its map, so a concurrent delete cannot
        // leave an "available" volume of zeros.
        const src = db.q("SELECT state FROM snapshots WHERE id = ?").get(v.sourceSnapshotId) as
          | Row
          | undefined;
        if (src?.state !== "completed") {
          throw new StrataError(
            "InvalidSnapshot.NotFound",
            `The snapshot '${v.sourceSnapshotId}' does not exist.`,
          );
        }
        db.q(
          `INSERT INTO volume_blocks (volume_id, block, chunk_hash, local)
           SELECT ?, block, chunk_hash, 0 FROM snapshot_blocks WHERE snapshot_id = ? AND chunk_hash IS NOT NULL`,
        ).run(v.id, v.sourceSnapshotId);
      }
    });
  });
}

export async function getVolume(db: SqliteDatabase, id: string): Promise<VolumeRecord | undefined> {
  return db.exclusive(() => {
    const row = db.q("SELECT * FROM volumes WHERE id = ?").get(id) as Row | undefined;
    return row && toVolume(row);
  });
}

export async function listVolumes(db: SqliteDatabase, ownerId?: string): Promise<VolumeRecord[]> {
  return db.exclusive(() => {
    const rows =
      ownerId === undefined
        ? db.q("SELECT * FROM volumes ORDER BY created_at, id").all()
        : db.q("SELECT * FROM volumes WHERE owner_id = ? ORDER BY created_at, id").all(ownerId);
    return (rows as Row[]).map(toVolume);
  });
}

export async function updateVolume(
  db: SqliteDatabase,
  id: string,
  change: { sizeGiB: number; volumeType: string; iops?: number | null },
): Promise<void> {
  return db.exclusive(() => {
    db.q("UPDATE volumes SET size_gib = ?, volume_type = ?, iops = ? WHERE id = ?").run(
      change.sizeGiB,
      change.volumeType,
      change.iops ?? null,
      id,
    );
  });
}

export async function deleteVolume(db: SqliteDatabase, id: string): Promise<string[]> {
  return db.exclusive(() => {
    return db.transaction(() => {
      // Checked in the transaction: an attach racing the delete wins or loses as a whole.
      const v = db.q("SELECT attached_instance FROM volumes WHERE id = ?").get(id) as Row | undefined;
      if (v?.attached_instance) {
        throw new StrataError(
          "VolumeInUse",
          `Volume ${id} is currently attached to ${String(v.attached_instance)}`,
        );
      }
      const hashes = db.column("SELECT DISTINCT chunk_hash AS v FROM volume_blocks WHERE volume_id = ?", id);
      db.q("DELETE FROM volume_blocks WHERE volume_id = ?").run(id);
      db.q("DELETE FROM volume_dirty WHERE volume_id = ?").run(id);
      db.q("DELETE FROM volumes WHERE id = ?").run(id);
      db.q("DELETE FROM tags WHERE resource_id = ?").run(id);
      return hashes as string[];
    });
  });
}

export async function adoptVolume(
  db: SqliteDatabase,
  id: string,
  from: string | null,
  host: string,
): Promise<string[]> {
  return db.tx(() => {
    const v = db.q("SELECT last_snapshot_id, host FROM volumes WHERE id = ?").get(id) as Row | undefined;
    if ((v?.host ?? null) !== from) throw tookOver(id, v?.host);
    const snap = v?.last_snapshot_id
      ? (db.q("SELECT state FROM snapshots WHERE id = ?").get(v.last_snapshot_id) as Row | undefined)
      : undefined;
    if (snap?.state !== "completed") {
      throw new StrataError("IncorrectState", `No snapshot of volume '${id}' remains to restore it from.`);
    }
    const hashes = db.column("SELECT DISTINCT chunk_hash AS v FROM volume_blocks WHERE volume_id = ?", id);
    db.q("DELETE FROM volume_blocks WHERE volume_id = ?").run(id);
    db.q("DELETE FROM volume_dirty WHERE volume_id = ?").run(id);
    db.q(
      `INSERT INTO volume_blocks (volume_id, block, chunk_hash, local)
         SELECT ?, block, chunk_hash, 0 FROM snapshot_blocks WHERE snapshot_id = ? AND chunk_hash IS NOT NULL`,
    ).run(id, v?.last_snapshot_id as string);
    db.q("UPDATE volumes SET host = ? WHERE id = ?").run(host, id);
    return hashes as string[];
  });
}

export async function volumeTracking(db: SqliteDatabase, id: string): Promise<VolumeTracking> {
  return db.exclusive(() => {
    const dirty = db.column("SELECT block AS v FROM volume_dirty WHERE volume_id = ? AND gen = ''", id);
    const frozenRows = db
      .q("SELECT gen, block FROM volume_dirty WHERE volume_id = ? AND gen != ''")
      .all(id) as Row[];
    const remote = db.column("SELECT block AS v FROM volume_blocks WHERE volume_id = ? AND local = 0", id);
    const mapped = db.column("SELECT block AS v FROM volume_blocks WHERE volume_id = ?", id) as number[];
    const frozen = frozenRows.length
      ? { snapshotId: String(frozenRows[0].gen), blocks: frozenRows.map((r) => Number(r.block)) }
      : null;
    return { dirty: dirty as number[], frozen, remote: remote as number[], mapped };
  });
}

export async function hasRemoteBlocks(db: SqliteDatabase, id: string): Promise<boolean> {
  return db.exclusive(() => {
    return (
      db.q("SELECT 1 FROM volume_blocks WHERE volume_id = ? AND local = 0 LIMIT 1").get(id) !== undefined
    );
  });
}

export async function hydrationCounts(
  db: SqliteDatabase,
  id: string,
): Promise<{ mapped: number; remote: number }> {
  return db.exclusive(() => {
    const r = db
      .q(
        "SELECT count(*) AS mapped, count(*) FILTER (WHERE local = 0) AS remote FROM volume_blocks WHERE volume_id = ?",
      )
      .get(id) as { mapped: number; remote: number };
    return { mapped: Number(r.mapped), remote: Number(r.remote) };
  });
}

export async function remoteBlockHashes(
  db: SqliteDatabase,
  id: string,
  fromBlock: number,
  toBlock: number,
): Promise<Map<number, string>> {
  return db.exclusive(() => {
    const rows = db
      .q(
        "SELECT block, chunk_hash FROM volume_blocks WHERE volume_id = ? AND local = 0 AND block BETWEEN ? AND ?",
      )
      .all(id, fromBlock, toBlock) as Row[];
    return new Map(rows.map((r) => [Number(r.block), String(r.chunk_hash)]));
  });
}

export async function markDirty(db: SqliteDatabase, id: string, blocks: number[]): Promise<void> {
  return db.exclusive(() => {
    const ins = db.q("INSERT OR IGNORE INTO volume_dirty (volume_id, gen, block) VALUES (?, '', ?)");
    db.transaction(() => {
      for (const b of blocks) ins.run(id, b);
    });
  });
}

export async function markLocal(db: SqliteDatabase, id: string, blocks: number[]): Promise<void> {
  return db.exclusive(() => {
    const upd = db.q("UPDATE volume_blocks SET local = 1 WHERE volume_id = ? AND block = ?");
    db.transaction(() => {
      for (const b of blocks) upd.run(id, b);
    });
  });
}
