import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { BLOCK_SIZE, GIB } from "../blocks.ts";
import type { DescriptorPool } from "./descriptor-pool.ts";

// ext4 caps a file at 16 TiB - 4 KiB, one block short of EC2's largest volume (16384 GiB), so a
// volume is a row of sparse segment files of 1 TiB each. Blocks never straddle two segments.
const SEGMENT_BYTES = 1024 * GIB;
const BLOCKS_PER_SEGMENT = SEGMENT_BYTES / BLOCK_SIZE;

/**
 * A volume's bytes on local disk: sparse, block-addressed. Holds no descriptor of its own: each
 * read or write borrows its segment's from the daemon-wide pool, pinned for just that I/O.
 */
export class VolumeFile {
  readonly #pool: DescriptorPool;
  readonly #segments: string[];

  private constructor(pool: DescriptorPool, dir: string, sizeGiB: number) {
    this.#pool = pool;
    const count = Math.ceil((sizeGiB * GIB) / SEGMENT_BYTES);
    this.#segments = Array.from({ length: count }, (_, seg) => segmentPath(dir, seg));
  }

  /** Creates the sparse segment files (one descriptor at a time, closed at once). */
  static async create(pool: DescriptorPool, dir: string, sizeGiB: number): Promise<VolumeFile> {
    await mkdir(dir, { recursive: true });
    for (let left = sizeGiB * GIB, seg = 0; left > 0; left -= SEGMENT_BYTES, seg++) {
      const fh = await open(segmentPath(dir, seg), "w+");
      try {
        await fh.truncate(Math.min(left, SEGMENT_BYTES));
      } finally {
        await fh.close();
      }
    }
    return new VolumeFile(pool, dir, sizeGiB);
  }

  /** The volume's existing files; nothing is opened until the first I/O. */
  static open(pool: DescriptorPool, dir: string, sizeGiB: number): VolumeFile {
    return new VolumeFile(pool, dir, sizeGiB);
  }

  /** Grows the volume's segments to sizeGiB (the handle must be closed). */
  static async grow(dir: string, sizeGiB: number): Promise<void> {
    for (let left = sizeGiB * GIB, seg = 0; left > 0; left -= SEGMENT_BYTES, seg++) {
      const fh = await open(segmentPath(dir, seg), "a");
      try {
        const want = Math.min(left, SEGMENT_BYTES);
        if ((await fh.stat()).size < want) await fh.truncate(want);
      } finally {
        await fh.close();
      }
    }
  }

  /** Deletes the files (their descriptors must be closed: an open one would keep the space). */
  static async remove(pool: DescriptorPool, dir: string): Promise<void> {
    pool.discardUnder(dir);
    await rm(dir, { recursive: true, force: true });
  }

  /** Reads one whole block into a buffer that owns its memory (so it can move to a worker). */
  async readBlock(block: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafeSlow(BLOCK_SIZE);
    const { path, pos } = this.#locate(block);
    const { bytesRead } = await this.#pool.use(path, (fh) => fh.read(buf, 0, BLOCK_SIZE, pos));
    if (bytesRead < BLOCK_SIZE) buf.fill(0, bytesRead);
    return buf;
  }

  /**
   * Runs fn with the descriptor and position of a block, for a writer on another thread: the
   * descriptor stays open until fn settles, so fn must not return before that writer is done.
   */
  withTarget<T>(block: number, fn: (target: { fd: number; position: number }) => Promise<T>): Promise<T> {
    const { path, pos } = this.#locate(block);
    return this.#pool.use(path, (fh) => fn({ fd: fh.fd, position: pos }), true);
  }

  /** Reads part of a block straight into target (no intermediate buffer). */
  readInto(block: number, offsetInBlock: number, target: Uint8Array): Promise<void> {
    const { path, pos } = this.#locate(block);
    return this.#pool.use(path, async (fh) => {
      let done = 0;
      while (done < target.byteLength) {
        const { bytesRead } = await fh.read(
          target,
          done,
          target.byteLength - done,
          pos + offsetInBlock + done,
        );
        if (bytesRead === 0) {
          target.fill(0, done);
          return;
        }
        done += bytesRead;
      }
    });
  }

  write(block: number, offsetInBlock: number, data: Uint8Array): Promise<void> {
    const { path, pos } = this.#locate(block);
    return this.#pool.use(
      path,
      async (fh) => {
        let done = 0;
        while (done < data.byteLength) {
          const { bytesWritten } = await fh.write(
            data,
            done,
            data.byteLength - done,
            pos + offsetInBlock + done,
          );
          done += bytesWritten;
        }
      },
      true,
    );
  }

  /** Makes every write so far durable (the segments written since the last sync). */
  sync(): Promise<void> {
    return this.#pool.sync(this.#segments);
  }

  /** Gives the segments' descriptors back (closed once no I/O holds them). */
  close(): Promise<void> {
    return this.#pool.close(this.#segments);
  }

  #locate(block: number): { path: string; pos: number } {
    const seg = Math.floor(block / BLOCKS_PER_SEGMENT);
    return { path: this.#segments[seg], pos: (block - seg * BLOCKS_PER_SEGMENT) * BLOCK_SIZE };
  }
}

function segmentPath(dir: string, seg: number): string {
  return join(dir, `segment-${String(seg).padStart(2, "0")}.img`);
}
