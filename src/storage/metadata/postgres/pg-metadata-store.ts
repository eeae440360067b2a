// One region's volumes, snapshots and chunk index in PostgreSQL: SqliteMetadataStore's behaviour
// statement for statement. Each change of several rows, and each change guarded by a check
// (attached? pending? still unreferenced?), is one SERIALIZABLE transaction, so it holds against
// concurrent hosts as SQLite's single writer makes it hold. Lists of blocks or hashes go as one
// array parameter (unnest / = ANY), never a statement per element. Results that SQLite returns in
// its primary key's order (its tables are WITHOUT ROWID) are ordered explicitly here. Each table
// group's statements are in a file of their own (pg-volumes.ts, pg-snapshots.ts, ...), parallel to
// SQLite's.
import type { Tag } from "../catalog-store.ts";
import type {
  BlockRef,
  ChunkRecord,
  Counters,
  ListScope,
  MetadataStore,
  SnapshotRecord,
  SnapshotStats,
  VolumeRecord,
  VolumeTracking,
} from "../metadata-store.ts";
import { PgAdvisoryLocks } from "./pg-advisory-locks.ts";
import * as chunkIndex from "./pg-chunk-index.ts";
import type { PgDatabase } from "./pg-database.ts";
import * as snapshotBlocks from "./pg-snapshot-blocks.ts";
import * as snapshotStats from "./pg-snapshot-stats.ts";
import * as snapshots from "./pg-snapshots.ts";
import * as volumes from "./pg-volumes.ts";

export interface PgMetadataStoreOptions {
  /** Connections kept for chunk locks (each holder of lockChunks uses one); default 16. */
  lockConnections?: number;
}

export class PgMetadataStore implements MetadataStore {
  readonly #db: PgDatabase;
  readonly #chunkLocks: PgAdvisoryLocks;

