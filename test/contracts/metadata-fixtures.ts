// Records and helpers the MetadataStore and PackIndex contracts share.
import { createHash } from "node:crypto";
import type { CatalogStore } from "../../src/storage/metadata/catalog-store.ts";
import type { InstanceStore } from "../../src/storage/metadata/instance-store.ts";
import type {
  BlockRef,
  MetadataStore,
  SnapshotRecord,
  VolumeRecord,
} from "../../src/storage/metadata/metadata-store.ts";
import type { PackIndex } from "../../src/storage/metadata/pack-index.ts";
import { uid } from "./harness.ts";

/** The stores of one region database: the MetadataStore and those it shares rows with. */
export interface MetadataStores {
  meta: MetadataStore;
  catalog: CatalogStore;
  instances: InstanceStore;
}

export interface PackStores {
  index: PackIndex;
  meta: MetadataStore;
}

let n = 0;
/** A chunk key (SHA-256 hex) never used before in this process. */
export function hash(): string {
  return createHash("sha256").update(`chunk ${++n} ${process.pid}`).digest("hex");
}

export function volume(ownerId: string, over: Partial<VolumeRecord> = {}): VolumeRecord {
  return {
    id: uid("vol"),
    ownerId,
    sizeGiB: 8,
    state: "available",
    availabilityZone: "us-east-1a",
    volumeType: "gp3",
    sourceSnapshotId: null,
    lastSnapshotId: null,
    createdAt: "2026-11-22T07:00:00.000Z",
    iops: null,
    attachment: null,
    ...over,
  };
}

export function snapshot(ownerId: string, over: Partial<SnapshotRecord> = {}): SnapshotRecord {
  return {
    id: uid("snap"),
    ownerId,
    volumeId: null,
    volumeSizeGiB: 8,
    state: "pending",
    progress: 0,
    parentSnapshotId: null,
    sourceRegion: null,
    sourceSnapshotId: null,
    description: 'Ünïcode ☃ "quoted" \\ back',
    startedAt: "2026-11-22T07:00:00.000Z",
    completedAt: null,
    stateMessage: null,
    blocksRead: 0,
    bytesStored: 0,
    bytesTransferred: 0,
    expiresAt: null,
    timeoutMinutes: null,
    ...over,
  };
}

/** A completed snapshot of these blocks (chunks stored at `bytes` each unless already stored). */
export async function completedSnapshot(
  meta: MetadataStore,
  ownerId: string,
  refs: BlockRef[],
  bytes = 100,
  over: Partial<SnapshotRecord> = {},
): Promise<SnapshotRecord> {
  const s = snapshot(ownerId, over);
  await meta.insertSnapshot(s);
  const missing = await meta.addSnapshotBlocks(s.id, refs);
  await meta.addChunks(missing.map((h) => ({ hash: h, storedBytes: bytes, pack: null, offset: 0 })));
  await meta.completeCopiedSnapshot(s.id);
  return s;
}

/** Whether the promise is still pending after `ms` (it keeps running). */
export async function stillPending(p: Promise<unknown>, ms = 200): Promise<boolean> {
  const timeout = Symbol("pending");
  const won = await Promise.race([p, new Promise((r) => setTimeout(() => r(timeout), ms))]);
  return won === timeout;
}

export const sorted = (values: string[]) => [...values].sort();
