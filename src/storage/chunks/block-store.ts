import { write } from "node:fs";
import { StrataError } from "../../errors.ts";
import type { ChunkStore } from "./chunk-store.ts";
import type { CodecPool } from "./codec-pool.ts";
import type { EncodeResult } from "./codec-worker.ts";

/**
 * Content-addressed 512 KiB blocks over a ChunkStore: encodes (hash, then zstd) on worker
 * threads and verifies every read. Which chunks exist is the metadata's business, not this class's.
 */
export class BlockStore {
  readonly chunks: ChunkStore;
  readonly codec: CodecPool;

  constructor(chunks: ChunkStore, codec: CodecPool) {
    this.chunks = chunks;
    this.codec = codec;
  }

  /** Hash + compress a raw block (moved to a worker: do not reuse `raw`). */
  encode(raw: Uint8Array): Promise<EncodeResult> {
    return this.codec.encode(raw);
  }

  putEncoded(key: string, encoded: Uint8Array): Promise<void> {
    return this.chunks.put(key, encoded);
  }

  /** The raw block, verified against its key: never silently wrong data. */
  async read(key: string): Promise<Buffer> {
    const raw = await this.codec.decode(key, await this.chunks.get(key));
    if (!raw) throw corrupt(key, this.chunks.description);
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
    } = {},
  ): Promise<Buffer | null> {
    const { writeTo, into } = options;
    const path = this.chunks.localPath?.(key);
    if (!path) {
      const raw = await this.read(key);
      if (writeTo) await writeAll(writeTo.fd, raw, writeTo.position);
      if (!into) return raw;
      new Uint8Array(into.buffer, into.offset, raw.byteLength).set(raw);
      return null;
    }
    const result = await this.codec.fetch({
      key,
      path,
      writeFd: writeTo?.fd,
      writePosition: writeTo?.position,
      into,
    });
    if (result.status === "missing") {
      throw new StrataError("ChunkMissing", `Chunk ${key} is missing from ${this.chunks.description}`);
    }
    if (result.status === "corrupt") throw corrupt(key, this.chunks.description);
    return (result.raw as Buffer | undefined) ?? null;
  }

  /** Encoded bytes that have been verified to decode to content with this key. */
  async readVerifiedEncoded(key: string): Promise<Buffer> {
    const encoded = await this.chunks.get(key);
    if (!(await this.codec.verify(key, encoded))) throw corrupt(key, this.chunks.description);
    return encoded;
  }
}

async function writeAll(fd: number, data: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < data.byteLength; ) {
    done += await new Promise<number>((resolve, reject) =>
      write(fd, data, done, data.byteLength - done, position + done, (err, n) =>
        err ? reject(err) : resolve(n),
      ),
    );
  }
}

function corrupt(key: string, where: string): StrataError {
  return new StrataError("ChunkCorrupt", `Chunk ${key} in ${where} does not match its SHA-256`);
}
