// Reads a snapshot through the EBS direct APIs into a sparse raw file: the file is sized to the
// volume and only the blocks ListSnapshotBlocks names are fetched and written.
import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import type { EBSClient } from "@aws-sdk/client-ebs";
import { GetSnapshotBlockCommand, ListSnapshotBlocksCommand } from "@aws-sdk/client-ebs";
import { BlockFetcher, type EndpointOf, endpointOf, type FetchedBlock } from "./block-fetcher.ts";
import { BlockStreamReader } from "./block-stream-reader.ts";
import { TaskPool } from "./task-pool.ts";

const GiB = 1024 ** 3;

export interface DownloadOptions {
  /**
   * GetSnapshotBlock requests in flight (default 64: a block's round trip is several handoffs
   * between processes and threads, and on a busy machine each waits for the scheduler).
   */
  concurrency?: number;
  /** ListSnapshotBlocks page size (100 to 10000, default 10000). */
  maxResults?: number;
  /** Called with the bytes of blocks listed so far, as pages arrive. */
  onListed?: (bytes: number) => void;
  onBytes?: (n: number) => void;
  /** Strata's block stream when the endpoint has it (default); false: GetSnapshotBlock only. */
  stream?: boolean;
}

export interface DownloadResult {
  volumeSizeGiB: number;
  blocks: number;
}

export async function downloadSnapshot(
  clients: { ebs: EBSClient },
  snapshotId: string,
  file: FileHandle,
  o: DownloadOptions = {},
): Promise<DownloadResult> {
  const concurrency = o.concurrency ?? 64;
  const pool = new TaskPool(concurrency);
  let volumeSizeGiB = 0;
  let blocks = 0;
  let nextToken: string | undefined;
  let fast: FastPath | undefined;
  // Whether the endpoint serves Strata's block stream (undefined: not asked yet).
  let streams: boolean | undefined;
  const streamPool = new TaskPool(STREAMS_IN_FLIGHT);
  try {
    do {
      const list = new ListSnapshotBlocksCommand({
        SnapshotId: snapshotId,
        MaxResults: o.maxResults ?? 10000,
        NextToken: nextToken,
      });
      let sentTo: EndpointOf | undefined;
      list.middlewareStack.add(
        (next, _context) => async (args) => {
          sentTo = endpointOf(args.request as Parameters<typeof endpointOf>[0]);
          return next(args);
        },
        { step: "finalizeRequest", name: "strataEndpointOfList" },
      );
      const page = await clients.ebs.send(list);
      if (!fast && sentTo) {
        fast = {
          fetcher: new BlockFetcher(clients.ebs, sentTo, await clients.ebs.config.region(), concurrency),
          failures: 0,
        };
        if (!fast.fetcher.canStream || o.stream === false) streams = false;
      }
      const blockSize = page.BlockSize!;
      if (nextToken === undefined) {
        volumeSizeGiB = page.VolumeSize!;
        await file.truncate(volumeSizeGiB * GiB);
      }
      const listed = page.Blocks ?? [];
      o.onListed?.((blocks + listed.length) * blockSize);
      for (const b of listed) {
        if (b.BlockIndex! < 0 || (b.BlockIndex! + 1) * blockSize > volumeSizeGiB * GiB)
          throw new Error(
            `ListSnapshotBlocks names block ${b.BlockIndex}, outside the ${volumeSizeGiB} GiB volume`,
          );
      }
      blocks += listed.length;
      let rest = listed;
      // Strata's block stream, many blocks an answer; the first answer tells whether it is there.
      while (fast && streams !== false && rest.length > 0) {
        const batch = rest.slice(0, STREAM_BLOCKS);
        const run = () => streamBatch(fast!.fetcher, snapshotId, batch, file.fd, blockSize, o.onBytes);
        if (streams === undefined) {
          streams = await run().catch(() => false);
          // Refused or failed: `rest` still holds this batch, so GetSnapshotBlock fetches each of
          // its blocks again and writes it whole (the stream may have written unchecked bytes).
          if (!streams) break;
        } else
          await streamPool.add(async () => {
            if (!(await run())) throw new Error("the block stream was refused (see the server's log)");
          });
        rest = rest.slice(batch.length);
      }
      for (const b of rest) {
        await pool.add(async () => {
          const data = await getBlock(clients, fast, snapshotId, b.BlockIndex!, b.BlockToken!, blockSize);
          await writeAllv(file, data, b.BlockIndex! * blockSize);
          o.onBytes?.(blockSize);
        });
      }
      nextToken = page.NextToken || undefined;
    } while (nextToken);
    await pool.drain();
    await streamPool.drain();
  } finally {
    // After a failure, what is still in flight is waited for: the caller closes (and deletes) the
    // file next, and a stream still writing could otherwise write into a reused descriptor.
    await Promise.all([pool.settle(), streamPool.settle()]);
    fast?.fetcher.close();
  }
  return { volumeSizeGiB, blocks };
}

