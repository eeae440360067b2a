// Rows of the volume and snapshot tables as records, the same for both SQL stores: bigint columns
// may arrive as strings (PostgreSQL), flags as booleans (PostgreSQL) or integers (SQLite).
import type { BlockRef, SnapshotRecord, VolumeRecord, VolumeState } from "./metadata-store.ts";

type Row = Record<string, unknown>;

const nullableNumber = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const nullableString = (v: unknown) => (v as string | null | undefined) ?? null;
const flag = (v: unknown) => v === true || Number(v) === 1;

export function toVolume(r: Row): VolumeRecord {
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
          deleteOnTermination: flag(r.delete_on_termination),
        }
      : null,
  };
}

export function toSnapshot(r: Row): SnapshotRecord {
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

export function toBlockRef(r: Row): BlockRef {
  return { block: Number(r.block), hash: nullableString(r.chunk_hash) };
}

/** The snapshots table's columns in the order of snapshotParams (one INSERT per dialect's placeholders). */
export const SNAPSHOT_COLUMNS =
  "id, volume_id, volume_size_gib, state, progress, parent_snapshot_id, source_region, source_snapshot_id, " +
  "description, started_at, completed_at, state_message, blocks_read, bytes_stored, bytes_transferred, " +
  "owner_id, expires_at, timeout_minutes, host";

export function snapshotParams(s: SnapshotRecord): (string | number | null)[] {
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
