// The admin API's streamed read of a volume range (`strata volume read`): one response carries the
// whole range as frames of its data, holes and all-zero blocks left out, so the client writes a
// sparse file with no request per piece, and the server reads ahead while the client writes.
// A frame is a 12-byte header (u64 offset in the range, u32 length, big-endian) and that many bytes;
// a header of length 0 ends the stream (a stream cut short by an error has none).
import type { Writable } from "node:stream";
import type { VolumeHandle } from "../services/volumes/volume-handle.ts";
import { BLOCK_SIZE, isZeroBlock } from "../storage/blocks.ts";

export const EXTENTS_CONTENT_TYPE = "application/x-strata-extents";
export const FRAME_HEADER_BYTES = 12;

// 4 MiB per volume read, several in flight: the codec workers stay busy while frames go out.
// Topped up in bursts, so that neighbouring chunks of a pack are asked for in one turn of the
// event loop and read together (one ranged GET from S3, see RangeCoalescer).
const PIECE_BLOCKS = 8;
const PIECES_IN_FLIGHT = 8;
const TOP_UP_BELOW = 4;

export function frameHeader(offset: number, length: number): Buffer {
  const h = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  h.writeBigUInt64BE(BigInt(offset), 0);
  h.writeUInt32BE(length, 8);
  return h;
}

interface Piece {
  offset: number;
  length: number;
}

/** Runs of up to PIECE_BLOCKS blocks that may hold data, clipped to [offset, offset + length). */
function* dataPieces(h: VolumeHandle, offset: number, length: number): Generator<Piece> {
  const end = offset + length;
  let run: Piece | undefined;
  for (let b = Math.floor(offset / BLOCK_SIZE); b * BLOCK_SIZE < end; b++) {
    const from = Math.max(offset, b * BLOCK_SIZE);
    const to = Math.min(end, (b + 1) * BLOCK_SIZE);
    if (!h.mayHoldData(b)) {
      if (run) yield run;
      run = undefined;
      continue;
    }
    if (run && run.length < PIECE_BLOCKS * BLOCK_SIZE) run.length = to - run.offset;
    else {
      if (run) yield run;
      run = { offset: from, length: to - from };
    }
  }
  if (run) yield run;
}

/** The piece's frames: its non-zero stretches, split at block boundaries. */
function* frames(piece: Piece, data: Buffer, rangeStart: number): Generator<Buffer> {
  let start = -1;
  const emit = function* (to: number) {
    if (start < 0) return;
    yield frameHeader(piece.offset + start - rangeStart, to - start);
    yield data.subarray(start, to);
    start = -1;
  };
  for (let at = 0; at < data.byteLength; ) {
    const blockEnd = Math.min(
      data.byteLength,
      (Math.floor((piece.offset + at) / BLOCK_SIZE) + 1) * BLOCK_SIZE - piece.offset,
    );
    const part = data.subarray(at, blockEnd);
    const zero = part.byteLength === BLOCK_SIZE ? isZeroBlock(part) : part.every((x) => x === 0);
    if (zero) yield* emit(at);
    else if (start < 0) start = at;
    at = blockEnd;
  }
  yield* emit(data.byteLength);
}

// A piece's buffer, reused once the socket has taken every frame cut from it (fresh 4 MiB per
// piece cost the codec workers a page fault per 4 KiB they delivered).
const pieceBuffers: SharedArrayBuffer[] = [];
const KEPT_PIECE_BUFFERS = PIECES_IN_FLIGHT;

function takePieceBuffer(): SharedArrayBuffer {
  // A piece that starts inside a block spans one block more.
  return pieceBuffers.pop() ?? new SharedArrayBuffer((PIECE_BLOCKS + 1) * BLOCK_SIZE);
}

function givePieceBuffer(b: SharedArrayBuffer): void {
  if (pieceBuffers.length < KEPT_PIECE_BUFFERS) pieceBuffers.push(b);
}

/** Streams [offset, offset + length) of the volume to `out` as frames (see the top of this file). */
export async function streamExtents(
  h: VolumeHandle,
  offset: number,
  length: number,
  out: Writable,
): Promise<void> {
  const pieces = dataPieces(h, offset, length);
  const queue: { piece: Piece; buffer: SharedArrayBuffer; data: Promise<Buffer> }[] = [];
  const fill = () => {
    if (queue.length >= TOP_UP_BELOW) return;
    while (queue.length < PIECES_IN_FLIGHT) {
      const next = pieces.next();
      if (next.done) return;
      const buffer = takePieceBuffer();
      // Not hydrated on the way: the stream reads each block once (the hydrator copies it later).
      const data = h.read(next.value.offset, next.value.length, { hydrate: false, buffer });
      data.catch(() => {}); // awaited below, unless the client went away first
      queue.push({ piece: next.value, buffer, data });
    }
  };
  let failed: Error | undefined;
  const gone = () => {
    failed ??= new Error("the client went away");
  };
  out.once("close", gone);
  out.once("error", gone);
  try {
    fill();
    while (queue.length > 0) {
      const { piece, buffer, data } = queue.shift()!;
      let bytes: Buffer;
      try {
        bytes = await data;
      } catch (e) {
        givePieceBuffer(buffer);
        throw e;
      }
      fill();
      if (failed) throw failed;
      const parts = [...frames(piece, bytes, offset)];
      if (parts.length === 0) givePieceBuffer(buffer);
      parts.forEach((part, i) => {
        out.write(part, i < parts.length - 1 ? undefined : (e) => (e ? undefined : givePieceBuffer(buffer)));
      });
      if (out.writableNeedDrain) await drained(out);
      if (failed) throw failed;
    }
    // Done once the end frame is handed over, or the client is gone (it sees no end frame then).
    await new Promise<void>((resolve) => {
      out.once("close", resolve);
      out.end(frameHeader(length, 0), resolve);
    });
  } catch (e) {
    // Cut short without the end frame: the client sees a truncated stream.
    out.destroy();
    throw e;
  } finally {
    out.off("close", gone);
    out.off("error", gone);
    // Nothing started here still runs once the response is over (the volume may close next).
    await Promise.allSettled(queue.map((q) => q.data));
  }
}

function drained(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off("drain", done);
      out.off("close", done);
      resolve();
    };
    out.on("drain", done);
    out.on("close", done);
  });
}
