// Runs in worker threads (piscina): hashing and zstd must not block the event loop and should
// use every core.
import { Buffer } from "node:buffer";
import { closeSync, openSync, readFileSync, readSync, writeSync } from "node:fs";
import { move, transferableSymbol, valueSymbol } from "piscina";
import { BLOCK_SIZE, isZeroBlock } from "../blocks.ts";
import { decodeChunk, decodeChunkInto, encodeChunk, sha256Hex } from "./chunk-codec.ts";

export interface EncodeResult {
  zero: boolean;
  hash: string;
  encoded: Uint8Array | null;
}

// piscina's protocol for returning a value while transferring (not copying) its buffers.
function moving<T extends object>(value: T, buffers: ArrayBufferLike[]): T {
  return move({ [transferableSymbol]: buffers, [valueSymbol]: value } as never) as unknown as T;
}

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** Hash and compress one raw block; zero blocks are detected and neither hashed nor encoded. */
export function encode(raw: Uint8Array): EncodeResult {
  const buf = asBuffer(raw);
  if (isZeroBlock(buf)) return { zero: true, hash: "", encoded: null };
  const hash = sha256Hex(buf);
  const encoded = encodeChunk(buf);
  return moving({ zero: false, hash, encoded }, [encoded.buffer]);
}

/**
 * A block whose SHA-256 a client already sent (EBS PutSnapshotBlock): one hash pass checks it,
 * and the verified checksum is the key. `encoded` is null for a zero block, which is not stored.
 */
export function encodeChecked(task: { raw: Uint8Array; key: string }): {
  match: boolean;
  encoded: Uint8Array | null;
} {
  const buf = asBuffer(task.raw);
  if (sha256Hex(buf) !== task.key) return { match: false, encoded: null };
  if (isZeroBlock(buf)) return { match: true, encoded: null };
  const encoded = encodeChunk(buf);
  return moving({ match: true, encoded }, [encoded.buffer]);
}

/** Decode and verify; `raw` is null when the chunk is corrupt. */
export function decode(task: { key: string; encoded: Uint8Array }): { raw: Uint8Array | null } {
  const raw = decodeChunk(task.key, task.encoded);
  if (!raw) return { raw: null };
  // A raw-format chunk is a view into the input buffer, which this thread now owns: moving the
  // buffer keeps the view's offset, so no copy. Small buffers may sit in Node's shared pool.
  const own = raw.byteLength >= 65536 ? raw : Buffer.from(raw);
  return moving({ raw: own }, [own.buffer]);
}

export interface FetchTask {
  key: string;
  /** The chunk's encoded bytes, when the caller has them (a remote store); else read from path. */
  encoded?: Uint8Array;
  path?: string;
  /** The chunk's bytes within the file (a pack); absent: the whole file is the chunk. */
  offset?: number;
  length?: number;
  /** Also write the block here (hydrating a volume), from this thread. */
  writeFd?: number;
  writePosition?: number;
  /** Deliver the bytes into this shared memory instead of returning them. */
  into?: { buffer: SharedArrayBuffer; offset: number };
  /** false: decode without hashing (the reader checks the bytes against the key itself). */
  verify?: boolean;
}

export interface FetchResult {
  status: "ok" | "missing" | "corrupt";
  /** The bytes, unless they were delivered `into` shared memory. */
  raw?: Uint8Array;
}

/**
 * Reads a chunk (a pack's range or a whole file; or takes its encoded bytes), decodes and verifies
 * it, optionally writes it out and delivers it: all off the event loop.
 */
export function fetch(task: FetchTask): FetchResult {
  let encoded: Buffer;
  try {
    encoded = task.encoded
      ? asBuffer(task.encoded)
      : task.offset === undefined
        ? readFileSync(task.path ?? "")
        : readRange(task.path ?? "", task.offset, task.length ?? 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { status: "missing" };
    throw e;
  }
  // Decoded straight into the caller's shared memory, or into this thread's reused scratch.
  const into = task.into;
  const target = into
    ? new Uint8Array(into.buffer, into.offset, Math.min(BLOCK_SIZE, into.buffer.byteLength - into.offset))
    : outScratch();
  let raw: Uint8Array | null = decodeChunkInto(task.key, encoded, target, task.verify ?? true);
  // Not decodable in place (corrupt, or bigger than a block): the general path tells which.
  const fallback = raw === null;
  if (fallback) raw = decodeChunk(task.key, encoded);
  if (!raw) return { status: "corrupt" };
  if (task.writeFd !== undefined) {
    for (let done = 0; done < raw.byteLength; ) {
      done += writeSync(task.writeFd, raw, done, raw.byteLength - done, (task.writePosition ?? 0) + done);
    }
  }
  if (into) {
    if (fallback) new Uint8Array(into.buffer, into.offset, raw.byteLength).set(raw);
    return { status: "ok" };
  }
  // The scratch (or the read buffer, or shared memory) is not moved: a copy of its own is.
  const own = Buffer.allocUnsafeSlow(raw.byteLength);
  own.set(raw);
  return moving({ status: "ok", raw: own }, [own.buffer]);
}

/** Verify only (cross-region copy keeps the encoded bytes as they are). */
export function verify(task: { key: string; encoded: Uint8Array }): boolean {
  return decodeChunk(task.key, task.encoded) !== null;
}

// This thread's buffers, reused from task to task: fresh ones per chunk cost a page fault per
// 4 KiB (on a VM, more than reading or decoding the chunk).
let readBuffer = Buffer.alloc(0);
let decodeBuffer: Buffer | undefined;

function outScratch(): Buffer {
  decodeBuffer ??= Buffer.alloc(BLOCK_SIZE);
  return decodeBuffer;
}

/** The range, in this thread's read buffer (valid until the next read). */
function readRange(path: string, offset: number, length: number): Buffer {
  if (readBuffer.byteLength < length) readBuffer = Buffer.alloc(Math.max(length, BLOCK_SIZE + 4096));
  const fd = openSync(path, "r");
  try {
    const out = readBuffer.subarray(0, length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, out, done, length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    // A short read is a pack cut short: the decode below reports it as corrupt.
    return done === length ? out : out.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}
