// Reads a snapshot through the EBS direct APIs into a sparse raw file: the file is sized to the
// volume and only the blocks ListSnapshotBlocks names are fetched and written.
import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { GetSnapshotBlockCommand, ListSnapshotBlocksCommand } from "@aws-sdk/client-ebs";
import type { Clients } from "./aws-clients.ts";
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
}

export interface DownloadResult {
  volumeSizeGiB: number;
  blocks: number;
}

export async function downloadSnapshot(
  clients: Clients,
  snapshotId: string,
  file: FileHandle,
  o: DownloadOptions = {},
): Promise<DownloadResult> {
  const pool = new TaskPool(o.concurrency ?? 64);
  let volumeSizeGiB = 0;
  let blocks = 0;
  let nextToken: string | undefined;
  do {
    const page = await clients.ebs.send(
      new ListSnapshotBlocksCommand({
        SnapshotId: snapshotId,
        MaxResults: o.maxResults ?? 10000,
        NextToken: nextToken,
      }),
    );
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
      blocks++;
      await pool.add(async () => {
        const data = await getBlock(clients, snapshotId, b.BlockIndex!, b.BlockToken!, blockSize);
        await file.write(data, 0, data.byteLength, b.BlockIndex! * blockSize);
        o.onBytes?.(data.byteLength);
      });
    }
    nextToken = page.NextToken || undefined;
  } while (nextToken);
  await pool.drain();
  return { volumeSizeGiB, blocks };
}

async function getBlock(
  clients: Clients,
  snapshotId: string,
  index: number,
  token: string,
  blockSize: number,
): Promise<Buffer> {
  const out = await clients.ebs.send(
    new GetSnapshotBlockCommand({ SnapshotId: snapshotId, BlockIndex: index, BlockToken: token }),
  );
  const bytes = await out.BlockData!.transformToByteArray();
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (data.byteLength !== blockSize || (out.DataLength !== undefined && out.DataLength !== blockSize))
    throw new Error(
      `block ${index}: ${data.byteLength} bytes (DataLength ${out.DataLength}), not ${blockSize}`,
    );
  if (out.ChecksumAlgorithm !== undefined && out.ChecksumAlgorithm !== "SHA256")
    throw new Error(`block ${index}: unsupported checksum algorithm ${out.ChecksumAlgorithm}`);
  const actual = createHash("sha256").update(data).digest("base64");
  if (out.Checksum !== actual)
    throw new Error(`block ${index}: checksum mismatch (header ${out.Checksum}, content ${actual})`);
  return data;
}
