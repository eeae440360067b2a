import { StrataError } from "../../errors.ts";
import { newId } from "../../ids.ts";
import type { BlockStore } from "../../storage/chunks/block-store.ts";
import type { CatalogStore } from "../../storage/metadata/catalog-store.ts";
import type { MetadataStore, SnapshotRecord, SnapshotStats } from "../../storage/metadata/metadata-store.ts";
import { crashPoint } from "../../util/crash-points.ts";
import { releaseChunks } from "../chunks/chunk-references.ts";
import type { VolumeHandle } from "../volumes/volume-handle.ts";
import type { VolumeService } from "../volumes/volume-service.ts";
import { CopySnapshotJob } from "./copy-snapshot-job.ts";
import { SnapshotCancelled, type SnapshotJob } from "./snapshot-job.ts";
import { VolumeSnapshotJob } from "./volume-snapshot-job.ts";

/** One region's snapshots: create (incremental, point in time), copy in, delete, and their jobs. */
export class SnapshotService {
  readonly region: string;
  readonly meta: MetadataStore;
  readonly #catalog: CatalogStore;
  readonly blocks: BlockStore;
  readonly #volumes: VolumeService;
  readonly #jobs = new Map<string, { job: SnapshotJob; done: Promise<void> }>();
  // Snapshots being read by a copy into another region: deleting them must wait.
  readonly #readers = new Map<string, number>();
  #closing = false;

  constructor(
    region: string,
    meta: MetadataStore,
    catalog: CatalogStore,
    blocks: BlockStore,
    volumes: VolumeService,
  ) {
    this.region = region;
    this.meta = meta;
    this.#catalog = catalog;
    this.blocks = blocks;
    this.#volumes = volumes;
  }

  async create(volumeId: string, description = ""): Promise<SnapshotRecord> {
    return (await this.createMany([volumeId], description))[0];
  }

  /**
   * Snapshots of several volumes at one point in time (CreateSnapshots, CreateImage): writes to
   * all of them are held while every dirty set is frozen and every copy-on-write hook installed.
   */
  async createMany(volumeIds: string[], description = ""): Promise<SnapshotRecord[]> {
    const ids = [...new Set(volumeIds)].sort();
    return this.#volumes.withLifecycle(ids, () => this.#createMany(ids, volumeIds, description));
  }

