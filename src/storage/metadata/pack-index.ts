// Which pack holds each chunk, and the packs themselves, in the region's database. A pack's row
// exists before its bytes are put ('writing': an upload in flight, a GC root) and says when it
// was sealed; chunk rows point into sealed packs only. A pack no chunk row points to is garbage
// once the grace period has passed since it was sealed (or since its put began, for one a crash
// cut short): in that time every writer has added the rows of the chunks it put there.

/** Where a chunk's encoded bytes are. `pack` null: a chunk stored alone, in the format before packs. */
export interface ChunkLocation {
  pack: string | null;
  offset: number;
  length: number;
}

export interface PackUsage {
  id: string;
  bytes: number;
  liveBytes: number;
}

export interface PackIndex {
  /** Locations of the stored chunks among hashes (absent: not stored). */
  locate(hashes: string[]): Promise<Map<string, ChunkLocation>>;
  /** Records a pack whose put is about to begin (ms since the epoch). */
  beginPack(id: string, now: number): Promise<void>;
  /** The pack (of `chunks` distinct chunks) is durable: its chunks may now be recorded. */
  sealPack(id: string, bytes: number, chunks: number, now: number): Promise<void>;
  /** Packs no chunk points to, sealed (or begun, if never sealed) before cutoff. */
  deadPacks(cutoff: number): Promise<string[]>;
  /** Deletes the pack's row if still no chunk points to it; true if it did (then delete its bytes). */
  forgetPack(id: string): Promise<boolean>;
  /**
   * The same, but only for a pack every chunk of which was recorded (so none can appear now):
   * a pack that deletes emptied goes at once instead of after the grace period.
   */
  forgetEmptiedPack(id: string): Promise<boolean>;
  /** The ids among these that have a row. */
  knownPacks(ids: string[]): Promise<Set<string>>;
  /** Packs sealed before cutoff whose live chunks fill less than `ratio` of them, emptiest first. */
  sparsePacks(cutoff: number, ratio: number, limit: number): Promise<PackUsage[]>;
  /** The chunks recorded in a pack. */
  chunksIn(pack: string): Promise<({ hash: string } & ChunkLocation)[]>;
  /** Points chunks still recorded in `from` at their new copies (recorded in their packs); returns how many moved. */
  moveChunks(from: string, moved: ({ hash: string } & ChunkLocation)[]): Promise<number>;
  packTotals(): Promise<{ packs: number; bytes: number; liveBytes: number }>;
}
