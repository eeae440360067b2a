import type { MetadataStore } from "../../storage/metadata/metadata-store.ts";

// A completed snapshot's blocks never change, so GetSnapshotBlock finds a block's chunk in a cached
// window of the map (one query per 1,024 blocks, not one per block: an export asks for every
// block in turn, 64 at a time). At most this many windows (~100 KB each) are kept.
const MAP_WINDOW = 1024;
const CACHED_WINDOWS = 64;

/** Completed snapshots' block -> chunk maps, read from the metadata store a window at a time. */
export class CompletedBlockMap {
  readonly #meta: MetadataStore;
  readonly #windows = new Map<string, Promise<Map<number, string>>>();

  constructor(meta: MetadataStore) {
    this.#meta = meta;
  }

  /** The chunk of a completed snapshot's block (undefined: a zero block), from a cached window. */
  async hash(snapshotId: string, block: number): Promise<string | undefined> {
    const first = Math.floor(block / MAP_WINDOW) * MAP_WINDOW;
    const key = `${snapshotId}/${first}`;
    let window = this.#windows.get(key);
    if (!window) {
      window = this.#meta
        .snapshotBlocks(snapshotId, first - 1, MAP_WINDOW)
        .then(
          (refs) => new Map(refs.filter((r) => r.block < first + MAP_WINDOW).map((r) => [r.block, r.hash!])),
        );
      window.catch(() => this.#windows.delete(key));
      if (this.#windows.size >= CACHED_WINDOWS) this.#windows.delete(this.#windows.keys().next().value!);
      this.#windows.set(key, window);
    }
    return (await window).get(block);
  }
}
