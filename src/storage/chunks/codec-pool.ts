import { availableParallelism } from "node:os";
import { Piscina } from "piscina";

type TransferList = NonNullable<Parameters<Piscina["run"]>[1]>["transferList"];

import type { EncodeResult, FetchResult, FetchTask } from "./codec-worker.ts";

function ownBuffer(u: Uint8Array): Uint8Array {
  // Only a buffer that owns its whole ArrayBuffer can be transferred; pooled slices (and shared
  // memory, which cannot be moved) are copied.
  const own =
    u.byteOffset === 0 && u.byteLength === u.buffer.byteLength && !(u.buffer instanceof SharedArrayBuffer);
  return own ? u : new Uint8Array(u);
}

/**
 * Hashing and zstd on worker threads, one per core. Buffers passed in are transferred (moved),
 * so callers must not use them afterwards.
 */
export class CodecPool {
  readonly #pool: Piscina;
  #encoding = 0;

  constructor(threads = availableParallelism()) {
    this.#pool = new Piscina({
      filename: new URL("./codec-worker.ts", import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Number.POSITIVE_INFINITY,
      concurrentTasksPerWorker: 4,
    });
  }

  /** Blocks being hashed and compressed now: chunks likely to be stored next (see PackWriter). */
  get encodesInFlight(): number {
    return this.#encoding;
  }

  encode(raw: Uint8Array): Promise<EncodeResult> {
    const own = ownBuffer(raw);
    return this.#counted(
      this.#pool.run(own, { name: "encode", transferList: [own.buffer] as unknown as TransferList }),
    );
  }

  /** Checks a block against a client's checksum and compresses it (see codec-worker encodeChecked). */
  encodeChecked(raw: Uint8Array, key: string): Promise<{ match: boolean; encoded: Uint8Array | null }> {
    const own = ownBuffer(raw);
    return this.#counted(
      this.#pool.run(
        { raw: own, key },
        { name: "encodeChecked", transferList: [own.buffer] as unknown as TransferList },
      ),
    );
  }

  #counted<T>(task: Promise<T>): Promise<T> {
    this.#encoding++;
    return task.finally(() => this.#encoding--);
  }

  /** Decoded raw bytes, or null if the chunk does not hash to key. */
  async decode(key: string, encoded: Uint8Array): Promise<Buffer | null> {
    const own = ownBuffer(encoded);
    const { raw } = await this.#pool.run(
      { key, encoded: own },
      { name: "decode", transferList: [own.buffer] as unknown as TransferList },
    );
    return raw ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  }

  /**
   * Reads (or takes), decodes and verifies a chunk on a worker (see codec-worker fetch). Encoded
   * bytes in shared memory are shared; others are moved (do not reuse them).
   */
  async fetch(task: FetchTask): Promise<FetchResult> {
    let transferList: TransferList | undefined;
    if (task.encoded && !(task.encoded.buffer instanceof SharedArrayBuffer)) {
      const own = ownBuffer(task.encoded);
      task = { ...task, encoded: own };
      transferList = [own.buffer] as unknown as TransferList;
    }
    const result: FetchResult = await this.#pool.run(task, { name: "fetch", transferList });
    const raw = result.raw;
    return raw ? { ...result, raw: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength) } : result;
  }

  /** Checks encoded bytes against key without moving them (the caller still needs them). */
  verify(key: string, encoded: Uint8Array): Promise<boolean> {
    return this.#pool.run({ key, encoded }, { name: "verify" });
  }

  close(): Promise<void> {
    return this.#pool.destroy();
  }
}
