import { BLOCK_SIZE } from "../../storage/blocks.ts";
import type { BlockStore } from "../../storage/chunks/block-store.ts";
import type { MetadataStore } from "../../storage/metadata/metadata-store.ts";
import { crashPoint } from "../../util/crash-points.ts";
import { recordBlocks } from "../chunks/chunk-references.ts";
import { progressPercent, SnapshotCancelled, type SnapshotJob } from "./snapshot-job.ts";

const BATCH = 128;

export interface CopyEnds {
  meta: MetadataStore;
  blocks: BlockStore;
}

/**
 * Copies a completed snapshot into another region's block store and metadata. Only chunks the
 * destination lacks cross over, each verified against its SHA-256 on the way; the copy's map
 * references destination chunks only, so it has no dependency on the source region. The
 * destination snapshot turns `completed` in the last transaction, after every chunk is durable.
 */
export class CopySnapshotJob implements SnapshotJob {
  readonly snapshotId: string;
  readonly #sourceId: string;
  readonly #from: CopyEnds;
  readonly #to: CopyEnds;
  #cancelled = false;

  constructor(snapshotId: string, sourceId: string, from: CopyEnds, to: CopyEnds) {
    this.snapshotId = snapshotId;
    this.#sourceId = sourceId;
    this.#from = from;
    this.#to = to;
  }

  cancel(): void {
    this.#cancelled = true;
  }

  async run(): Promise<void> {
    const total = (await this.#from.meta.snapshotStats(this.#sourceId)).dataBytes;
    const recorded = new Set(await this.#to.meta.recordedBlocks(this.snapshotId));
    let done = recorded.size;
    for (let after = -1; ; ) {
      if (this.#cancelled) throw new SnapshotCancelled(this.snapshotId);
      const page = await this.#from.meta.snapshotBlocks(this.#sourceId, after, BATCH);
      if (page.length === 0) break;
      after = page[page.length - 1].block;
      const refs = page.filter((r) => !recorded.has(r.block));
      if (refs.length === 0) continue;
      const transferred = await recordBlocks(this.#to.meta, this.#to.blocks, this.snapshotId, refs, (hash) =>
        this.#from.blocks.readVerifiedEncoded(hash),
      );
      crashPoint("copy.batch-recorded");
      done += refs.length;
      await this.#to.meta.setSnapshotProgress(this.snapshotId, progressPercent(done, total / BLOCK_SIZE), {
        blocksRead: refs.length,
        bytesStored: transferred,
        bytesTransferred: transferred,
      });
    }
    await this.#to.meta.completeCopiedSnapshot(this.snapshotId);
  }
}
