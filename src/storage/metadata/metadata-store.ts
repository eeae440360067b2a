// The metadata seam: one region's volumes, snapshots, block maps and chunk index. Each method
// that changes several rows is one transaction in the implementation, so services never see a
// half-applied change. SQLite implements it today; a PostgreSQL implementation (one schema per
// region, advisory locks for lockChunks) plugs in without changes to the services.

import { StrataError } from "../../errors.ts";
import type { Tag } from "./catalog-store.ts";

export type VolumeState = "creating" | "available" | "in-use" | "deleting" | "deleted" | "error";
export type SnapshotState = "pending" | "completed" | "error";

export interface VolumeRecord {
  id: string;
  /** 12-digit account id of the owner ('' for engine-internal use). */
  ownerId: string;
  sizeGiB: number;
  state: VolumeState;
  availabilityZone: string;
  volumeType: string;
  sourceSnapshotId: string | null;
  /** The snapshot whose block map the volume's unchanged blocks match (parent of its next snapshot). */
  lastSnapshotId: string | null;
  createdAt: string;
  /** Provisioned IOPS (io1/io2 only; null or absent for the other types). */
  iops?: number | null;
  /** The Strata host whose disk holds the volume's data (absent: not recorded, single-host data). */
  host?: string | null;
  /** Set while attached to an instance (state in-use). */
  attachment?: {
    instanceId: string;
    device: string;
    attachedAt: string;
    deleteOnTermination: boolean;
  } | null;
}

export interface SnapshotRecord {
  id: string;
  ownerId: string;
  volumeId: string | null;
  volumeSizeGiB: number;
  state: SnapshotState;
  /** 0-100, as EC2's Progress. */
  progress: number;
  parentSnapshotId: string | null;
  sourceRegion: string | null;
  sourceSnapshotId: string | null;
  description: string;
  startedAt: string;
  completedAt: string | null;
  stateMessage: string | null;
  /** Blocks this snapshot had to read from its volume (or source, for a copy). */
  blocksRead: number;
  /** Encoded bytes this snapshot added to the block store (chunks no one had before). */
  bytesStored: number;
  /** Encoded bytes a copy moved from the source region (only chunks the destination lacked). */
  bytesTransferred: number;
  /** EBS direct API snapshots: when a pending one times out (null otherwise)... */
  expiresAt: string | null;
  /** ...which is this long after its start or its last block written. */
  timeoutMinutes: number | null;
  /** The host running its job (a volume's or a copy's; absent: recorded before hosts were, or EBS direct). */
  host?: string | null;
}

export interface SnapshotStats {
  /** The volume size: what a restore presents. */
  logicalBytes: number;
  /** Non-zero blocks x 512 KiB. */
  dataBytes: number;
  /** Encoded bytes of all distinct chunks it references. */
  storedBytes: number;
  /** Encoded bytes of chunks no other snapshot references. */
  uniqueBytes: number;
  /** Encoded bytes of chunks other snapshots reference too. */
  sharedBytes: number;
}

export interface BlockRef {
  block: number;
  /** SHA-256 hex of the raw block; null when the block is all zeros. */
  hash: string | null;
}

export interface ChunkRecord {
  hash: string;
  storedBytes: number;
  /** The sealed pack holding its bytes from `offset` (null: a chunk stored alone, before packs). */
  pack: string | null;
  offset: number;
}

export interface VolumeTracking {
  /** Blocks written since the last snapshot began (generation open). */
  dirty: number[];
  /** Blocks frozen into a snapshot still pending, with its id. */
  frozen: { snapshotId: string; blocks: number[] } | null;
  /** Mapped blocks whose content is still only in the block store (not yet hydrated). */
  remote: number[];
  /** Mapped (non-zero) blocks in the volume's base map. */
  mapped: number[];
}

export interface MetadataStore {
  close(): void;

  // Volumes
  /** Inserts the volume and its tags in one transaction. */
  insertVolume(volume: VolumeRecord, tags?: Tag[]): Promise<void>;
  getVolume(id: string): Promise<VolumeRecord | undefined>;
  /** Every volume, or one account's, oldest first. */
  listVolumes(ownerId?: string): Promise<VolumeRecord[]>;
  updateVolume(
    id: string,
    change: { sizeGiB: number; volumeType: string; iops?: number | null },
  ): Promise<void>;
  /** Removes the volume and everything it tracked; returns chunks it referenced (GC candidates). */
  deleteVolume(id: string): Promise<string[]>;
  /**
   * A lost host's volume, taken over by `host`: its base map becomes its last snapshot's (every
   * block remote again, nothing dirty), since what it wrote since then was on the lost host's
   * disk. IncorrectState if no completed snapshot of it remains. Returns GC candidates.
   */
  adoptVolume(id: string, from: string | null, host: string): Promise<string[]>;
  volumeTracking(id: string): Promise<VolumeTracking>;
  /** Whether some of the volume's blocks are still only in the block store (hydration not done). */
  hasRemoteBlocks(id: string): Promise<boolean>;
  /** Blocks of the volume's base map, and those of them not yet hydrated (counted, not listed). */
  hydrationCounts(id: string): Promise<{ mapped: number; remote: number }>;
  /** Chunk hashes of the not-yet-hydrated blocks in [fromBlock, toBlock]. */
  remoteBlockHashes(id: string, fromBlock: number, toBlock: number): Promise<Map<number, string>>;
  markDirty(id: string, blocks: number[]): Promise<void>;
  markLocal(id: string, blocks: number[]): Promise<void>;