// Blocks per block-stream request (64 MiB), and such requests in flight: while one answer ends
// and the next starts, the other keeps the server's codec workers busy.
const STREAM_BLOCKS = 128;
const STREAMS_IN_FLIGHT = 2;

/**
 * One block-stream request: true once every block has been checked and written; false when the
 * server answered with an error (an older Strata, or another EBS endpoint: GetSnapshotBlock then).
 */
async function streamBatch(
  fetcher: BlockFetcher,
  snapshotId: string,
  batch: { BlockIndex?: number; BlockToken?: string }[],
  fd: number,
  blockSize: number,
  onBytes: ((n: number) => void) | undefined,
): Promise<boolean> {
  // Any order: the server reads the blocks as they lie in its packs (neighbours read together).
  const reader = new BlockStreamReader(
    fd,
    blockSize,
    batch.map((b) => b.BlockIndex!),
    () => onBytes?.(blockSize),
    { anyOrder: true },
  );
  const answer = await fetcher.streamBlocks(snapshotId, batch, (piece) => reader.push(piece), {
    anyOrder: true,
  });
  if (answer.status !== 200) return false;
  reader.finish();
  return true;
}

/** The lean GetSnapshotBlock, until it has failed this often (then only the SDK is used). */
interface FastPath {
  fetcher: BlockFetcher;
  failures: number;
}
const FAST_PATH_FAILURES = 8;

/** The block as the pieces it arrived in (hashed as they come: no copy into one buffer). */
async function getBlock(
  clients: { ebs: EBSClient },
  fast: FastPath | undefined,
  snapshotId: string,
  index: number,
  token: string,
  blockSize: number,
): Promise<Buffer[]> {
  if (fast && fast.failures < FAST_PATH_FAILURES) {
    const got = await fast.fetcher.get(snapshotId, index, token).catch(() => null);
    if (got) return checked(index, blockSize, got);
    fast.failures++;
  }
  const out = await clients.ebs.send(
    new GetSnapshotBlockCommand({ SnapshotId: snapshotId, BlockIndex: index, BlockToken: token }),
  );
  const hash = createHash("sha256");
  const pieces: Buffer[] = [];
  let bytes = 0;
  for await (const piece of out.BlockData as AsyncIterable<Uint8Array>) {
    const b = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    hash.update(b);
    pieces.push(b);
    bytes += b.byteLength;
  }
  return checked(index, blockSize, {
    pieces,
    bytes,
    sha256: hash.digest("base64"),
    checksum: out.Checksum,
    algorithm: out.ChecksumAlgorithm,
    dataLength: out.DataLength,
  });
}

function checked(index: number, blockSize: number, b: FetchedBlock): Buffer[] {
  if (b.bytes !== blockSize || (b.dataLength !== undefined && b.dataLength !== blockSize))
    throw new Error(`block ${index}: ${b.bytes} bytes (DataLength ${b.dataLength}), not ${blockSize}`);
  if (b.algorithm !== undefined && b.algorithm !== "SHA256")
    throw new Error(`block ${index}: unsupported checksum algorithm ${b.algorithm}`);
  if (b.checksum !== b.sha256)
    throw new Error(`block ${index}: checksum mismatch (header ${b.checksum}, content ${b.sha256})`);
  return b.pieces;
}

async function writeAllv(file: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  for (let rest = buffers, at = position; rest.length > 0; ) {
    const { bytesWritten } = await file.writev(rest, at);
    at += bytesWritten;
    // A short write (rare on a regular file): what is left of the pieces, from where it stopped.
    let skip = bytesWritten;
    while (rest.length > 0 && skip >= rest[0].byteLength) {
      skip -= rest[0].byteLength;
      rest = rest.slice(1);
    }
    if (skip > 0) rest = [rest[0].subarray(skip), ...rest.slice(1)];
  }
}
