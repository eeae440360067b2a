// Rows of the volume and snapshot tables as records (flags are integers in SQLite).
import type { BlockRef, SnapshotRecord, VolumeRecord, VolumeState } from "../metadata-store.ts";
import type { Row } from "./sqlite-database.ts";

export function toVolume(r: Row): VolumeRecord {
  return {
    id: String(r.id),
    ownerId: String(r.owner_id),
    sizeGiB: Number(r.size_gib),
    state: r.state as VolumeState,
    availabilityZone: String(r.availability_zone),
    volumeType: String(r.volume_type),
    sourceSnapshotId: (r.source_snapshot_id as string | null) ?? null,
    lastSnapshotId: (r.last_snapshot_id as string | null) ?? null,
    createdAt: String(r.created_at),
    iops: r.iops === null || r.iops === undefined ? null : Number(r.iops),
    ...(r.host ? { host: String(r.host) } : {}),
    attachment: r.attached_instance
      ? {
          instanceId: String(r.attached_instance),
          device: String(r.attached_device),
          attachedAt: String(r.attached_at),
          deleteOnTermination: Number(r.delete_on_termination) === 1,
        }
      : null,
  };
}

export function toSnapshot(r: Row): SnapshotRecord {
  return {
    id: String(r.id),
    ownerId: String(r.owner_id),
    volumeId: (r.volume_id as string | null) ?? null,
    volumeSizeGiB: Number(r.volume_size_gib),
    state: r.state as SnapshotRecord["state"],
    progress: Number(r.progress),
    parentSnapshotId: (r.parent_snapshot_id as string | null) ?? null,
    sourceRegion: (r.source_region as string | null) ?? null,
    sourceSnapshotId: (r.source_snapshot_id as string | null) ?? null,
    description: String(r.description),
    startedAt: String(r.started_at),
    completedAt: (r.completed_at as string | null) ?? null,
    stateMessage: (r.state_message as string | null) ?? null,
    blocksRead: Number(r.blocks_read),
    bytesStored: Number(r.bytes_stored),
    bytesTransferred: Number(r.bytes_transferred),
    expiresAt: (r.expires_at as string | null) ?? null,
    timeoutMinutes:
      r.timeout_minutes === null || r.timeout_minutes === undefined ? null : Number(r.timeout_minutes),
    ...(r.host ? { host: String(r.host) } : {}),
  };
}

export function toBlockRef(r: Row): BlockRef {
  return { block: Number(r.block), hash: (r.chunk_hash as string | null) ?? null };
}
