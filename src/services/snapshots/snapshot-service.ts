import { StrataError } from "../../errors.ts";
import { newId } from "../../ids.ts";
import type { BlockStore } from "../../storage/chunks/block-store.ts";
import type { CatalogStore, Tag } from "../../storage/metadata/catalog-store.ts";
import type {
  ListScope,
  MetadataStore,
  SnapshotRecord,
  SnapshotStats,
} from "../../storage/metadata/metadata-store.ts";
import { crashPoint } from "../../util/crash-points.ts";
import { KeyedLock } from "../../util/keyed-lock.ts";
import { checkId, notFound } from "../access/resource-ids.ts";
import type { Sharing } from "../access/sharing.ts";
import { releaseChunks } from "../chunks/chunk-references.ts";
import { RegionQuotas } from "../quotas/region-quotas.ts";
import { validateTags } from "../tags/tag-rules.ts";
import type { VolumeHandle } from "../volumes/volume-handle.ts";
import type { VolumeService } from "../volumes/volume-service.ts";
import { CopySnapshotJob } from "./copy-snapshot-job.ts";
import { INTERNAL_OWNER, internalDone } from "./internal-snapshots.ts";
import { SnapshotJobs } from "./snapshot-jobs.ts";
import { blankSnapshot, checkDescription } from "./snapshot-records.ts";
import { VolumeSnapshotJob } from "./volume-snapshot-job.ts";

// Other modules import the description check from here.
export { checkDescription };

/** One region's snapshots: create (incremental, point in time), copy in, delete, and their jobs. */
export class SnapshotService {
  readonly region: string;
  readonly meta: MetadataStore;
  readonly #catalog: CatalogStore;
  readonly blocks: BlockStore;
  readonly #volumes: VolumeService;
  readonly #jobs: SnapshotJobs;
  readonly #sharing: Sharing;
  readonly #quotas: RegionQuotas;
  /** Per volume: one engine-internal snapshot at a time, start to clean-up (internal-snapshots.ts). */
  readonly internalSnapshots = new KeyedLock<string>();

  constructor(
    region: string,
    meta: MetadataStore,
    catalog: CatalogStore,
    blocks: BlockStore,
    volumes: VolumeService,
    sharing: Sharing,
    quotas = RegionQuotas.none(region),
  ) {
    this.#quotas = quotas;
    this.#sharing = sharing;
    this.region = region;
    this.meta = meta;
    this.#catalog = catalog;
    this.blocks = blocks;
    this.#volumes = volumes;
    this.#jobs = new SnapshotJobs(meta, blocks);
  }

  async create(volumeId: string, description = "", tags: Tag[] = []): Promise<SnapshotRecord> {
    return (await this.createMany([volumeId], description, tags))[0];
  }

  /** CreateSnapshot for an account: of its own volume, owned by it. */
  async createOwned(
    accountId: string,
    volumeId: string,
    description = "",
    tags: Tag[] = [],
  ): Promise<SnapshotRecord> {
    await this.#volumes.owned(accountId, volumeId);
    return this.create(volumeId, description, tags);
  }

