// Volumes in PostgreSQL: their rows, base maps (volume_blocks) and dirty sets (volume_dirty).
import { StrataError } from "../../../errors.ts";
import type { Tag } from "../catalog-store.ts";
import type { VolumeRecord, VolumeTracking } from "../metadata-store.ts";
import { tookOver } from "../metadata-store.ts";
import type { PgDatabase } from "./pg-database.ts";
import { blockNumbers, toVolume } from "./pg-metadata-rows.ts";

export async function insertVolume(db: PgDatabase, v: VolumeRecord, tags: Tag[] = []): Promise<void> {
  await db.tx(async (c) => {
    await db.insertTags(c, [v.id], tags);
    await c.query(
      `INSERT INTO volumes (id, size_gib, state, availability_zone, volume_type, source_snapshot_id,
       last_snapshot_id, created_at, owner_id, iops, host) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
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
      ],
    );
    if (v.sourceSnapshotId) {
      // Checked in the same transaction as the copy of its map, so a concurrent delete cannot
      // leave an "available" volume of zeros.
      const src = await db.one("SELECT state FROM snapshots WHERE id = $1", [v.sourceSnapshotId], c);
      if (src?.state !== "completed") {
        throw new StrataError(
          "InvalidSnapshot.NotFound",
          `The snapshot '${v.sourceSnapshotId}' does not exist.`,
        );
      }
      await c.query(
        `INSERT INTO volume_blocks (volume_id, block, chunk_hash, local)
         SELECT $1, block, chunk_hash, false FROM snapshot_blocks WHERE snapshot_id = $2 AND chunk_hash IS NOT NULL`,
        [v.id, v.sourceSnapshotId],
      );
    }
  });
}

export async function getVolume(db: PgDatabase, id: string): Promise<VolumeRecord | undefined> {
  const row = await db.one("SELECT * FROM volumes WHERE id = $1", [id]);
  return row && toVolume(row);
}

export async function listVolumes(db: PgDatabase, ownerId?: string): Promise<VolumeRecord[]> {
  const rows =
    ownerId === undefined
      ? await db.query("SELECT * FROM volumes ORDER BY created_at, id")
      : await db.query("SELECT * FROM volumes WHERE owner_id = $1 ORDER BY created_at, id", [ownerId]);
  return rows.map(toVolume);
}

export async function updateVolume(
  db: PgDatabase,
  id: string,
  change: { sizeGiB: number; volumeType: string; iops?: number | null },
): Promise<void> {
  await db.run("UPDATE volumes SET size_gib = $1, volume_type = $2, iops = $3 WHERE id = $4", [
    change.sizeGiB,
    change.volumeType,
    change.iops ?? null,
    id,
  ]);
}

export async function deleteVolume(db: PgDatabase, id: string): Promise<string[]> {
  return db.tx(async (c) => {
    // Checked in the transaction: an attach racing the delete wins or loses as a whole.
    const v = await db.one("SELECT attached_instance FROM volumes WHERE id = $1", [id], c);
    if (v?.attached_instance) {
      throw new StrataError(
        "VolumeInUse",
        `Volume ${id} is currently attached to ${String(v.attached_instance)}`,
      );
    }
    const hashes = await db.column(
      "SELECT DISTINCT chunk_hash AS v FROM volume_blocks WHERE volume_id = $1 ORDER BY chunk_hash",
      [id],
      c,
    );
    await c.query("DELETE FROM volume_blocks WHERE volume_id = $1", [id]);
    await c.query("DELETE FROM volume_dirty WHERE volume_id = $1", [id]);
    await c.query("DELETE FROM volumes WHERE id = $1", [id]);
    await c.query("DELETE FROM tags WHERE resource_id = $1", [id]);
    return hashes as string[];
  });
}

export async function adoptVolume(
  db: PgDatabase,
  id: string,
  from: string | null,
  host: string,
): Promise<string[]> {
  return db.tx(async (c) => {
    const v = await db.one("SELECT last_snapshot_id, host FROM volumes WHERE id = $1 FOR UPDATE", [id], c);
    if ((v?.host ?? null) !== from) throw tookOver(id, v?.host);
    const snap = v?.last_snapshot_id
      ? await db.one("SELECT state FROM snapshots WHERE id = $1", [v.last_snapshot_id], c)
      : undefined;
    if (snap?.state !== "completed") {
      throw new StrataError("IncorrectState", `No snapshot of volume '${id}' remains to restore it from.`);
    }
    const hashes = await db.column(
      "SELECT DISTINCT chunk_hash AS v FROM volume_blocks WHERE volume_id = $1 ORDER BY chunk_hash",
      [id],
      c,
    );
    await c.query("DELETE FROM volume_blocks WHERE volume_id = $1", [id]);
    await c.query("DELETE FROM volume_dirty WHERE volume_id = $1", [id]);
    await c.query(
      `INSERT INTO volume_blocks (volume_id, block, chunk_hash, local)
       SELECT $1, block, chunk_hash, false FROM snapshot_blocks WHERE snapshot_id = $2 AND chunk_hash IS NOT NULL`,
      [id, v?.last_snapshot_id],
    );
    await c.query("UPDATE volumes SET host = $1 WHERE id = $2", [host, id]);
    return hashes as string[];
  });
}

export async function volumeTracking(db: PgDatabase, id: string): Promise<VolumeTracking> {
  // One transaction: the four sets are of one moment, as SQLite's synchronous reads are.
  return db.tx(async (c) => {
    const dirty = await blockNumbers(
      db,
      "SELECT block AS v FROM volume_dirty WHERE volume_id = $1 AND gen = '' ORDER BY block",
      [id],
      c,
    );
    const frozenRows = await db.query(
      "SELECT gen, block FROM volume_dirty WHERE volume_id = $1 AND gen != '' ORDER BY gen, block",
      [id],
      c,
    );
    const remote = await blockNumbers(
      db,
      "SELECT block AS v FROM volume_blocks WHERE volume_id = $1 AND NOT local ORDER BY block",
      [id],
      c,
    );
    const mapped = await blockNumbers(
      db,
      "SELECT block AS v FROM volume_blocks WHERE volume_id = $1 ORDER BY block",
      [id],
      c,
    );
    const frozen = frozenRows.length
      ? { snapshotId: String(frozenRows[0].gen), blocks: frozenRows.map((r) => Number(r.block)) }
      : null;
    return { dirty, frozen, remote, mapped };
  });
}

export async function hasRemoteBlocks(db: PgDatabase, id: string): Promise<boolean> {
  return (
    (await db.one("SELECT 1 FROM volume_blocks WHERE volume_id = $1 AND NOT local LIMIT 1", [id])) !==
    undefined
  );
}

export async function hydrationCounts(
  db: PgDatabase,
  id: string,
): Promise<{ mapped: number; remote: number }> {
  const r = await db.one(
    "SELECT count(*) AS mapped, count(*) FILTER (WHERE NOT local) AS remote FROM volume_blocks WHERE volume_id = $1",
    [id],
  );
  return { mapped: Number(r?.mapped ?? 0), remote: Number(r?.remote ?? 0) };
}

export async function remoteBlockHashes(
  db: PgDatabase,
  id: string,
  fromBlock: number,
  toBlock: number,
): Promise<Map<number, string>> {
  const rows = await db.query(
    `SELECT block, chunk_hash FROM volume_blocks WHERE volume_id = $1 AND NOT local AND block BETWEEN $2 AND $3
     ORDER BY block`,
    [id, fromBlock, toBlock],
  );
  return new Map(rows.map((r) => [Number(r.block), String(r.chunk_hash)]));
}

export async function markDirty(db: PgDatabase, id: string, blocks: number[]): Promise<void> {
  await db.tx((c) =>
    c.query(
      `INSERT INTO volume_dirty (volume_id, gen, block) SELECT $1, '', b FROM unnest($2::bigint[]) AS b
       ON CONFLICT DO NOTHING`,
      [id, blocks],
    ),
  );
}

export async function markLocal(db: PgDatabase, id: string, blocks: number[]): Promise<void> {
  await db.tx((c) =>
    c.query("UPDATE volume_blocks SET local = true WHERE volume_id = $1 AND block = ANY($2::bigint[])", [
      id,
      blocks,
    ]),
  );
}
