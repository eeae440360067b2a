// The protocol that keeps "a referenced chunk always exists" true while snapshots, copies and
// deletes run at the same time:
// - A writer first records its block -> chunk references (one transaction, which also tells it
//   which chunks are not live yet); from then on no delete can drop those chunks.
// - It packs the missing ones holding their chunk locks, and adds their rows (with their pack and
//   offset) only once their pack is durable.
// - A deleter holds the same locks while it drops the rows nothing references. Their bytes stay in
//   their packs: the pack GC (pack-gc.ts) deletes a pack only when no row has pointed into it for
//   a grace period, and repacks mostly dead ones, so an upload of the same content never lands in
//   a pack that is being deleted.
import type { BlockStore } from "../../storage/chunks/block-store.ts";
import type { BlockRef, MetadataStore } from "../../storage/metadata/metadata-store.ts";
import { crashPoint } from "../../util/crash-points.ts";

/** Encoded bytes for a chunk key, fetched only if the chunk turns out to be missing. */
export type ChunkSource = (hash: string) => Promise<Uint8Array>;

export async function recordBlocks(
  meta: MetadataStore,
  blocks: BlockStore,
  snapshotId: string,
  refs: BlockRef[],
  source: ChunkSource,
  o: { prompt?: boolean } = {},
): Promise<number> {
  const missing = await meta.addSnapshotBlocks(snapshotId, refs);
  crashPoint("chunks.referenced");
  if (missing.length === 0) return 0;
  const release = await meta.lockChunks(missing);
  try {
    const live = await meta.liveChunks(missing);
    // Every upload settles before the locks go: one that failed (a full disk) must not leave
    // others still writing, nor their durable bytes without rows (orphans until a restart).
    const uploads = await Promise.allSettled(
      missing
        .filter((h) => !live.has(h))
        .map(async (hash) => {
          const encoded = await source(hash);
          const at = await blocks.putEncoded(hash, encoded, o);
          return { hash, storedBytes: at.length, pack: at.pack, offset: at.offset };
        }),
    );
    crashPoint("chunks.uploaded");
    const added = uploads.flatMap((u) => (u.status === "fulfilled" ? [u.value] : []));
    await meta.addChunks(added);
    const failed = uploads.find((u) => u.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return added.reduce((sum, c) => sum + c.storedBytes, 0);
  } finally {
    release();
  }
}

/** Deletes the chunks among candidates that nothing references any more. */
export async function releaseChunks(
  meta: MetadataStore,
  blocks: BlockStore,
  candidates: string[],
): Promise<number> {
  if (candidates.length === 0) return 0;
  const release = await meta.lockChunks(candidates);
  try {
    const packs = await blocks.index.locate(candidates);
    const dropped = await meta.dropUnreferencedChunks(candidates);
    crashPoint("chunks.rows-dropped");
    // Chunks stored alone before packs existed go now; packed ones go with their pack, at once if
    // these were its last (and every chunk of it was recorded), else at a later GC.
    if (blocks.legacy) await Promise.all(dropped.map((h) => blocks.legacy?.delete(h)));
    const emptied = new Set(dropped.flatMap((h) => packs.get(h)?.pack ?? []));
    for (const id of emptied) if (await blocks.index.forgetEmptiedPack(id)) await blocks.packs.delete(id);
    return dropped.length;
  } finally {
    release();
  }
}
