import type { BlockStore } from "../../storage/chunks/block-store.ts";
import type { EncodeResult } from "../../storage/chunks/codec-worker.ts";
import type { MetadataStore } from "../../storage/metadata/metadata-store.ts";
import { Bitset } from "../../util/bitset.ts";
import { type Deferred, deferred, mapConcurrent } from "../../util/concurrency.ts";
import { crashPoint } from "../../util/crash-points.ts";
import { recordBlocks, releaseChunks } from "../chunks/chunk-references.ts";
import type { VolumeHandle, WriteHook } from "../volumes/volume-handle.ts";
import { progressPercent, SnapshotCancelled, type SnapshotJob } from "./snapshot-job.ts";

const BATCH = 32;
const LANES = 3;
const READS_PER_BATCH = 8;

/**
 * Captures the blocks a volume snapshot froze (those changed since the previous snapshot).
 * Point in time: a write to a frozen block not yet captured first waits for that block's old
 * content to be stored (copy-on-write), so the snapshot holds exactly what the volume held when
 * it began. Unchanged blocks are never read: completion takes them from the previous map.
 */
export class VolumeSnapshotJob implements SnapshotJob, WriteHook {
  readonly snapshotId: string;
  readonly #volume: VolumeHandle;
  readonly #meta: MetadataStore;
  readonly #blocks: BlockStore;
  readonly #pending: Bitset;
  readonly #inflight = new Map<number, Promise<void>>();
  readonly #total: number;
  #done = 0;
  #cancelled = false;
  // Why the snapshot can no longer complete (a block's capture failed): it ends in error.
  #failure: unknown = null;

  constructor(
    snapshotId: string,
    volume: VolumeHandle,
    meta: MetadataStore,
    store: BlockStore,
    frozen: number[],
    alreadyRecorded: Iterable<number> = [],
  ) {
    this.snapshotId = snapshotId;
    this.#volume = volume;
    this.#meta = meta;
    this.#blocks = store;
    this.#pending = new Bitset(volume.blocks);
    for (const b of frozen) this.#pending.add(b);
    this.#total = this.#pending.count;
    for (const b of alreadyRecorded) if (this.#pending.delete(b)) this.#done++;
  }

  cancel(): void {
    this.#cancelled = true;
  }

  async beforeWrite(block: number): Promise<void> {
    if (!this.#pending.has(block) || this.#failure) return;
    try {
      const inflight = this.#inflight.get(block);
      if (inflight) return await inflight;
      const data = await this.#volume.readForCapture(block);
      // A guest write waits on this (under its block lock): no waiting for a fuller pack.
      const stored = this.#storeItems([{ block, data }], { prompt: true });
      this.#inflight.set(block, stored);
      await stored;
    } catch (e) {
      // The old content could not be kept (the block store is full, say): the snapshot fails and
      // the write goes on, as on EBS, where a failing snapshot never fails the volume's writes.
      // The block stays in flight (rejected), so no lane can capture its new content.
      this.#fail(e);
    }
  }

  #fail(e: unknown): void {
    this.#failure ??= e;
    this.#cancelled = true;
  }

  async run(): Promise<void> {
    const order = [...this.#pending];
    let next = 0;
    const lane = async () => {
      while (next < order.length) {
        if (this.#cancelled) throw this.#failure ?? new SnapshotCancelled(this.snapshotId);
        const batch = order.slice(next, next + BATCH);
        next += BATCH;
        await this.#captureBatch(batch);
      }
    };
    // Every lane stops before the job reports failure: none may still be storing blocks while
    // the snapshot is being failed or deleted.
    const stopOthers = (e: unknown) => {
      this.#fail(e);
      throw e;
    };
    const settled = await Promise.allSettled(Array.from({ length: LANES }, () => lane().catch(stopOthers)));
    if (this.#failure) throw this.#failure;
    const failed = settled.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    if (this.#cancelled) throw new SnapshotCancelled(this.snapshotId);
    await Promise.all(this.#inflight.values());
    crashPoint("snapshot.before-complete");
    const replaced = await this.#meta.completeVolumeSnapshot(this.snapshotId);
    crashPoint("snapshot.completed");
    await releaseChunks(this.#meta, this.#blocks, replaced);
  }

  async #captureBatch(blocks: number[]): Promise<void> {
    const items: { block: number; data: Buffer; done: Deferred<void> }[] = [];
    try {
      await mapConcurrent(blocks, READS_PER_BATCH, async (block) => {
        const release = await this.#volume.locks.acquire(block);
        try {
          if (!this.#pending.has(block) || this.#inflight.has(block)) return;
          const data = await this.#volume.readForCapture(block);
          const done = deferred();
          this.#inflight.set(block, done.promise);
          items.push({ block, data, done });
        } finally {
          release();
        }
      });
      if (items.length === 0) return;
      await this.#storeItems(items);
      for (const it of items) it.done.resolve();
    } catch (e) {
      // Also when a read failed: a write waiting on a block read before it must not wait forever.
      for (const it of items) it.done.reject(e);
      throw e;
    }
  }

  async #storeItems(items: { block: number; data: Buffer }[], o: { prompt?: boolean } = {}): Promise<void> {
    const encoded: EncodeResult[] = await Promise.all(items.map((it) => this.#blocks.encode(it.data)));
    const refs = items.map((it, k) => ({ block: it.block, hash: encoded[k].zero ? null : encoded[k].hash }));
    const byHash = new Map(encoded.filter((e) => !e.zero).map((e) => [e.hash, e.encoded as Uint8Array]));
    const stored = await recordBlocks(
      this.#meta,
      this.#blocks,
      this.snapshotId,
      refs,
      async (h) => byHash.get(h)!,
      o,
    );
    for (const it of items) {
      this.#pending.delete(it.block);
      this.#inflight.delete(it.block);
    }
    this.#done += items.length;
    await this.#meta.setSnapshotProgress(this.snapshotId, progressPercent(this.#done, this.#total), {
      blocksRead: items.length,
      bytesStored: stored,
    });
  }
}
