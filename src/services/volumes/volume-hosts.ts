// The host a volume's files live on: taking over a lost host's volume, handing one over to
// another host, a handed-over volume's first use here, and this host's volumes at start-up.
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { StrataError } from "../../errors.ts";
import type { BlockStore } from "../../storage/chunks/block-store.ts";
import type { MetadataStore, VolumeRecord } from "../../storage/metadata/metadata-store.ts";
import type { DescriptorPool } from "../../storage/volume-files/descriptor-pool.ts";
import { VolumeFile } from "../../storage/volume-files/volume-file.ts";
import { releaseChunks } from "../chunks/chunk-references.ts";
import type { HostRegistry } from "../hosts/host-registry.ts";
import type { VolumeHandle } from "./volume-handle.ts";

/** What moving volumes between hosts needs of the VolumeService. */
export interface VolumeHostDeps {
  region: string;
  meta: MetadataStore;
  blocks: BlockStore;
  /** The directory of this host's volume files. */
  dir: string;
  descriptors: DescriptorPool;
  hosts: HostRegistry;
  volumeDir(id: string): string;
  get(id: string): Promise<VolumeRecord>;
  handle(id: string): Promise<VolumeHandle>;
  withLifecycle(ids: string[], fn: () => Promise<void>): Promise<void>;
  closeHandle(id: string): Promise<void>;
}

/**
 * Takes over a volume of a lost host: it is restored here, lazily, from its last snapshot (the
 * latest of its data that reached the object store); what it wrote since was on the lost host's
 * disk. One host wins a race to adopt it; the other's call fails and may be retried.
 */
export async function adopt(deps: VolumeHostDeps, id: string, from: string | null): Promise<void> {
  await deps.withLifecycle([id], async () => {
    const v = await deps.get(id);
    if (v.host === deps.hosts.id) return;
    const candidates = await deps.meta.adoptVolume(id, from, deps.hosts.id);
    // Leftovers of an earlier stay here would hold stale blocks: the file starts empty.
    await VolumeFile.remove(deps.descriptors, deps.volumeDir(id));
    await VolumeFile.create(deps.descriptors, deps.volumeDir(id), v.sizeGiB);
    await releaseChunks(deps.meta, deps.blocks, candidates);
    console.error(`${deps.region}: took over volume ${id} of lost host ${from}, from its last snapshot`);
  });
}

/**
 * Hands a volume of this host to another (attach to an instance there): its data is already in
 * the pack store as its last snapshot (`snapshotId`, just taken); from there the other host
 * restores it lazily, and this host's files go. Refused unless the volume is detached.
 */
export async function handOver(
  deps: VolumeHostDeps,
  id: string,
  snapshotId: string,
  to: string,
): Promise<void> {
  await deps.withLifecycle([id], async () => {
    const v = await deps.get(id);
    if (v.attachment)
      throw new StrataError("VolumeInUse", `Volume ${id} is attached to ${v.attachment.instanceId}`);
    if (v.lastSnapshotId !== snapshotId || (await deps.meta.volumeTracking(id)).dirty.length > 0) {
      throw new StrataError("IncorrectState", `Volume ${id} changed while it was being moved; retry.`);
    }
    await deps.closeHandle(id);
    const candidates = await deps.meta.adoptVolume(id, v.host ?? null, to);
    await VolumeFile.remove(deps.descriptors, deps.volumeDir(id));
    await releaseChunks(deps.meta, deps.blocks, candidates);
  });
}

/** A volume handed over to this host (nothing of it local yet) gets its files on first use. */
export async function arrived(deps: VolumeHostDeps, v: VolumeRecord): Promise<void> {
  if (await stat(deps.volumeDir(v.id)).catch(() => undefined)) return;
  const t = await deps.meta.volumeTracking(v.id);
  if (t.dirty.length === 0 && !t.frozen && t.remote.length === t.mapped.length) {
    await VolumeFile.create(deps.descriptors, deps.volumeDir(v.id), v.sizeGiB);
  }
}

/**
 * Resumes hydration of restored volumes and removes directories no volume owns. Other volumes
 * stay closed until first used (opening one opens none of its files either).
 */
export async function recover(deps: VolumeHostDeps, claimAll: boolean): Promise<void> {
  await deps.hosts.store.claimVolumes(deps.hosts.id, claimAll);
  const volumes = (await deps.meta.listVolumes()).filter((v) => v.host === deps.hosts.id);
  const known = new Set(volumes.map((v) => v.id));
  for (const name of await readdir(deps.dir).catch(() => [] as string[])) {
    if (!known.has(name)) await VolumeFile.remove(deps.descriptors, join(deps.dir, name));
  }
  for (const v of volumes) if (await deps.meta.hasRemoteBlocks(v.id)) await deps.handle(v.id);
}
