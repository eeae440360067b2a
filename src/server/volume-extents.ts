// The admin API's streamed read of a volume range (`strata volume read`): one response carries the
// whole range as frames of its data, holes and all-zero blocks left out, so the client writes a
// sparse file with no request per piece, and the server reads ahead while the client writes.
// A frame is a 12-byte header (u64 offset in the range, u32 length, big-endian) and that many bytes;
// a header of length 0 ends the stream (a stream cut short by an error has none).
import { pipeline } from "node:stream/promises";
import type { VolumeHandle } from "../services/volumes/volume-handle.ts";
import { BLOCK_SIZE, isZeroBlock } from "../storage/blocks.ts";

export const EXTENTS_CONTENT_TYPE = "application/x-strata-extents";
export const FRAME_HEADER_BYTES = 12;

// 4 MiB per volume read, several in flight: the codec workers stay busy while frames go out.
const PIECE_BLOCKS = 8;
const PIECES_IN_FLIGHT = 4;

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

async function* extents(h: VolumeHandle, offset: number, length: number): AsyncGenerator<Buffer> {
  const pieces = dataPieces(h, offset, length);
  const queue: { piece: Piece; data: Promise<Buffer> }[] = [];
  const fill = () => {
    while (queue.length < PIECES_IN_FLIGHT) {
      const next = pieces.next();
      if (next.done) return;
      // Not hydrated on the way: the stream reads each block once (the hydrator copies it later).
      const data = h.read(next.value.offset, next.value.length, { hydrate: false });
      data.catch(() => {}); // awaited below, unless the client went away first
      queue.push({ piece: next.value, data });
    }
  };
  try {
    fill();
    while (queue.length > 0) {
      const { piece, data } = queue.shift()!;
      const bytes = await data;
      fill();
      yield* frames(piece, bytes, offset);
    }
    yield frameHeader(length, 0);
  } finally {
    // Nothing started here still runs once the response is over (the volume may close next).
    await Promise.allSettled(queue.map((q) => q.data));
  }
}

/** Streams [offset, offset + length) of the volume to `out` as frames (see the top of this file). */
export function streamExtents(
  h: VolumeHandle,
  offset: number,
  length: number,
  out: NodeJS.WritableStream,
): Promise<void> {
  return pipeline(extents(h, offset, length), out);
}
