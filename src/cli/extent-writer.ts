// Writes the admin API's streamed volume read (frames of data, see src/server/volume-extents.ts)
// into a file of the range's length: frames land at their offsets with a few big positional
// writes in flight, and holes stay sparse.
import type { FileHandle } from "node:fs/promises";
import { FRAME_HEADER_BYTES } from "../server/volume-extents.ts";

// Contiguous data gathered into one writev of up to this much; writes in flight at most.
const BATCH_BYTES = 4 * 1024 * 1024;
const WRITES_IN_FLIGHT = 4;

export async function writeExtents(
  frames: AsyncIterable<Buffer>,
  fh: FileHandle,
  length: number,
): Promise<void> {
  await fh.truncate(0);
  await fh.truncate(length);
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  let headerBytes = 0;
  let frameLeft = 0;
  let ended = false;
  let batch: Buffer[] = [];
  let batchAt = 0;
  let batchBytes = 0;
  const writes = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const flush = () => {
    if (batchBytes === 0) return;
    const p: Promise<void> = writeAllv(fh, batch, batchAt)
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => writes.delete(p));
    writes.add(p);
    batch = [];
    batchAt += batchBytes;
    batchBytes = 0;
  };
  for await (const chunk of frames) {
    for (let i = 0; i < chunk.byteLength; ) {
      if (ended) throw new Error("the volume read went on after its end");
      if (frameLeft === 0) {
        const n = Math.min(FRAME_HEADER_BYTES - headerBytes, chunk.byteLength - i);
        chunk.copy(header, headerBytes, i, i + n);
        headerBytes += n;
        i += n;
        if (headerBytes < FRAME_HEADER_BYTES) break;
        headerBytes = 0;
        const at = Number(header.readBigUInt64BE(0));
        frameLeft = header.readUInt32BE(8);
        if (frameLeft === 0) ended = true;
        else if (at + frameLeft > length) throw new Error(`the volume read sent data past ${length} bytes`);
        else if (at !== batchAt + batchBytes) {
          flush();
          batchAt = at;
        }
        continue;
      }
      const n = Math.min(frameLeft, chunk.byteLength - i);
      batch.push(chunk.subarray(i, i + n));
      batchBytes += n;
      frameLeft -= n;
      i += n;
      if (batchBytes >= BATCH_BYTES) flush();
    }
    while (writes.size >= WRITES_IN_FLIGHT) await Promise.race(writes);
    if (failure) throw failure.error;
  }
  flush();
  await Promise.all(writes);
  if (failure) throw failure.error;
  if (!ended) throw new Error("the volume read stopped before its end (see the server's log)");
}

async function writeAllv(fh: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let { bytesWritten } = await fh.writev(buffers, position);
  const total = buffers.reduce((n, b) => n + b.byteLength, 0);
  if (bytesWritten < total) {
    // A short write (rare on a regular file): the rest, one buffer at a time.
    const rest = Buffer.concat(buffers).subarray(bytesWritten);
    while (bytesWritten < total) {
      const r = await fh.write(
        rest,
        bytesWritten - (total - rest.byteLength),
        undefined,
        position + bytesWritten,
      );
      bytesWritten += r.bytesWritten;
    }
  }
}