  constructor(db: PgDatabase, options: PgMetadataStoreOptions = {}) {
    this.#db = db;
    this.#chunkLocks = new PgAdvisoryLocks(
      { ...db.pool.options, max: options.lockConnections ?? 16 },
      "strata:chunk:",
    );
  }

  close(): void {
    void this.end();
  }

  /** Closes the lock connections and the database, once both are done. */
  async end(): Promise<void> {
    await Promise.allSettled([this.#chunkLocks.close(), this.#db.close()]);
  }

  // Volumes (pg-volumes.ts)

  insertVolume(v: VolumeRecord, tags: Tag[] = []): Promise<void> {
    return volumes.insertVolume(this.#db, v, tags);
  }

  getVolume(id: string): Promise<VolumeRecord | undefined> {
    return volumes.getVolume(this.#db, id);
  }

  listVolumes(ownerId?: string): Promise<VolumeRecord[]> {
    return volumes.listVolumes(this.#db, ownerId);
  }

  updateVolume(
    id: string,
    change: { sizeGiB: number; volumeType: string; iops?: number | null },
  ): Promise<void> {
    return volumes.updateVolume(this.#db, id, change);
  }

  deleteVolume(id: string): Promise<string[]> {
    return volumes.deleteVolume(this.#db, id);
  }

  adoptVolume(id: string, from: string | null, host: string): Promise<string[]> {
    return volumes.adoptVolume(this.#db, id, from, host);
  }

  volumeTracking(id: string): Promise<VolumeTracking> {
    return volumes.volumeTracking(this.#db, id);
  }

  hasRemoteBlocks(id: string): Promise<boolean> {
    return volumes.hasRemoteBlocks(this.#db, id);
  }

  hydrationCounts(id: string): Promise<{ mapped: number; remote: number }> {
    return volumes.hydrationCounts(this.#db, id);
  }

  remoteBlockHashes(id: string, fromBlock: number, toBlock: number): Promise<Map<number, string>> {
    return volumes.remoteBlockHashes(this.#db, id, fromBlock, toBlock);
  }

  markDirty(id: string, blocks: number[]): Promise<void> {
    return volumes.markDirty(this.#db, id, blocks);
  }

  markLocal(id: string, blocks: number[]): Promise<void> {
    return volumes.markLocal(this.#db, id, blocks);
  }

  // Snapshot records (pg-snapshots.ts)

  beginVolumeSnapshot(s: SnapshotRecord, tags: Tag[] = []): Promise<number[]> {
    return snapshots.beginVolumeSnapshot(this.#db, s, tags);
  }

  insertSnapshot(s: SnapshotRecord, tags: Tag[] = []): Promise<void> {
    return snapshots.insertSnapshot(this.#db, s, tags);
  }

  getSnapshot(id: string): Promise<SnapshotRecord | undefined> {
    return snapshots.getSnapshot(this.#db, id);
  }

  listSnapshots(): Promise<SnapshotRecord[]> {
    return snapshots.listSnapshots(this.#db);
  }

  snapshotsVisibleTo(accountId: string, scope: ListScope = {}): Promise<SnapshotRecord[]> {
    return snapshots.snapshotsVisibleTo(this.#db, accountId, scope);
  }

  pendingSnapshots(): Promise<SnapshotRecord[]> {
    return snapshots.pendingSnapshots(this.#db);
  }

  setSnapshotProgress(id: string, progress: number, add: Partial<Counters>): Promise<void> {
    return snapshots.setSnapshotProgress(this.#db, id, progress, add);
  }

  extendSnapshot(id: string, expiresAt: string): Promise<void> {
    return snapshots.extendSnapshot(this.#db, id, expiresAt);
  }

  expiredSnapshots(now: string): Promise<string[]> {
    return snapshots.expiredSnapshots(this.#db, now);
  }

  failSnapshot(id: string, message: string): Promise<string[]> {
    return snapshots.failSnapshot(this.#db, id, message);
  }

  deleteSnapshot(id: string): Promise<string[]> {
    return snapshots.deleteSnapshot(this.#db, id);
  }

  // Snapshot block maps and completion (pg-snapshot-blocks.ts)

  recordedBlocks(id: string): Promise<number[]> {
    return snapshotBlocks.recordedBlocks(this.#db, id);
  }

  forgetUnstoredBlocks(id: string, blocks?: number[]): Promise<number> {
    return snapshotBlocks.forgetUnstoredBlocks(this.#db, id, blocks);
  }

  snapshotBlocks(id: string, afterBlock: number, limit: number): Promise<BlockRef[]> {
    return snapshotBlocks.snapshotBlocks(this.#db, id, afterBlock, limit);
  }

  addSnapshotBlocks(id: string, refs: BlockRef[]): Promise<string[]> {
    return snapshotBlocks.addSnapshotBlocks(this.#db, id, refs);
  }

  recordedRefs(id: string): Promise<BlockRef[]> {
    return snapshotBlocks.recordedRefs(this.#db, id);
  }

  completeVolumeSnapshot(id: string): Promise<string[]> {
    return snapshotBlocks.completeVolumeSnapshot(this.#db, id);
  }

  completeCopiedSnapshot(id: string): Promise<void> {
    return snapshotBlocks.completeCopiedSnapshot(this.#db, id);
  }

  completeDirectSnapshot(id: string): Promise<void> {
    return snapshotBlocks.completeDirectSnapshot(this.#db, id);
  }

  // Space used (pg-snapshot-stats.ts)

  snapshotStats(id: string): Promise<SnapshotStats> {
    return snapshotStats.snapshotStats(this.#db, id);
  }

  ownerSnapshotStats(ownerId: string, ids: string[]): Promise<SnapshotStats> {
    return snapshotStats.ownerSnapshotStats(this.#db, ownerId, ids);
  }

  // Chunk index (pg-chunk-index.ts)

  liveChunks(hashes: string[]): Promise<Set<string>> {
    return chunkIndex.liveChunks(this.#db, hashes);
  }

  addChunks(chunks: ChunkRecord[]): Promise<void> {
    return chunkIndex.addChunks(this.#db, chunks);
  }

  dropUnreferencedChunks(candidates: string[]): Promise<string[]> {
    return chunkIndex.dropUnreferencedChunks(this.#db, candidates);
  }

  unreferencedChunks(): Promise<string[]> {
    return chunkIndex.unreferencedChunks(this.#db);
  }

  chunkTotals(): Promise<{ chunks: number; storedBytes: number }> {
    return chunkIndex.chunkTotals(this.#db);
  }

  lockChunks(hashes: Iterable<string>): Promise<() => void> {
    return this.#chunkLocks.acquire(hashes);
  }
}