  // Snapshots
  /** Inserts the pending snapshot with its tags and freezes the volume's dirty set into it, atomically. */
  beginVolumeSnapshot(snapshot: SnapshotRecord, tags?: Tag[]): Promise<number[]>;
  insertSnapshot(snapshot: SnapshotRecord, tags?: Tag[]): Promise<void>;
  getSnapshot(id: string): Promise<SnapshotRecord | undefined>;
  listSnapshots(): Promise<SnapshotRecord[]>;
  /**
   * Snapshots the account owns or may restore (createVolumePermission to it or to 'all'), by id;
   * optionally only those of some owners, after an id, at most `limit` of them.
   */
  snapshotsVisibleTo(accountId: string, scope?: ListScope): Promise<SnapshotRecord[]>;
  pendingSnapshots(): Promise<SnapshotRecord[]>;
  /** Blocks already recorded for a (pending) snapshot: what a resumed job skips. */
  recordedBlocks(id: string): Promise<number[]>;
  /** Drops a pending snapshot's references (of these blocks, or all) to chunks that never became live. */
  forgetUnstoredBlocks(id: string, blocks?: number[]): Promise<number>;
  snapshotBlocks(id: string, afterBlock: number, limit: number): Promise<BlockRef[]>;
  /**
   * Records block -> chunk references for a pending snapshot (they protect the chunks from GC
   * from this moment) and returns the hashes among them that are not yet live chunks.
   */
  addSnapshotBlocks(id: string, refs: BlockRef[]): Promise<string[]>;
  setSnapshotProgress(id: string, progress: number, add: Partial<Counters>): Promise<void>;
  /** Moves a pending EBS snapshot's deadline (each block written restarts its Timeout). */
  extendSnapshot(id: string, expiresAt: string): Promise<void>;
  /** Completes a volume snapshot (full map, volume base map, dirty set) in one go; returns GC candidates. */
  completeVolumeSnapshot(id: string): Promise<string[]>;
  completeCopiedSnapshot(id: string): Promise<void>;
  /** Completes a snapshot written block by block: blocks not written come from the parent's map. */
  completeDirectSnapshot(id: string): Promise<void>;
  /** Pending direct snapshots whose deadline has passed. */
  expiredSnapshots(now: string): Promise<string[]>;
  /** block -> chunk hash (null for a written zero block) of the blocks recorded so far. */
  recordedRefs(id: string): Promise<BlockRef[]>;
  /** Marks error, gives frozen dirty blocks back to the volume, drops refs; returns GC candidates. */
  failSnapshot(id: string, message: string): Promise<string[]>;
  /** Deletes the snapshot and its block map; returns GC candidates. */
  deleteSnapshot(id: string): Promise<string[]>;
  snapshotStats(id: string): Promise<SnapshotStats>;
  /**
   * Usage of a set of the owner's snapshots (one snapshot, or an image's), as that owner may see
   * it: unique = chunks no other snapshot of the same owner references. Other accounts' snapshots
   * never count, so the answer reveals nothing of what they store (chunks dedupe across accounts).
   */
  ownerSnapshotStats(ownerId: string, ids: string[]): Promise<SnapshotStats>;

  // Chunks
  liveChunks(hashes: string[]): Promise<Set<string>>;
  addChunks(chunks: ChunkRecord[]): Promise<void>;
  /** Deletes the rows of candidates nothing references any more; returns the hashes deleted. */
  dropUnreferencedChunks(candidates: string[]): Promise<string[]>;
  /** Every chunk row with no reference (left by a crash between a delete and its GC). */
  unreferencedChunks(): Promise<string[]>;
  chunkTotals(): Promise<{ chunks: number; storedBytes: number }>;
  /**
   * Serialises the upload and the deletion of the same chunk: held around "upload + addChunks"
   * and around "dropUnreferencedChunks + delete from store".
   */
  lockChunks(hashes: Iterable<string>): Promise<() => void>;
}

export interface ListScope {
  ownerIds?: string[];
  /** Column matches (EC2 filter values, with their * and ? wildcards): AND across, OR within. */
  where?: { column: string; patterns: string[] }[];
  /** Images only: leave out other owners' images deprecated at or before this time. */
  hideDeprecatedAt?: string;
  after?: string;
  limit?: number;
}

export interface Counters {
  blocksRead: number;
  bytesStored: number;
  bytesTransferred: number;
}

/** adoptVolume when another host took the volume over first (or it is gone). */
export function tookOver(id: string, host: unknown): StrataError {
  return host === undefined
    ? new StrataError("InvalidVolume.NotFound", `The volume '${id}' does not exist.`)
    : new StrataError(
        "IncorrectState",
        `The volume '${id}' was taken over by Strata host ${String(host)} meanwhile.`,
      );
}
