import { type FileHandle, mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { BLOCK_SIZE, GIB } from "../blocks.ts";

// ext4 caps a file at 16 TiB - 4 KiB, one block short of EC2's largest volume (16384 GiB), so a
// volume is a row of sparse segment files of 1 TiB each. Blocks never straddle two segments.
const SEGMENT_BYTES = 1024 * GIB;
const BLOCKS_PER_SEGMENT = SEGMENT_BYTES / BLOCK_SIZE;

/** A volume's bytes on local disk: sparse, block-addressed. */
export class VolumeFile {
  readonly #handles: FileHandle[];

  private constructor(handles: FileHandle[]) {
    this.#handles = handles;
  }

  static async create(dir: string, sizeGiB: number): Promise<VolumeFile> {
    await mkdir(dir, { recursive: true });
    const handles: FileHandle[] = [];
    for (let left = sizeGiB * GIB, seg = 0; left > 0; left -= SEGMENT_BYTES, seg++) {
      const fh = await open(segmentPath(dir, seg), "w+");
      await fh.truncate(Math.min(left, SEGMENT_BYTES));
      handles.push(fh);
    }
    return new VolumeFile(handles);
  }

  static async open(dir: string, sizeGiB: number): Promise<VolumeFile> {
    const segments = Math.ceil((sizeGiB * GIB) / SEGMENT_BYTES);
    const handles: FileHandle[] = [];
    for (let seg = 0; seg < segments; seg++) handles.push(await open(segmentPath(dir, seg), "r+"));
    return new VolumeFile(handles);
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

  static async remove(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
  }

  /** Reads one whole block into a buffer that owns its memory (so it can move to a worker). */
  async readBlock(block: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafeSlow(BLOCK_SIZE);
    const { fh, pos } = this.#locate(block);
    const { bytesRead } = await fh.read(buf, 0, BLOCK_SIZE, pos);
    if (bytesRead < BLOCK_SIZE) buf.fill(0, bytesRead);
    return buf;
  }

  /** The descriptor and position of a block, for writers on other threads. */
  target(block: number): { fd: number; position: number } {
    const { fh, pos } = this.#locate(block);
    return { fd: fh.fd, position: pos };
  }

  /** Reads part of a block straight into target (no intermediate buffer). */
  async readInto(block: number, offsetInBlock: number, target: Uint8Array): Promise<void> {
    const { fh, pos } = this.#locate(block);
    let done = 0;
    while (done < target.byteLength) {
      const { bytesRead } = await fh.read(target, done, target.byteLength - done, pos + offsetInBlock + done);
      if (bytesRead === 0) {
        target.fill(0, done);
        return;
      }
      done += bytesRead;
    }
  }

  async write(block: number, offsetInBlock: number, data: Uint8Array): Promise<void> {
    const { fh, pos } = this.#locate(block);
    let done = 0;
    while (done < data.byteLength) {
      const { bytesWritten } = await fh.write(data, done, data.byteLength - done, pos + offsetInBlock + done);
      done += bytesWritten;
    }
  }

  async sync(): Promise<void> {
    await Promise.all(this.#handles.map((h) => h.datasync()));
  }

  async close(): Promise<void> {
    await Promise.all(this.#handles.map((h) => h.close()));
  }

  #locate(block: number): { fh: FileHandle; pos: number } {
    const seg = Math.floor(block / BLOCKS_PER_SEGMENT);
    return { fh: this.#handles[seg], pos: (block - seg * BLOCKS_PER_SEGMENT) * BLOCK_SIZE };
  }
}

function segmentPath(dir: string, seg: number): string {
  return join(dir, `segment-${String(seg).padStart(2, "0")}.img`);
}
