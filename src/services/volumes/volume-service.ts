import { join } from "node:path";
import { StrataError } from "../../errors.ts";
import { newId } from "../../ids.ts";
import { MAX_VOLUME_GIB, MIN_VOLUME_GIB } from "../../storage/blocks.ts";
import type { BlockStore } from "../../storage/chunks/block-store.ts";
import type { Tag } from "../../storage/metadata/catalog-store.ts";
import type { MetadataStore, VolumeRecord } from "../../storage/metadata/metadata-store.ts";
import type { DescriptorPool } from "../../storage/volume-files/descriptor-pool.ts";
import { VolumeFile } from "../../storage/volume-files/volume-file.ts";
import { crashPoint } from "../../util/crash-points.ts";
import { checkId, notFound } from "../access/resource-ids.ts";
import type { Sharing } from "../access/sharing.ts";
import { releaseChunks } from "../chunks/chunk-references.ts";
import type { HostRegistry } from "../hosts/host-registry.ts";
import { OnAnotherHost } from "../hosts/on-another-host.ts";
import type { RegionQuotas } from "../quotas/region-quotas.ts";
import { provisionedIops, volumeChange } from "../quotas/volume-requests.ts";
import { internalDone } from "../snapshots/internal-snapshots.ts";
import { validateTags } from "../tags/tag-rules.ts";
import { Hydrator } from "./hydrator.ts";
import { VolumeHandle } from "./volume-handle.ts";
import * as volumeHosts from "./volume-hosts.ts";
import { type CreateVolumeInput, checkAvailabilityZone, VOLUME_TYPES } from "./volume-input.ts";

// Other modules import these from here.
export { type CreateVolumeInput, checkAvailabilityZone, VOLUME_TYPES };

/** One region's volumes: creation (empty or lazily restored), open handles, deletion. */
export class VolumeService {
  readonly #region: string;
  readonly #meta: MetadataStore;
  readonly #blocks: BlockStore;
  readonly #dir: string;
  readonly #descriptors: DescriptorPool;
  readonly #handles = new Map<string, Promise<VolumeHandle>>();
  readonly #hydrators = new Map<string, Hydrator>();
  readonly #backgroundHydration: boolean;
  readonly #sharing: Sharing;
  readonly #quotas: RegionQuotas;
  readonly #hosts: HostRegistry;
  readonly #onHosts: volumeHosts.VolumeHostDeps;

