// The protocol that keeps "a referenced chunk always exists" true while snapshots, copies and
// deletes run at the same time:
// - A writer first records its block -> chunk references (one transaction, which also tells it
//   which chunks are not live yet); from then on no delete can drop those chunks.
// - It uploads the missing ones holding their chunk locks, and adds their rows only once the
//   bytes are durable.
// - A deleter holds the same locks around "drop rows nothing references" + "delete the bytes", so
//   an upload of the same content can never land between those two steps and then vanish.
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
          await blocks.putEncoded(hash, encoded);
          return { hash, storedBytes: encoded.byteLength };
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
    const dropped = await meta.dropUnreferencedChunks(candidates);
    crashPoint("chunks.rows-dropped");
    await Promise.all(dropped.map((h) => blocks.chunks.delete(h)));
    return dropped.length;
  } finally {
    release();
  }
}

/**
 * Start-up mark and sweep: chunk rows left unreferenced by a crash between a delete and its
 * release, and stored bytes with no row (an upload cut off before its row was added).
 * Runs before any job resumes, so nothing else is touching the store.
 */
export async function collectGarbage(
  meta: MetadataStore,
  blocks: BlockStore,
): Promise<{ rows: number; orphans: number; partial: number }> {
  const partial = await blocks.chunks.removeIncompletePuts();
  const rows = await releaseChunks(meta, blocks, await meta.unreferencedChunks());
  let orphans = 0;
  let batch: string[] = [];
  const sweep = async () => {
    const live = await meta.liveChunks(batch);
    const dead = batch.filter((h) => !live.has(h));
    await Promise.all(dead.map((h) => blocks.chunks.delete(h)));
    orphans += dead.length;
    batch = [];
  };
  for await (const key of blocks.chunks.keys()) {
    batch.push(key);
    if (batch.length >= 512) await sweep();
  }
  await sweep();
  return { rows, orphans, partial };
}
