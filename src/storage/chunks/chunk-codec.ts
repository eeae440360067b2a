// Encoded chunk layout: one format byte, then the payload. Hashing happens on the raw block,
// before compression, so the key is the checksum the EBS direct APIs use.
import { createHash } from "node:crypto";
import { constants, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { decompressInto } from "./zstd-into.ts";

export const FORMAT_RAW = 0;
export const FORMAT_ZSTD = 1;

export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

// One output chunk of a whole block: zlib's default 16 KiB chunks cost 32 allocations and a concat.
const ZSTD_1 = { params: { [constants.ZSTD_c_compressionLevel]: 1 }, chunkSize: 512 * 1024 };
const ZSTD_D = { chunkSize: 512 * 1024 };
const PROBE = 64 * 1024;

/** zstd level 1 (fast, like `zstd -1`); kept raw when compression does not shrink the block. */
export function encodeChunk(raw: Uint8Array): Buffer {
  // zstd takes as long to fail on random data as to succeed on text, so a 64 KiB probe decides
  // first (a block that is random only at its start is stored raw: correct, merely larger).
  const incompressible =
    raw.byteLength > 2 * PROBE && zstdCompressSync(raw.subarray(0, PROBE), ZSTD_1).byteLength > PROBE * 0.97;
  const z = incompressible ? null : zstdCompressSync(raw, ZSTD_1);
  if (z && z.byteLength + 1 < raw.byteLength) {
    const out = Buffer.allocUnsafeSlow(z.byteLength + 1);
    out[0] = FORMAT_ZSTD;
    out.set(z, 1);
    return out;
  }
  const out = Buffer.allocUnsafeSlow(raw.byteLength + 1);
  out[0] = FORMAT_RAW;
  out.set(raw, 1);
  return out;
}

/** Decodes and verifies; returns null when the content does not hash to `key`. */
export function decodeChunk(key: string, encoded: Uint8Array): Buffer | null {
  const payload = encoded.subarray(1);
  let raw: Buffer;
  if (encoded[0] === FORMAT_ZSTD) {
    try {
      raw = zstdDecompressSync(payload, ZSTD_D);
    } catch {
      return null;
    }
  } else if (encoded[0] === FORMAT_RAW) {
    raw = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  } else {
    return null;
  }
  return sha256Hex(raw) === key ? raw : null;
}

/**
 * Decodes into `out` and verifies: a view of `out` holding the content, or null when the chunk
 * is corrupt or its content does not fit in `out` (decodeChunk tells which). Without `verify`
 * the content is not hashed: for a reader that checks it against the key itself.
 */
export function decodeChunkInto(
  key: string,
  encoded: Uint8Array,
  out: Uint8Array,
  verify = true,
): Uint8Array | null {
  const payload = encoded.subarray(1);
  let n: number;
  if (encoded[0] === FORMAT_ZSTD) n = decompressInto(payload, out);
  else if (encoded[0] === FORMAT_RAW && payload.byteLength <= out.byteLength) {
    out.set(payload);
    n = payload.byteLength;
  } else n = -1;
  if (n < 0) return null;
  const raw = out.subarray(0, n);
  return !verify || sha256Hex(raw) === key ? raw : null;
}
