// Rows of the volume and snapshot tables as records (bigint columns arrive as strings, flags as
// booleans), and a snapshot record as the parameters of its INSERT.

import type pg from "pg";
import type { BlockRef, SnapshotRecord, VolumeRecord, VolumeState } from "../metadata-store.ts";
import type { PgDatabase, PgRow } from "./pg-database.ts";

export const INSERT_SNAPSHOT = `INSERT INTO snapshots (id, volume_id, volume_size_gib, state, progress,
  parent_snapshot_id, source_region, source_snapshot_id, description, started_at, completed_at, state_message,
  blocks_read, bytes_stored, bytes_transferred, owner_id, expires_at, timeout_minutes, host)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`;

export function snapshotParams(s: SnapshotRecord): unknown[] {
  return [
    s.id,
    s.volumeId,
    s.volumeSizeGiB,
    s.state,
    s.progress,
    s.parentSnapshotId,
    s.sourceRegion,
    s.sourceSnapshotId,
    s.description,
    s.startedAt,
    s.completedAt,
    s.stateMessage,
    s.blocksRead,
    s.bytesStored,
    s.bytesTransferred,
    s.ownerId,
    s.expiresAt,
    s.timeoutMinutes,
    s.host ?? null,
  ];
}

const nullableNumber = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const nullableString = (v: unknown) => (v as string | null | undefined) ?? null;

export function toVolume(r: PgRow): VolumeRecord {
  return {
    id: String(r.id),
    ownerId: String(r.owner_id),
    sizeGiB: Number(r.size_gib),
    state: r.state as VolumeState,
    availabilityZone: String(r.availability_zone),
    volumeType: String(r.volume_type),
    sourceSnapshotId: nullableString(r.source_snapshot_id),
    lastSnapshotId: nullableString(r.last_snapshot_id),
    createdAt: String(r.created_at),
    iops: nullableNumber(r.iops),
    ...(r.host ? { host: String(r.host) } : {}),
    attachment: r.attached_instance
      ? {
          instanceId: String(r.attached_instance),
          device: String(r.attached_device),
          attachedAt: String(r.attached_at),
          deleteOnTermination: r.delete_on_termination === true,
        }
      : null,
  };
}

export function toSnapshot(r: PgRow): SnapshotRecord {
  return {
    id: String(r.id),
    ownerId: String(r.owner_id),
    volumeId: nullableString(r.volume_id),
    volumeSizeGiB: Number(r.volume_size_gib),
    state: r.state as SnapshotRecord["state"],
    progress: Number(r.progress),
    parentSnapshotId: nullableString(r.parent_snapshot_id),
    sourceRegion: nullableString(r.source_region),
    sourceSnapshotId: nullableString(r.source_snapshot_id),
    description: String(r.description),
    startedAt: String(r.started_at),
    completedAt: nullableString(r.completed_at),
    stateMessage: nullableString(r.state_message),
    blocksRead: Number(r.blocks_read),
    bytesStored: Number(r.bytes_stored),
    bytesTransferred: Number(r.bytes_transferred),
    expiresAt: nullableString(r.expires_at),
    timeoutMinutes: nullableNumber(r.timeout_minutes),
    ...(r.host ? { host: String(r.host) } : {}),
  };
}

export function toBlockRef(r: PgRow): BlockRef {
  return { block: Number(r.block), hash: nullableString(r.chunk_hash) };
}

/** Block numbers (bigint, so strings from the driver) of the `v` column. */
export async function blockNumbers(
  db: PgDatabase,
  sql: string,
  params: unknown[],
  on?: pg.PoolClient,
): Promise<number[]> {
  return (await db.column(sql, params, on)).map(Number);
}
