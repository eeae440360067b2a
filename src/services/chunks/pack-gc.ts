// Mark and sweep of packs, safe while other processes (other hosts of the region) write and
// delete: nothing here assumes it is alone. The roots are the chunk rows (pending snapshots'
// references pin their chunks' rows) and the packs whose put is in flight ('writing' rows);
// a pack is deleted only when no row has pointed into it for the grace period, which also covers
// a reader that looked a chunk up just before a repack moved it (it looks again, see BlockStore).
import type { BlockStore } from "../../storage/chunks/block-store.ts";
import type { MetadataStore } from "../../storage/metadata/metadata-store.ts";
import { releaseChunks } from "./chunk-references.ts";

/** Default grace period: far longer than any put takes, and than a read holds a location. */
export const DEFAULT_GRACE_MS = 15 * 60_000;
/** Packs whose live chunks fill less than this are rewritten with only those. */
const REPACK_BELOW = 0.5;

export interface GcResult {
  /** Chunk rows a crash left unreferenced (between a delete and its release), now dropped. */
  rows: number;
  /** Packs deleted: no chunk points into them any more. */
  packs: number;
  /** Stored packs no row knew (a put whose row was lost), deleted. */
  orphans: number;
  /** Leftovers of interrupted puts removed. */
  partial: number;
  /** Packs rewritten without their dead chunks. */
  repacked: number;
  /** Chunk files of the format before packs with no row, deleted. */
  legacy: number;
}

export async function collectGarbage(
  meta: MetadataStore,
  blocks: BlockStore,
  o: { graceMs?: number; repack?: boolean } = {},
): Promise<GcResult> {
  const grace = o.graceMs ?? DEFAULT_GRACE_MS;
  const cutoff = Date.now() - grace;
  const partial = await blocks.packs.removeIncompletePuts(grace);
  const rows = await releaseChunks(meta, blocks, await meta.unreferencedChunks());
  const repacked = o.repack === false ? 0 : await repack(meta, blocks, cutoff);
  let packs = 0;
  for (const id of await blocks.index.deadPacks(cutoff)) {
    if (!(await blocks.index.forgetPack(id))) continue;
    await blocks.packs.delete(id);
    packs++;
  }
  let orphans = 0;
  let batch: string[] = [];
  const sweep = async () => {
    const known = await blocks.index.knownPacks(batch);
    const dead = batch.filter((id) => !known.has(id));
    await Promise.all(dead.map((id) => blocks.packs.delete(id)));
    orphans += dead.length;
    batch = [];
  };
  for await (const p of blocks.packs.list()) {
    if (p.modifiedAt.getTime() >= cutoff) continue;
    batch.push(p.id);
    if (batch.length >= 512) await sweep();
  }
  await sweep();
  return { rows, packs, orphans, partial, repacked, legacy: await sweepLegacy(meta, blocks) };
}

/**
 * Rewrites packs that are mostly dead: their live chunks go into new packs (read and verified,
 * under their chunk locks so no delete drops them meanwhile), then the old pack has no rows and
 * goes at a later sweep, once the grace period has passed.
 */
async function repack(meta: MetadataStore, blocks: BlockStore, cutoff: number): Promise<number> {
  let n = 0;
  for (const pack of await blocks.index.sparsePacks(cutoff, REPACK_BELOW, 64)) {
    const chunks = await blocks.index.chunksIn(pack.id);
    const release = await meta.lockChunks(chunks.map((c) => c.hash));
    try {
      const encoded = await blocks.packs.read(pack.id, 0, pack.bytes);
      const moved = await Promise.all(
        chunks.map(async (c) => {
          const bytes = encoded.subarray(c.offset, c.offset + c.length);
          if (!(await blocks.codec.verify(c.hash, bytes))) {
            throw new Error(`chunk ${c.hash} in pack ${pack.id} does not match its SHA-256; not repacking`);
          }
          return { hash: c.hash, ...(await blocks.putEncoded(c.hash, bytes)) };
        }),
      );
      await blocks.index.moveChunks(pack.id, moved);
      blocks.forgetLocations(moved.map((m) => m.hash));
      n++;
    } finally {
      release();
    }
  }
  return n;
}

async function sweepLegacy(meta: MetadataStore, blocks: BlockStore): Promise<number> {
  const legacy = blocks.legacy;
  if (!legacy) return 0;
  let deleted = 0;
  let batch: string[] = [];
  const sweep = async () => {
    const live = await meta.liveChunks(batch);
    const dead = batch.filter((h) => !live.has(h));
    await Promise.all(dead.map((h) => legacy.delete(h)));
    deleted += dead.length;
    batch = [];
  };
  for await (const key of legacy.keys()) {
    batch.push(key);
    if (batch.length >= 512) await sweep();
  }
  await sweep();
  return deleted;
}
