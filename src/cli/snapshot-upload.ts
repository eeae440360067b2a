// Writes a disk's blocks into a new snapshot through the EBS direct APIs: StartSnapshot, one
// PutSnapshotBlock per non-zero 512 KiB block (many in flight), CompleteSnapshot with the LINEAR
// aggregated checksum, then waits for EC2 to report the snapshot completed.
import { createHash, randomUUID } from "node:crypto";
import { CompleteSnapshotCommand, PutSnapshotBlockCommand, StartSnapshotCommand } from "@aws-sdk/client-ebs";
import { DeleteSnapshotCommand } from "@aws-sdk/client-ec2";
import type { Clients } from "./aws-clients.ts";
import { type Block, EBS_BLOCK_SIZE, isZeroBlock } from "./block-reader.ts";
import { waitForSnapshot } from "./snapshot-wait.ts";
import { TaskPool } from "./task-pool.ts";

const GiB = 1024 ** 3;

export interface UploadOptions {
  /** The volume's size in bytes. */
  size: number;
  description?: string;
  /** PutSnapshotBlock requests in flight (default 16). */
  concurrency?: number;
  /** Bytes that may hold data (default: size); sizes the snapshot's Timeout. */
  dataBytes?: number;
  /** Stops the upload (Ctrl-C); the pending snapshot is then deleted. */
  signal?: AbortSignal;
}

export interface UploadResult {
  snapshotId: string;
  volumeSizeGiB: number;
  changedBlocks: number;
}

/** Uploads the given blocks (in index order; all-zero ones are skipped) as a new snapshot. */
export async function uploadSnapshot(
  clients: Clients,
  blocks: AsyncIterable<Block>,
  o: UploadOptions,
): Promise<UploadResult> {
  const { ebs } = clients;
  const volumeSizeGiB = Math.max(1, Math.ceil(o.size / GiB));
  const started = await ebs.send(
    new StartSnapshotCommand({
      VolumeSize: volumeSizeGiB,
      Description: o.description,
      ClientToken: randomUUID(),
      Timeout: timeoutMinutes(o.dataBytes ?? o.size),
    }),
  );
  const snapshotId = started.SnapshotId!;
  const blockSize = started.BlockSize ?? EBS_BLOCK_SIZE;
  try {
    if (blockSize !== EBS_BLOCK_SIZE) throw new Error(`unexpected EBS block size ${blockSize}`);
    const pool = new TaskPool(o.concurrency ?? 16);
    // Raw SHA-256 digests of the written blocks in block-index order, for the LINEAR checksum.
    const digests: Buffer[] = [];
    let previous = -1;
    for await (const block of blocks) {
      o.signal?.throwIfAborted();
      if (block.index <= previous) throw new Error(`block ${block.index} after block ${previous}`);
      previous = block.index;
      if (isZeroBlock(block.data)) continue;
      const digest = createHash("sha256").update(block.data).digest();
      digests.push(digest);
      const progress = Math.min(100, Math.floor(((block.index + 1) * blockSize * 100) / Math.max(1, o.size)));
      await pool.add(async () => {
        await ebs.send(
          new PutSnapshotBlockCommand({
            SnapshotId: snapshotId,
            BlockIndex: block.index,
            BlockData: block.data,
            DataLength: block.data.byteLength,
            Checksum: digest.toString("base64"),
            ChecksumAlgorithm: "SHA256",
            Progress: progress,
          }),
          { abortSignal: o.signal },
        );
      });
    }
    await pool.drain();
    o.signal?.throwIfAborted();
    const aggregate = createHash("sha256").update(Buffer.concat(digests)).digest("base64");
    await ebs.send(
      new CompleteSnapshotCommand({
        SnapshotId: snapshotId,
        ChangedBlocksCount: digests.length,
        Checksum: aggregate,
        ChecksumAlgorithm: "SHA256",
        ChecksumAggregationMethod: "LINEAR",
      }),
    );
    await waitForSnapshot(clients.ec2, snapshotId);
    return { snapshotId, volumeSizeGiB, changedBlocks: digests.length };
  } catch (e) {
    await discard(clients, snapshotId);
    // An abort also fails the requests in flight: report why, not "Request aborted".
    throw o.signal?.aborted ? o.signal.reason : e;
  }
}

/**
 * A snapshot still pending after its Timeout is cancelled (Strata counts from StartSnapshot): an
 * hour plus the upload at a pessimistic 5 MB/s, within EBS's 10-4320 minutes.
 */
export function timeoutMinutes(dataBytes: number): number {
  return Math.min(4320, 60 + Math.ceil(dataBytes / 5e6 / 60));
}

/** Best effort: a failed import should not leave a snapshot behind (a pending one would time out). */
async function discard(clients: Clients, snapshotId: string): Promise<void> {
  try {
    await clients.ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }));
  } catch {
    process.stderr.write(`strata: snapshot ${snapshotId} was left behind (it could not be deleted)\n`);
  }
}
