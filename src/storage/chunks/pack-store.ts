// The narrow seam between the engine and where chunk bytes live. Chunks are not stored one object
// each: a PackWriter packs many encoded chunks into one immutable pack (about 16 MiB, with an
// index at its end, see pack-format), so a 1 TiB volume is thousands of objects, not two million,
// and a snapshot's first write is a few large sequential puts instead of one fsync per chunk.
// Which chunk sits where (pack, offset, length) is the metadata's business; a PackStore only
// stores whole packs, reads byte ranges of them, lists and deletes them. A local directory and an
// S3-compatible bucket implement the same calls, so nothing above this file knows which is used.

export interface PackInfo {
  id: string;
  bytes: number;
  /** When the pack was written (a pack is never changed afterwards). */
  modifiedAt: Date;
}

/** A pack id: 32 lowercase hex digits (random), the same in every backend. */
export const PACK_ID = /^[0-9a-f]{32}$/;

export interface PackStore {
  readonly description: string;
  /**
   * Stores a whole pack under id: atomic (readers never see part of it) and durable once
   * resolved. Each id is written once; putting it again is a programming error.
   */
  put(id: string, bytes: Uint8Array): Promise<void>;
  /**
   * `length` bytes at `offset` of the pack; rejects with StrataError ChunkMissing if it is absent.
   * With `into` (exactly `length` bytes), the bytes are read into it and it is returned.
   */
  read(id: string, offset: number, length: number, into?: Buffer): Promise<Buffer>;
  /** Removes the pack; removing an absent pack is not an error. */
  delete(id: string): Promise<void>;
  /** Every stored pack (for the sweep of packs no metadata row knows). */
  list(): AsyncIterable<PackInfo>;
  /**
   * Where a pack's bytes sit on local disk, when they do: lets the codec workers read chunks
   * directly instead of passing them through the event loop (a remote store has no such path).
   */
  localPath?(id: string): string;
  /**
   * Removes leftovers of puts interrupted at least `olderThanMs` ago (temp files, unfinished
   * multipart uploads): never a put another process may still be making.
   */
  removeIncompletePuts(olderThanMs: number): Promise<number>;
  /** Fails with a message naming what is wrong (no bucket, bad credentials, unreachable) before use. */
  check?(): Promise<void>;
}
