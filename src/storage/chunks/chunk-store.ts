// The narrow seam between the engine and where chunk bytes live. Keys are the SHA-256 (hex) of
// a block's raw content; values are opaque encoded bytes (see chunk-codec). An S3-compatible
// backend implements the same five calls, so nothing above this file changes.
export interface ChunkStore {
  readonly description: string;
  /** Stores the bytes under key; atomic and durable once resolved; putting an existing key is harmless. */
  put(key: string, encoded: Uint8Array): Promise<void>;
  /** The bytes stored under key; rejects with StrataError ChunkMissing if absent. */
  get(key: string): Promise<Buffer>;
  /** Removes key; removing an absent key is not an error. */
  delete(key: string): Promise<void>;
  /** Every stored key, for mark-and-sweep of orphans. */
  keys(): AsyncIterable<string>;
  /**
   * Where a chunk's bytes sit on local disk, when they do: lets the codec workers read them
   * directly instead of passing through the event loop (a remote store has no such path).
   */
  localPath?(key: string): string;
  /** Removes leftovers of interrupted puts (temp files, unfinished multipart uploads). */
  removeIncompletePuts(): Promise<number>;
}
