// Chunks stored one file each, the format before packs (see pack-store.ts): a data dir written by
// an older Strata still holds them. They are read and freed, never written: every new chunk goes
// into a pack, and a chunk file goes when its row does (or with the GC, when it has none).
export interface LegacyChunkFiles {
  readonly description: string;
  /** The bytes stored under key; rejects with StrataError ChunkMissing if absent. */
  get(key: string): Promise<Buffer>;
  /** Removes key; removing an absent key is not an error. */
  delete(key: string): Promise<void>;
  /** Every stored key, for the sweep of files no row knows. */
  keys(): AsyncIterable<string>;
  /** Where a chunk's file is (the codec workers read it directly). */
  localPath(key: string): string;
}
