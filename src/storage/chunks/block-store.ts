import { StrataError } from "../../errors.ts";
import type { ChunkLocation, PackIndex } from "../metadata/pack-index.ts";
import type { LegacyChunkFiles } from "./chunk-store.ts";
import type { CodecPool } from "./codec-pool.ts";
import type { EncodeResult } from "./codec-worker.ts";
import type { PackStore } from "./pack-store.ts";
import { PackWriter, type PackWriterOptions } from "./pack-writer.ts";
import { RangeCoalescer } from "./range-coalescer.ts";

// Locations read from the database, kept for the next reads of the same chunks (a restore reads
// each chunk once, but hydration and on-demand reads overlap). A location only changes when a
// repack moves the chunk; a read that finds its pack gone looks the chunk up again.
const CACHED_LOCATIONS = 100_000;

/**
 * Content-addressed 512 KiB blocks in packs: encodes (hash, then zstd) on worker threads, packs
 * new chunks through one PackWriter, and verifies every read. Which chunks exist and where they
 * are is the metadata's business (the PackIndex), not this class's.
 */
export class BlockStore {
  readonly packs: PackStore;
  readonly index: PackIndex;
  readonly codec: CodecPool;
  readonly writer: PackWriter;
  /** Chunks stored one file each before packs existed (read and freed, never written). */
  readonly legacy: LegacyChunkFiles | undefined;
  readonly #cache = new Map<string, ChunkLocation>();
  readonly #ranges: RangeCoalescer;
  #batch: Map<string, { resolve(l: ChunkLocation | undefined): void; reject(e: unknown): void }[]> | null =
    null;

  constructor(
    packs: PackStore,
    index: PackIndex,
    codec: CodecPool,
    o: { legacy?: LegacyChunkFiles; writer?: PackWriterOptions } = {},
  ) {
    this.packs = packs;
    this.index = index;
    this.codec = codec;
    this.legacy = o.legacy;
    // Blocks still being encoded will want the open pack: it waits for them (bigger packs).
    this.writer = new PackWriter(packs, index, { busy: () => codec.encodesInFlight > 0, ...o.writer });
    this.#ranges = new RangeCoalescer((pack, offset, length, into) => packs.read(pack, offset, length, into));
  }

  get description(): string {
    return this.packs.description;
  }

  /** Hash + compress a raw block (moved to a worker: do not reuse `raw`). */
  encode(raw: Uint8Array): Promise<EncodeResult> {
    return this.codec.encode(raw);
  }

  /**
   * Packs an encoded chunk; resolves with its location once durable (then record it). `prompt`:
   * someone waits on this write (see PackWriter).
   */
  putEncoded(key: string, encoded: Uint8Array, o: { prompt?: boolean } = {}): Promise<ChunkLocation> {
    return this.writer.add(key, encoded, o);
  }

  /** The raw block, verified against its key: never silently wrong data. */
  async read(key: string): Promise<Buffer> {
    const raw = await this.codec.decode(key, await this.readEncoded(key));
    if (!raw) throw corrupt(key, this.description);
    return raw;
  }

