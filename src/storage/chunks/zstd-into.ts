// zstd decompression into memory the caller owns, with one decoder kept per thread. node:zlib's
// zstdDecompressSync makes a decoder and a fresh output buffer per call, and on this kind of VM
// the page faults of that fresh memory cost more than the decoding (a 512 KiB text block:
// ~365 MB/s that way, ~900 MB/s into a reused buffer). Node has no public API for it, so this
// drives the decoder handle that zlib's stream class wraps (Node is pinned, see bin/node); when
// that handle is not what is expected, `decompressInto` falls back to zstdDecompressSync + copy.
import { constants, createZstdDecompress, type ZstdDecompress, zstdDecompressSync } from "node:zlib";

interface DecoderHandle {
  reset(): void;
  writeSync(
    flush: number,
    input: Uint8Array,
    inOffset: number,
    inLength: number,
    output: Uint8Array,
    outOffset: number,
    outLength: number,
  ): void;
}

interface Decoder {
  stream: ZstdDecompress;
  handle: DecoderHandle;
  /** [output bytes left, input bytes left] after each writeSync. */
  state: Uint32Array;
}

let decoder: Decoder | null | undefined;

function newDecoder(): Decoder | null {
  const stream = createZstdDecompress() as ZstdDecompress & { _handle?: unknown; _writeState?: unknown };
  // An error destroys the stream and is emitted later: listened to here, seen through `destroyed`.
  stream.on("error", () => {});
  const handle = stream._handle as Partial<DecoderHandle> | undefined;
  const state = stream._writeState;
  if (typeof handle?.writeSync !== "function" || typeof handle.reset !== "function") return null;
  if (!(state instanceof Uint32Array) || state.length !== 2) return null;
  return { stream, handle: handle as DecoderHandle, state };
}

/** Whether the reused decoder is in use (false: this Node's zlib changed, every call copies). */
export function reusesDecoder(): boolean {
  if (decoder === undefined) decoder = newDecoder();
  return decoder !== null;
}

/**
 * Decompresses one zstd frame into `out`; the number of bytes written, or -1 when the input is
 * not a valid frame or its content does not fit in `out`.
 */
export function decompressInto(input: Uint8Array, out: Uint8Array): number {
  if (decoder === undefined) decoder = newDecoder();
  if (decoder === null) return viaCopy(input, out);
  const d = decoder;
  d.handle.reset();
  try {
    d.handle.writeSync(constants.ZSTD_e_end, input, 0, input.byteLength, out, 0, out.byteLength);
  } catch {
    decoder = undefined;
    return -1;
  }
  if (d.stream.destroyed) {
    decoder = undefined; // its handle is closed: a new decoder next time
    return -1;
  }
  const written = out.byteLength - d.state[0];
  if (d.state[1] !== 0) return -1; // input left over: the content is bigger than `out`
  if (written < out.byteLength) return written;
  // `out` is full: the content fits only if nothing more comes out.
  try {
    d.handle.writeSync(constants.ZSTD_e_end, input, input.byteLength, 0, PROBE, 0, 1);
  } catch {
    decoder = undefined;
    return -1;
  }
  if (d.stream.destroyed) {
    decoder = undefined;
    return -1;
  }
  return d.state[0] === 1 ? written : -1;
}

const PROBE = new Uint8Array(1);

function viaCopy(input: Uint8Array, out: Uint8Array): number {
  let raw: Buffer;
  try {
    raw = zstdDecompressSync(input, { chunkSize: Math.max(64 * 1024, out.byteLength) });
  } catch {
    return -1;
  }
  if (raw.byteLength > out.byteLength) return -1;
  out.set(raw);
  return raw.byteLength;
}