  constructor(
    region: string,
    meta: MetadataStore,
    blocks: BlockStore,
    dir: string,
    descriptors: DescriptorPool,
    sharing: Sharing,
    backgroundHydration = true,
    quotas: RegionQuotas,
    hosts: HostRegistry,
  ) {
    this.#hosts = hosts;
    this.#descriptors = descriptors;
    this.#quotas = quotas;
    this.#sharing = sharing;
    this.#backgroundHydration = backgroundHydration;
    this.#region = region;
    this.#meta = meta;
    this.#blocks = blocks;
    this.#dir = dir;
    this.#onHosts = {
      region,
      meta,
      blocks,
      dir,
      descriptors,
      hosts,
      volumeDir: (id) => this.#volumeDir(id),
      get: (id) => this.get(id),
      handle: (id) => this.handle(id),
      withLifecycle: (ids, fn) => this.withLifecycle(ids, fn),
      closeHandle: (id) => this.#closeHandle(id),
    };
  }

  async create(input: CreateVolumeInput): Promise<VolumeRecord> {
    let size = input.sizeGiB;
    if (input.volumeType !== undefined && !VOLUME_TYPES.includes(input.volumeType)) {
      throw new StrataError("InvalidParameterValue", `Invalid value '${input.volumeType}' for VolumeType`);
    }
    if (input.availabilityZone !== undefined) checkAvailabilityZone(this.#region, input.availabilityZone);
    validateTags(input.tags ?? []);
    const availabilityZone = input.availabilityZone ?? this.#hosts.zone ?? `${this.#region}a`;
    if (input.snapshotId !== undefined) {
      const snap = await this.#meta.getSnapshot(input.snapshotId);
      const allowed =
        snap &&
        (input.ownerId === undefined ||
          input.grantedByImage ||
          (await this.#sharing.mayUse(snap, input.ownerId)));
      if (!snap || !allowed) throw notFound("snapshot", input.snapshotId);
      if (snap.state !== "completed") {
        throw new StrataError("IncorrectState", `Snapshot '${snap.id}' is ${snap.state}, not completed.`);
      }
      size ??= snap.volumeSizeGiB;
      if (size < snap.volumeSizeGiB) {
        throw new StrataError(
          "InvalidParameterValue",
          `Volume of ${size}GiB is too small; minimum is ${snap.volumeSizeGiB}GiB (the snapshot's size).`,
        );
      }
    }
    if (size === undefined)
      throw new StrataError("MissingParameter", "The request must contain the parameter size/snapshotId");
    if (!Number.isInteger(size) || size < MIN_VOLUME_GIB || size > MAX_VOLUME_GIB) {
      throw new StrataError(
        "InvalidParameterValue",
        `Volume size ${size} is out of range: it must be an integer from ${MIN_VOLUME_GIB} to ${MAX_VOLUME_GIB} GiB.`,
      );
    }
    const volumeType = input.volumeType ?? "gp3";
    const record: VolumeRecord = {
      id: newId("vol"),
      ownerId: input.ownerId ?? "",
      sizeGiB: size,
      // Available at once even when restored: blocks not yet copied are fetched on first read.
      state: "available",
      availabilityZone,
      volumeType,
      sourceSnapshotId: input.snapshotId ?? null,
      lastSnapshotId: input.snapshotId ?? null,
      createdAt: new Date().toISOString(),
      iops: provisionedIops(volumeType, input.iops),
      host: this.#hosts.id,
    };
    // Its data lives on a host of its zone: this one, or the call goes to one (before any change).
    const where = await this.#hosts.placeVolume(availabilityZone);
    if (where !== "here") throw new OnAnotherHost(`A host of ${availabilityZone}`, where.id, where.url);
    const request = { volumes: [{ volumeType, sizeGiB: size, iops: record.iops }] };
    return this.#quotas.reserve(input.ownerId, request, () => this.#insert(record, input.tags));
  }

  async #insert(record: VolumeRecord, tags: Tag[] | undefined): Promise<VolumeRecord> {
    const size = record.sizeGiB;
    // The file first: a crash before the row leaves only a directory that start-up removes.
    await VolumeFile.create(this.#descriptors, this.#volumeDir(record.id), size);
    try {
      await this.#meta.insertVolume(record, tags);
    } catch (e) {
      await VolumeFile.remove(this.#descriptors, this.#volumeDir(record.id));
      throw e;
    }
    // A restored volume starts hydrating at once; an empty one is opened on first use.
    if (record.sourceSnapshotId) await this.handle(record.id);
    return record;
  }

  /** Whether the volume was written since its last snapshot began (blocks only on this host's disk). */
  async written(id: string): Promise<boolean> {
    const t = await this.#meta.volumeTracking(id);
    return t.dirty.length > 0;
  }

  /** The host this service's volumes live on (its jobs record it). */
  get hostId(): string {
    return this.#hosts.id;
  }

  async get(id: string): Promise<VolumeRecord> {
    const v = await this.#meta.getVolume(id);
    if (!v) throw notFound("volume", id);
    return v;
  }

  /** The account's volume; another account's is answered as one that does not exist. */
  async owned(accountId: string, id: string): Promise<VolumeRecord> {
    const v = await this.#meta.getVolume(checkId("volume", id));
    if (!v || v.ownerId !== accountId) throw notFound("volume", id);
    return v;
  }

  list(): Promise<VolumeRecord[]> {
    return this.#meta.listVolumes();
  }

  listOwned(accountId: string): Promise<VolumeRecord[]> {
    return this.#meta.listVolumes(accountId);
  }

  /** A Describe call's volumes: those it names (each the account's own), else all the account's. */
  described(accountId: string, ids: string[] | undefined): Promise<VolumeRecord[]> {
    return ids?.length ? Promise.all(ids.map((id) => this.owned(accountId, id))) : this.listOwned(accountId);
  }

  /** DeleteVolume for an account: its own volumes only. */
  async deleteOwned(accountId: string, id: string): Promise<void> {
    await this.owned(accountId, id);
    await this.delete(id);
  }

  /** ModifyVolume for an account: its own volumes only. */
  async modifyOwned(
    accountId: string,
    id: string,
    change: { sizeGiB?: number; volumeType?: string; iops?: number },
  ): Promise<VolumeRecord> {
    await this.owned(accountId, id);
    return this.modify(id, change);
  }

  /** The open handle through which all I/O on the volume goes. */
  handle(id: string): Promise<VolumeHandle> {
    let h = this.#handles.get(id);
    if (!h) {
      // Cached before the first await: two callers opening the volume at once must share one
      // handle (two would each track only their own writes: a block written through one read as
      // zeros through the other and was missing from its next snapshot).
      const opening = this.#openLocal(id);
      h = opening;
      this.#handles.set(id, opening);
      opening.catch(() => {
        if (this.#handles.get(id) === opening) this.#handles.delete(id);
      });
    }
    return h;
  }

  async #openLocal(id: string): Promise<VolumeHandle> {
    // Its files are on its host's disk: never made (empty) here.
    const record = await this.#local(await this.get(id));
    await volumeHosts.arrived(this.#onHosts, record);
    return this.#open(record, VolumeFile.open(this.#descriptors, this.#volumeDir(id), record.sizeGiB));
  }

  hydrator(id: string): Hydrator | undefined {
    return this.#hydrators.get(id);
  }

  /**
   * DescribeVolumeStatus's initialization of a volume restored from a snapshot: the percentage of
   * its restored blocks already local, and an estimate of the time left. Null for other volumes.
   */
  async initialization(record: VolumeRecord): Promise<{ progress: number; secondsLeft?: number } | null> {
    if (!record.sourceSnapshotId) return null;
    // Another host's volume: how far its hydration is, from the database (its estimate of the time
    // left only that host knows).
    if (record.host && record.host !== this.#hosts.id) {
      const { mapped, remote } = await this.#meta.hydrationCounts(record.id);
      return { progress: percentDone(mapped, remote), ...(remote ? {} : { secondsLeft: 0 }) };
    }
    // A closed volume with no remote blocks is hydrated; one with some is opened (as at start-up).
    if (!this.#handles.has(record.id) && !(await this.#meta.hasRemoteBlocks(record.id))) {
      return { progress: 100, secondsLeft: 0 };
    }
    const { total, remaining } = (await this.handle(record.id)).hydration;
    const progress = percentDone(total, remaining);
    return {
      progress,
      secondsLeft: this.#hydrators.get(record.id)?.secondsLeft ?? (remaining ? undefined : 0),
    };
  }

  async #open(record: VolumeRecord, file: VolumeFile): Promise<VolumeHandle> {
    const tracking = await this.#meta.volumeTracking(record.id);
    const handle = new VolumeHandle(record, file, this.#meta, this.#blocks, tracking);
    if (handle.remote.count > 0 && this.#backgroundHydration) {
      const h = new Hydrator(handle);
      this.#hydrators.set(record.id, h);
      h.start();
    }
    return handle;
  }

  /**
   * ModifyVolume: grow and/or change the recorded type. Growing reopens the volume's files.
   * Changes of one volume run one at a time, each computed from the record as it is then: two
   * concurrent calls can neither under-count the quota nor undo each other.
   */
  async modify(
    id: string,
    change: { sizeGiB?: number; volumeType?: string; iops?: number },
  ): Promise<VolumeRecord> {
    if (change.volumeType !== undefined && !VOLUME_TYPES.includes(change.volumeType)) {
      throw new StrataError("InvalidParameterValue", `Invalid value '${change.volumeType}' for VolumeType`);
    }
    await this.#local(await this.get(id));
    return this.#quotas.locks.withLocks([`volume-modify:${this.#region}:${id}`], async () => {
      const v = await this.get(id);
      const sizeGiB = change.sizeGiB ?? v.sizeGiB;
      if (!Number.isInteger(sizeGiB) || sizeGiB < v.sizeGiB || sizeGiB > MAX_VOLUME_GIB) {
        throw new StrataError(
          "InvalidParameterValue",
          `Volume size ${sizeGiB} is invalid: it can only grow, up to ${MAX_VOLUME_GIB} GiB (now ${v.sizeGiB}).`,
        );
      }
      const volumeType = change.volumeType ?? v.volumeType;
      // EBS: the IOPS stay unless changed, or the type changes (then the default).
      const iops = provisionedIops(volumeType, change.iops ?? (volumeType === v.volumeType ? v.iops : null));
      const growth = volumeChange(v, { volumeType, sizeGiB, iops });
      // Lock order: this volume's modify lock, the account's quota lock, the lifecycle lock.
      return this.#quotas.reserve(v.ownerId, { volumes: growth }, () =>
        this.#modify(v, sizeGiB, volumeType, iops),
      );
    });
  }

  async #modify(
    v: VolumeRecord,
    sizeGiB: number,
    volumeType: string,
    iops: number | null,
  ): Promise<VolumeRecord> {
    const id = v.id;
    return this.withLifecycle([id], async () => {
      if (sizeGiB !== v.sizeGiB) {
        await this.#assertNoPendingSnapshot(id);
        await VolumeFile.grow(this.#volumeDir(id), sizeGiB);
      }
      await this.#meta.updateVolume(id, { sizeGiB, volumeType, iops });
      // Reopened at the new size on next use (after in-flight I/O on the old handle drains).
      if (sizeGiB !== v.sizeGiB) await this.#closeHandle(id);
      return this.get(id);
    });
  }

  /**
   * Runs fn with the volumes' lifecycle locks held (no delete, grow or snapshot start meanwhile).
   * Like ModifyVolume's lock, a region lock: it holds across hosts sharing the region's database.
   */
  async withLifecycle<T>(ids: string[], fn: () => Promise<T>): Promise<T> {
    return this.#quotas.locks.withLocks(
      ids.map((id) => `volume-lifecycle:${this.#region}:${id}`),
      fn,
    );
  }

  /**
   * Refuses while an account's snapshot of the volume is pending; a checkpoint (engine-internal)
   * is waited for instead, and none starts meanwhile (the caller holds the lifecycle lock).
   */
  async #assertNoPendingSnapshot(id: string): Promise<void> {
    await internalDone(this.#meta, [id]);
    const pending = (await this.#meta.pendingSnapshots()).find((s) => s.volumeId === id);
    if (pending) {
      throw new StrataError("VolumeInUse", `Volume '${id}' has a pending snapshot (${pending.id}).`);
    }
  }

  async delete(id: string): Promise<void> {
    const v = await this.#local(await this.get(id));
    if (v.attachment) {
      throw new StrataError(
        "VolumeInUse",
        `Volume ${id} is currently attached to ${v.attachment.instanceId}`,
      );
    }
    await this.withLifecycle([id], async () => {
      await this.#assertNoPendingSnapshot(id);
      await this.#closeHandle(id);
      const candidates = await this.#meta.deleteVolume(id);
      crashPoint("volume.row-deleted");
      await VolumeFile.remove(this.#descriptors, this.#volumeDir(id));
      await releaseChunks(this.#meta, this.#blocks, candidates);
    });
  }

  /**
   * The volume, once its files are here: OnAnotherHost if they are on a live host; a lost host's
   * volume is taken over first (see adopt).
   */
  async ensureHere(id: string): Promise<VolumeRecord> {
    return this.#local(await this.get(id));
  }

  async #local(v: VolumeRecord): Promise<VolumeRecord> {
    if ((await this.#hosts.assertHere(`The volume ${v.id}`, v.host, v.availabilityZone)) === "here") return v;
    await this.adopt(v.id, v.host ?? null);
    return this.get(v.id);
  }

  /** Takes over a volume of a lost host, restoring it here from its last snapshot (volume-hosts.ts). */
  adopt(id: string, from: string | null): Promise<void> {
    return volumeHosts.adopt(this.#onHosts, id, from);
  }

  /** Hands a detached volume of this host to another, through its last snapshot (volume-hosts.ts). */
  handOver(id: string, snapshotId: string, to: string): Promise<void> {
    return volumeHosts.handOver(this.#onHosts, id, snapshotId, to);
  }

  async #closeHandle(id: string): Promise<void> {
    const h = this.#handles.get(id);
    this.#handles.delete(id);
    // The handle first: one still opening starts its hydrator once open, which must stop too (it
    // would stay behind, failing on the closed handle). A newer handle's hydrator is not ours.
    const handle = h && (await h);
    const hydrator = this.#hydrators.get(id);
    if (hydrator && (!handle || hydrator.volume === handle)) {
      await hydrator.stop();
      if (this.#hydrators.get(id) === hydrator) this.#hydrators.delete(id);
    }
    await handle?.close();
  }

  /** At start-up: this host's volumes claimed, stray directories removed, hydration resumed (volume-hosts.ts). */
  recover(claimAll: boolean): Promise<void> {
    return volumeHosts.recover(this.#onHosts, claimAll);
  }

  async close(): Promise<void> {
    for (const id of [...this.#handles.keys()]) await this.#closeHandle(id);
  }

  #volumeDir(id: string): string {
    return join(this.#dir, id);
  }
}

/** Floor, so that 100 means done (EC2's Progress is an integer percentage). */
function percentDone(total: number, remaining: number): number {
  return total === 0 ? 100 : Math.floor(((total - remaining) * 100) / total);
}