  /**
   * Starts an engine-internal snapshot of a volume (see internal-snapshots.ts), owned by no
   * account; a checkpoint or a move waits for it there.
   */
  startInternal(volumeId: string, description: string): Promise<SnapshotRecord[]> {
    return this.#volumes.withLifecycle([volumeId], () =>
      this.#createMany([volumeId], [volumeId], description, () => [], undefined, INTERNAL_OWNER),
    );
  }

  /**
   * Snapshots of several volumes at one point in time (CreateSnapshots, CreateImage): writes to
   * all of them are held while every dirty set is frozen and every copy-on-write hook installed.
   * Each snapshot gets `tags` (or its volume's entry in a map) in the transaction that creates it,
   * and the id given for its volume in `snapshotIds` (CreateImage names them beforehand).
   */
  async createMany(
    volumeIds: string[],
    description = "",
    tags: Tag[] | Map<string, Tag[]> = [],
    snapshotIds?: Map<string, string>,
  ): Promise<SnapshotRecord[]> {
    checkDescription(description);
    for (const t of tags instanceof Map ? tags.values() : [tags]) validateTags(t);
    const ids = [...new Set(volumeIds)].sort();
    const tagsOf = (volumeId: string) => (tags instanceof Map ? (tags.get(volumeId) ?? []) : tags);
    // Each snapshot is its volume's owner's; the quota lock is taken before the lifecycle locks.
    const owners = (await Promise.all(ids.map((id) => this.#volumes.get(id)))).map((v) => v.ownerId);
    const create = () =>
      this.#volumes.withLifecycle(ids, async () => {
        // A checkpoint (engine-internal) under way is waited for, never an account's error; none
        // can start meanwhile (it takes these lifecycle locks).
        await internalDone(this.meta, ids);
        return this.#createMany(ids, volumeIds, description, tagsOf, snapshotIds);
      });
    return [...new Set(owners)].reduceRight<() => Promise<SnapshotRecord[]>>(
      (inner, owner) => () =>
        this.#quotas.reserve(owner, { snapshots: owners.filter((o) => o === owner).length }, inner),
      create,
    )();
  }

  async #createMany(
    ids: string[],
    volumeIds: string[],
    description: string,
    tagsOf: (volumeId: string) => Tag[],
    snapshotIds?: Map<string, string>,
    owner?: string,
  ): Promise<SnapshotRecord[]> {
    const volumes = await Promise.all(ids.map((id) => this.#volumes.get(id)));
    const handles = await Promise.all(ids.map((id) => this.#volumes.handle(id)));
    const records: SnapshotRecord[] = volumes.map((volume) => ({
      ...blankSnapshot(
        snapshotIds?.get(volume.id) ?? newId("snap"),
        owner ?? volume.ownerId,
        volume.sizeGiB,
        description,
      ),
      volumeId: volume.id,
      parentSnapshotId: volume.lastSnapshotId,
      host: this.#volumes.hostId,
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
          await this.#begin(record, handles[k], tagsOf(record.volumeId!));
        }
      },
    );
    await pauseAll();
    const byVolume = new Map(records.map((r) => [r.volumeId, r.id]));
    return Promise.all(volumeIds.map((v) => this.get(byVolume.get(v)!)));
  }

  async #begin(record: SnapshotRecord, handle: VolumeHandle, tags: Tag[]): Promise<void> {
    const frozen = await this.meta.beginVolumeSnapshot(record, tags);
    for (const b of frozen) handle.dirty.delete(b);
    const job = new VolumeSnapshotJob(record.id, handle, this.meta, this.blocks, frozen);
    handle.hook = job;
    this.#jobs.launch(job, async () => {
      handle.hook = null;
      for (const b of frozen) handle.dirty.add(b);
    });
  }

  /**
   * Starts a copy of a completed snapshot of `source` (possibly another region) into this region.
   * With an owner, the copy is that account's and the source must be one it may read (its own,
   * shared with it, or public); without, an engine-internal copy keeps the source's owner.
   */
  async copyFrom(
    source: SnapshotService,
    sourceId: string,
    options: { ownerId?: string; description?: string; tags?: Tag[]; id?: string } = {},
  ): Promise<SnapshotRecord> {
    const src =
      options.ownerId === undefined
        ? await source.get(sourceId)
        : await source.visible(options.ownerId, sourceId);
    if (options.description !== undefined) checkDescription(options.description);
    validateTags(options.tags ?? []);
    if (src.state !== "completed") {
      throw new StrataError(
        "IncorrectState",
        `Snapshot '${sourceId}' is ${src.state}; only completed snapshots can be copied.`,
      );
    }
    const record: SnapshotRecord = {
      ...blankSnapshot(
        options.id ?? newId("snap"),
        options.ownerId ?? src.ownerId,
        src.volumeSizeGiB,
        options.description ?? src.description,
      ),
      sourceRegion: source.region,
      sourceSnapshotId: sourceId,
      host: this.#volumes.hostId,
    };
    await this.#quotas.reserve(record.ownerId, { snapshots: 1 }, () =>
      this.meta.insertSnapshot(record, options.tags),
    );
    this.#startCopy(source, record.id, sourceId);
    return this.get(record.id);
  }

  #startCopy(source: SnapshotService, id: string, sourceId: string): void {
    source.#jobs.retain(sourceId);
    const job = new CopySnapshotJob(id, sourceId, source, this);
    this.#jobs.launch(
      job,
      async () => {},
      () => source.#jobs.unretain(sourceId),
    );
  }

  /** Resolves when the snapshot is no longer pending (completed or error). */
  async wait(id: string): Promise<SnapshotRecord> {
    await this.#jobs.running(id)?.done;
    return this.get(id);
  }

  async get(id: string): Promise<SnapshotRecord> {
    const s = await this.meta.getSnapshot(id);
    if (!s) throw notFound("snapshot", id);
    return s;
  }

  /** A snapshot the account may read (own, shared with it, public); others do not exist for it. */
  async visible(accountId: string, id: string): Promise<SnapshotRecord> {
    const s = await this.meta.getSnapshot(checkId("snapshot", id));
    if (!s || !(await this.#sharing.mayUse(s, accountId))) throw notFound("snapshot", id);
    return s;
  }

  /** A snapshot the account owns (changes); a shared one it may only read. */
  async owned(accountId: string, id: string): Promise<SnapshotRecord> {
    const s = await this.visible(accountId, id);
    if (s.ownerId !== accountId) {
      throw new StrataError("UnauthorizedOperation", `You are not authorized to modify snapshot ${id}`);
    }
    return s;
  }

  list(): Promise<SnapshotRecord[]> {
    return this.meta.listSnapshots();
  }

  /** The snapshots an account may read, narrowed by the scope (one indexed query). */
  listVisible(accountId: string, scope?: ListScope): Promise<SnapshotRecord[]> {
    return this.meta.snapshotsVisibleTo(accountId, scope);
  }

  /** RestorableByUserIds, as far as the caller may know (see Sharing.usableBy). */
  restorableBy(s: SnapshotRecord, user: string, callerId: string): Promise<boolean> {
    return this.#sharing.usableBy(s, user, callerId, true);
  }

  /** createVolumePermission, for the owner's eyes only. */
  async grantees(accountId: string, id: string): Promise<string[]> {
    return this.#sharing.grantees(await this.owned(accountId, id));
  }

  async share(accountId: string, id: string, add: string[], remove: string[]): Promise<void> {
    await this.#sharing.change(await this.owned(accountId, id), add, remove);
  }

  async resetSharing(accountId: string, id: string): Promise<void> {
    await this.#sharing.reset(await this.owned(accountId, id));
  }

  /** DeleteSnapshot for an account: its own snapshots only. */
  async deleteOwned(accountId: string, id: string): Promise<void> {
    await this.owned(accountId, id);
    await this.delete(id);
  }

  /**
   * DescribeStorageUsage of the account's snapshots: only the owner may ask (a shared or foreign
   * snapshot is answered as unknown, since its usage would tell what its owner stores).
   */
  async usage(accountId: string, id: string): Promise<SnapshotStats> {
    const s = await this.meta.getSnapshot(checkId("snapshot", id));
    if (!s || s.ownerId !== accountId) throw notFound("snapshot", id);
    return this.meta.ownerSnapshotStats(accountId, [id]);
  }

  /** Usage of a set of the account's snapshots taken together (an image's). */
  usageOf(accountId: string, ids: string[]): Promise<SnapshotStats> {
    return this.meta.ownerSnapshotStats(accountId, ids);
  }

  async stats(id: string): Promise<SnapshotStats> {
    await this.get(id);
    return this.meta.snapshotStats(id);
  }

  async delete(id: string): Promise<void> {
    const snap = await this.get(id);
    // Only the owner's images pin its snapshot (the same rule holds in the store's transaction).
    const images = await this.#catalog.imagesUsingSnapshot(id, snap.ownerId);
    if (images.length > 0) {
      throw new StrataError(
        "InvalidSnapshot.InUse",
        `The snapshot ${id} is currently in use by ${images[0]}`,
      );
    }
    if (this.#jobs.isRead(id)) {
      throw new StrataError(
        "InvalidSnapshot.InUse",
        `The snapshot '${id}' is being copied to another region.`,
      );
    }
    const running = this.#jobs.running(id);
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
  async resume(regions: Map<string, SnapshotService>, claimAll: boolean): Promise<void> {
    for (const s of await this.meta.pendingSnapshots()) {
      // Another host's job (its volume's files are there; a copy runs once): that host resumes it.
      if (!claimAll && s.expiresAt === null && (s.host ?? null) !== this.#volumes.hostId) continue;
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
        this.#jobs.launch(job, async () => {
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

  /** A lost host's pending jobs (a volume's or a copy's) end in error, as its host took them along. */
  async failJobsOf(hostId: string): Promise<void> {
    for (const s of await this.meta.pendingSnapshots()) {
      if (s.host !== hostId || s.expiresAt !== null) continue;
      const message = `its Strata host ${hostId} stopped answering`;
      await releaseChunks(this.meta, this.blocks, await this.meta.failSnapshot(s.id, message));
    }
  }

  /** Lets running jobs stop at their next batch (a restart resumes them). */
  close(): Promise<void> {
    return this.#jobs.close();
  }
}
