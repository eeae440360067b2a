// A Strata-only companion to GetSnapshotBlock for `strata snapshot export`: one request names up to
// MAX_STREAM_BLOCKS blocks with their tokens (from ListSnapshotBlocks, checked as GetSnapshotBlock
// checks them) and the answer streams them in that order (or, with "AnyOrder": true, in the order
// they sit in the chunk store, each once), each framed with its checksum:
//   u64 block index, u32 length, 32-byte SHA-256 of the data (big-endian), then the data;
// a frame of length 0 ends the stream (a stream cut short by an error has none). The client must
// check each block against its checksum (the server does not hash it again: the checksum is the
// chunk's key, so one hash per block end to end). The EBS direct APIs stay as AWS defines them.
import type { ServerResponse } from "node:http";
import { StrataError } from "../errors.ts";
import type { Region } from "../services/regions/region.ts";
import type { BlockBuffers } from "./block-buffers.ts";

export const BLOCK_STREAM_PATH = /^\/snapshots\/(?<id>[^/]+)\/strata-blocks$/;
export const BLOCK_STREAM_CONTENT_TYPE = "application/x-strata-blocks";
export const BLOCK_FRAME_HEADER_BYTES = 44;
export const MAX_STREAM_BLOCKS = 1024;
// Blocks being read ahead of the socket, per stream, topped up in bursts: reads asked for in one
// turn of the event loop that sit next to each other in a pack become one ranged read (one GET
// from S3 instead of a dozen), and a stream's blocks are mostly a pack's neighbours.
const READS_IN_FLIGHT = 32;
const TOP_UP_BELOW = 16;

export function blockFrameHeader(index: number, length: number, sha256: Buffer): Buffer {
  const h = Buffer.alloc(BLOCK_FRAME_HEADER_BYTES);
  h.writeBigUInt64BE(BigInt(index), 0);
  h.writeUInt32BE(length, 8);
  sha256.copy(h, 12);
  return h;
}

export interface StreamRequest {
  blocks: { block: number; token: string }[];
  /** The answer may carry the blocks in any order (the server's fastest), each exactly once. */
  anyOrder: boolean;
}

/** The request body: `{"Blocks":[{"BlockIndex":n,"BlockToken":"..."}],"AnyOrder":true}`. */
export function parseStreamRequest(body: Buffer): StreamRequest {
  let doc: { Blocks?: unknown; AnyOrder?: unknown };
  try {
    doc = JSON.parse(body.toString("utf8"));
  } catch {
    throw invalid("The request body is not JSON");
  }
  const blocks = doc?.Blocks;
  if (!Array.isArray(blocks) || blocks.length === 0 || blocks.length > MAX_STREAM_BLOCKS)
    throw invalid(`Blocks must list 1 to ${MAX_STREAM_BLOCKS} blocks`);
  if (doc.AnyOrder !== undefined && typeof doc.AnyOrder !== "boolean")
    throw invalid("AnyOrder must be true or false");
  const parsed = blocks.map((b: { BlockIndex?: unknown; BlockToken?: unknown }) => {
    if (
      !Number.isSafeInteger(b?.BlockIndex) ||
      (b.BlockIndex as number) < 0 ||
      typeof b.BlockToken !== "string"
    )
      throw invalid("Each block needs a BlockIndex (a non-negative integer) and a BlockToken");
    return { block: b.BlockIndex as number, token: b.BlockToken };
  });
  // Each block once when the order is the server's: the client counts blocks by their index.
  if (doc.AnyOrder && new Set(parsed.map((b) => b.block)).size !== parsed.length)
    throw invalid("With AnyOrder, each block may be asked for only once");
  return { blocks: parsed, anyOrder: doc.AnyOrder === true };
}

/** Every token is checked before the answer starts; then the blocks stream (see the top). */
export async function streamBlocks(
  region: Region,
  accountId: string,
  snapshotId: string,
  body: Buffer,
  res: ServerResponse,
  buffers: BlockBuffers,
): Promise<void> {
  const asked = parseStreamRequest(body);
  const reads = region.direct.reads;
  const opened = await reads.openBlocks(accountId, snapshotId, asked.blocks);
  const order = asked.anyOrder ? await reads.readOrder(opened) : asked.blocks.map((_, i) => i);
  const blocks = order.map((i) => asked.blocks[i]);
  const hashes = order.map((i) => opened[i]);
  res.writeHead(200, { "content-type": BLOCK_STREAM_CONTENT_TYPE });
  let gone = false;
  const onClose = () => {
    gone = true;
  };
  res.once("close", onClose);
  const queue: { buffer: SharedArrayBuffer; data: Promise<Buffer> }[] = [];
  let next = 0;
  const fill = () => {
    if (queue.length >= TOP_UP_BELOW) return;
    while (queue.length < READS_IN_FLIGHT && next < blocks.length) {
      const buffer = buffers.take();
      const data = reads.readBlock(hashes[next++], { buffer, offset: 0 }, false);
      data.catch(() => {}); // awaited below, unless the client went away first
      queue.push({ buffer, data });
    }
  };
  try {
    fill();
    for (let i = 0; i < blocks.length && !gone; i++) {
      const { buffer, data } = queue.shift()!;
      let bytes: Buffer;
      try {
        bytes = await data;
      } catch (e) {
        buffers.give(buffer);
        throw e;
      }
      fill();
      res.write(blockFrameHeader(blocks[i].block, bytes.byteLength, Buffer.from(hashes[i], "hex")));
      // Reused once the socket has taken it.
      res.write(bytes, (e) => (e ? undefined : buffers.give(buffer)));
      if (res.writableNeedDrain) await drained(res);
    }
    if (!gone) {
      await new Promise<void>((resolve) => {
        res.once("close", resolve);
        res.end(blockFrameHeader(0, 0, Buffer.alloc(32)), resolve);
      });
    }
  } catch (e) {
    // Cut short without the end frame: the client sees a truncated stream.
    console.error(`block stream of ${snapshotId}:`, e);
    res.destroy();
  } finally {
    res.off("close", onClose);
    await Promise.allSettled(queue.map((q) => q.data));
    for (const q of queue) buffers.give(q.buffer);
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

function invalid(message: string): StrataError {
  return new StrataError("ValidationException", message, "INVALID_PARAMETER_VALUE");
}