  async #createMany(ids: string[], volumeIds: string[], description: string): Promise<SnapshotRecord[]> {
    const volumes = await Promise.all(ids.map((id) => this.#volumes.get(id)));
    const handles = await Promise.all(ids.map((id) => this.#volumes.handle(id)));
    const records: SnapshotRecord[] = volumes.map((volume) => ({
      ...blankSnapshot(newId("snap"), volume.ownerId, volume.sizeGiB, description),
      volumeId: volume.id,
      parentSnapshotId: volume.lastSnapshotId,
    }));
    const pauseAll = handles.reduceRight<() => Promise<void>>(
      (inner, handle) => () => handle.withWritesPaused(inner),
      async () => {
        // One pending snapshot per volume; checked inside the pause so concurrent calls cannot
        // both pass.
        const pending = new Set((await this.meta.pendingSnapshots()).map((s) => s.volumeId));
        const busy = ids.find((id) => pending.has(id));
        if (busy) {
          throw new StrataError(
            "SnapshotCreationPerVolumeRateExceeded",
            `Volume '${busy}' already has a snapshot in progress.`,
          );
        }
        for (const [k, record] of records.entries()) {
          // Read under the pause: a snapshot that completed meanwhile is the parent.
          record.parentSnapshotId = (await this.#volumes.get(record.volumeId!)).lastSnapshotId;
          await this.#begin(record, handles[k]);
        }
      },
    );
    await pauseAll();
    const byVolume = new Map(records.map((r) => [r.volumeId, r.id]));
    return Promise.all(volumeIds.map((v) => this.get(byVolume.get(v)!)));
  }

  async #begin(record: SnapshotRecord, handle: VolumeHandle): Promise<void> {
    const frozen = await this.meta.beginVolumeSnapshot(record);
    for (const b of frozen) handle.dirty.delete(b);
    const job = new VolumeSnapshotJob(record.id, handle, this.meta, this.blocks, frozen);
    handle.hook = job;
    this.#launch(job, async () => {
      handle.hook = null;
      for (const b of frozen) handle.dirty.add(b);
    });
  }

  /** Starts a copy of a completed snapshot of `source` (possibly another region) into this region. */
  async copyFrom(
    source: SnapshotService,
    sourceId: string,
    options: { ownerId?: string; description?: string } = {},
  ): Promise<SnapshotRecord> {
    const src = await source.get(sourceId);
    if (src.state !== "completed") {
      throw new StrataError(
        "IncorrectState",
        `Snapshot '${sourceId}' is ${src.state}; only completed snapshots can be copied.`,
      );
    }
    const record: SnapshotRecord = {
      ...blankSnapshot(
        newId("snap"),
        options.ownerId ?? src.ownerId,
        src.volumeSizeGiB,
        options.description ?? src.description,
      ),
      sourceRegion: source.region,
      sourceSnapshotId: sourceId,
    };
    await this.meta.insertSnapshot(record);
    this.#startCopy(source, record.id, sourceId);
    return this.get(record.id);
  }

  #startCopy(source: SnapshotService, id: string, sourceId: string): void {
    source.#retain(sourceId);
    const job = new CopySnapshotJob(id, sourceId, source, this);
    this.#launch(
      job,
      async () => {},
      () => source.#unretain(sourceId),
    );
  }

  #launch(job: SnapshotJob, onFailure: () => Promise<void>, finallyFn: () => void = () => {}): void {
    const done = job
      .run()
      .catch(async (e: Error) => {
        // Shutting down: leave it pending; the next start resumes it.
        if (e instanceof SnapshotCancelled && this.#closing) return;
        const message = e instanceof SnapshotCancelled ? "cancelled" : `snapshot failed: ${e.message}`;
        if (!(e instanceof SnapshotCancelled)) console.error(`${job.snapshotId}: ${message}`);
        await onFailure();
        await releaseChunks(this.meta, this.blocks, await this.meta.failSnapshot(job.snapshotId, message));
      })
      .catch((e: Error) => console.error(`${job.snapshotId}: cleanup failed: ${e.message}`))
      .finally(() => {
        this.#jobs.delete(job.snapshotId);
        finallyFn();
      });
    this.#jobs.set(job.snapshotId, { job, done });
  }

  #retain(id: string): void {
    this.#readers.set(id, (this.#readers.get(id) ?? 0) + 1);
  }

  #unretain(id: string): void {
    const n = (this.#readers.get(id) ?? 1) - 1;
    if (n === 0) this.#readers.delete(id);
    else this.#readers.set(id, n);
  }

  /** Resolves when the snapshot is no longer pending (completed or error). */
  async wait(id: string): Promise<SnapshotRecord> {
    await this.#jobs.get(id)?.done;
    return this.get(id);
  }

  async get(id: string): Promise<SnapshotRecord> {
    const s = await this.meta.getSnapshot(id);
    if (!s) throw new StrataError("InvalidSnapshot.NotFound", `The snapshot '${id}' does not exist.`);
    return s;
  }

  list(): Promise<SnapshotRecord[]> {
    return this.meta.listSnapshots();
  }

  async stats(id: string): Promise<SnapshotStats> {
    await this.get(id);
    return this.meta.snapshotStats(id);
  }

  async delete(id: string): Promise<void> {
    await this.get(id);
    const images = await this.#catalog.imagesUsingSnapshot(id);
    if (images.length > 0) {
      throw new StrataError(
        "InvalidSnapshot.InUse",
        `The snapshot ${id} is currently in use by ${images[0]}`,
      );
    }
    if (this.#readers.has(id)) {
      throw new StrataError(
        "InvalidSnapshot.InUse",
        `The snapshot '${id}' is being copied to another region.`,
      );
    }
    const running = this.#jobs.get(id);
    if (running) {
      running.job.cancel();
      await running.done;
    }
    const candidates = await this.meta.deleteSnapshot(id);
    crashPoint("snapshot.row-deleted");
    await releaseChunks(this.meta, this.blocks, candidates);
  }

  /**
   * After a restart: a pending volume snapshot resumes (blocks it had not stored are still
   * unchanged on the volume, since writes to them waited for copy-on-write); a pending copy
   * resumes if its source still exists, else it is marked error.
   */
  async resume(regions: Map<string, SnapshotService>): Promise<void> {
    for (const s of await this.meta.pendingSnapshots()) {
      await this.meta.forgetUnstoredBlocks(s.id);
      // Written block by block by an EBS client: it stays pending until completed or timed out.
      if (s.expiresAt !== null) continue;
      if (s.volumeId) {
        const handle = await this.#volumes.handle(s.volumeId);
        const tracking = await this.meta.volumeTracking(s.volumeId);
        const frozen = tracking.frozen?.snapshotId === s.id ? tracking.frozen.blocks : [];
        const recorded = await this.meta.recordedBlocks(s.id);
        const job = new VolumeSnapshotJob(s.id, handle, this.meta, this.blocks, frozen, recorded);
        handle.hook = job;
        this.#launch(job, async () => {
          handle.hook = null;
          for (const b of frozen) handle.dirty.add(b);
        });
        continue;
      }
      const source = s.sourceRegion ? regions.get(s.sourceRegion) : undefined;
      const src =
        source && s.sourceSnapshotId ? await source.meta.getSnapshot(s.sourceSnapshotId) : undefined;
      if (source && src?.state === "completed") {
        this.#startCopy(source, s.id, src.id);
      } else {
        await releaseChunks(
          this.meta,
          this.blocks,
          await this.meta.failSnapshot(s.id, "source snapshot is gone"),
        );
      }
    }
  }

  /** Lets running jobs stop at their next batch (a restart resumes them). */
  async close(): Promise<void> {
    this.#closing = true;
    const running = [...this.#jobs.values()];
    for (const r of running) r.job.cancel();
    await Promise.allSettled(running.map((r) => r.done));
  }
}

function blankSnapshot(
  id: string,
  ownerId: string,
  volumeSizeGiB: number,
  description: string,
): SnapshotRecord {
  return {
    id,
    ownerId,
    volumeId: null,
    volumeSizeGiB,
    state: "pending",
    progress: 0,
    parentSnapshotId: null,
    sourceRegion: null,
    sourceSnapshotId: null,
    description,
    startedAt: new Date().toISOString(),
    completedAt: null,
    stateMessage: null,
    blocksRead: 0,
    bytesStored: 0,
    bytesTransferred: 0,
    expiresAt: null,
    timeoutMinutes: null,
  };
}