  /**
   * The raw block, verified; also written at `writeTo` (a file descriptor and position), and
   * delivered `into` shared memory instead of returned (null then) when asked. A local store's
   * chunk never passes through the event loop: a worker reads, checks, writes and delivers it.
   */
  async fetch(
    key: string,
    options: {
      writeTo?: { fd: number; position: number };
      into?: { buffer: SharedArrayBuffer; offset: number };
      /** false: not hashed here, for a reader that checks the bytes against the key itself. */
      verify?: boolean;
    } = {},
  ): Promise<Buffer | null> {
    return this.#withLocation(key, async (at) => {
      const { writeTo, into, verify } = options;
      const path = at.pack === null ? this.legacy?.localPath(key) : this.packs.localPath?.(at.pack);
      if (!path && at.pack === null) throw missing(key, this.description);
      // A remote pack's bytes are read here (neighbours coalesced, into reused memory the worker
      // is done with once it answers); the rest happens on a worker.
      const leased =
        path || at.pack === null ? undefined : await this.#ranges.lease(at.pack, at.offset, at.length);
      const result = await this.codec
        .fetch({
          key,
          encoded: leased?.bytes,
          path,
          offset: at.pack === null ? undefined : at.offset,
          length: at.pack === null ? undefined : at.length,
          writeFd: writeTo?.fd,
          writePosition: writeTo?.position,
          into,
          verify,
        })
        .finally(() => leased?.release());
      if (result.status === "missing") throw missing(key, this.description);
      if (result.status === "corrupt") throw corrupt(key, this.description);
      return (result.raw as Buffer | undefined) ?? null;
    });
  }

  /**
   * The order to read these chunks in, as indices into `keys`: by pack and offset, so that reads
   * asked for together are neighbours in their packs and coalesce into a few ranged reads. A
   * snapshot's chunks are packed in the order its blocks arrived, which a parallel upload shuffles:
   * read in block order, most reads from a bucket were one chunk each. Chunks not found come last
   * (their reads report them missing).
   */
  async readOrder(keys: string[]): Promise<number[]> {
    const at = await Promise.all(keys.map((k) => this.#locate(k).catch(() => undefined)));
    const rank = (l: ChunkLocation | undefined) => (l === undefined ? 2 : l.pack === null ? 1 : 0);
    return keys
      .map((_, i) => i)
      .sort((x, y) => {
        const [a, b] = [at[x], at[y]];
        if (rank(a) !== rank(b) || !a?.pack || !b?.pack) return rank(a) - rank(b) || x - y;
        return a.pack < b.pack ? -1 : a.pack > b.pack ? 1 : a.offset - b.offset;
      });
  }

  /** The chunk's encoded bytes, as stored (not verified). */
  readEncoded(key: string): Promise<Buffer> {
    return this.#withLocation(key, async (at) => {
      if (at.pack !== null) return this.#ranges.read(at.pack, at.offset, at.length);
      if (!this.legacy) throw missing(key, this.description);
      return this.legacy.get(key);
    });
  }

  /** Encoded bytes that have been verified to decode to content with this key. */
  async readVerifiedEncoded(key: string): Promise<Buffer> {
    const encoded = await this.readEncoded(key);
    if (!(await this.codec.verify(key, encoded))) throw corrupt(key, this.description);
    return encoded;
  }

  /** Forgets cached locations (a repack moved chunks). */
  forgetLocations(keys: Iterable<string>): void {
    for (const k of keys) this.#cache.delete(k);
  }

  // Runs `use` at the chunk's location; if its pack has gone (a repack moved the chunk since it
  // was looked up), once more at the location the database gives now.
  async #withLocation<T>(key: string, use: (at: ChunkLocation) => Promise<T>): Promise<T> {
    const at = await this.#locate(key);
    try {
      return await use(at);
    } catch (e) {
      if (!(e instanceof StrataError) || e.code !== "ChunkMissing" || at.pack === null) throw e;
      this.#cache.delete(key);
      const now = await this.#locate(key);
      if (now.pack === at.pack && now.offset === at.offset) throw e;
      return use(now);
    }
  }

  // Lookups asked for in the same tick go to the database as one query.
  async #locate(key: string): Promise<ChunkLocation> {
    const cached = this.#cache.get(key);
    if (cached) return cached;
    const found = await new Promise<ChunkLocation | undefined>((resolve, reject) => {
      if (!this.#batch) {
        const batch = new Map<
          string,
          { resolve(l: ChunkLocation | undefined): void; reject(e: unknown): void }[]
        >();
        this.#batch = batch;
        queueMicrotask(() => void this.#runBatch(batch));
      }
      const waiting = this.#batch.get(key) ?? [];
      waiting.push({ resolve, reject });
      this.#batch.set(key, waiting);
    });
    if (!found) throw missing(key, this.description);
    return found;
  }

  async #runBatch(
    batch: Map<string, { resolve(l: ChunkLocation | undefined): void; reject(e: unknown): void }[]>,
  ) {
    if (this.#batch === batch) this.#batch = null;
    try {
      const found = await this.index.locate([...batch.keys()]);
      if (this.#cache.size + found.size > CACHED_LOCATIONS) this.#cache.clear();
      for (const [k, l] of found) this.#cache.set(k, l);
      for (const [k, waiting] of batch) for (const w of waiting) w.resolve(found.get(k));
    } catch (e) {
      for (const waiting of batch.values()) for (const w of waiting) w.reject(e);
    }
  }
}

function missing(key: string, where: string): StrataError {
  return new StrataError("ChunkMissing", `Chunk ${key} is missing from ${where}`);
}

function corrupt(key: string, where: string): StrataError {
  return new StrataError("ChunkCorrupt", `Chunk ${key} in ${where} does not match its SHA-256`);
}
