// The blocks of a disk image worth uploading: every 512 KiB block that overlaps a range the image
// map says may hold data, read a few at a time ahead of the consumer, in index order.

/** The EBS direct APIs' block size (fixed by AWS). */
export const EBS_BLOCK_SIZE = 512 * 1024;

export interface Block {
  index: number;
  data: Buffer;
}

export interface ByteReader {
  read(offset: number, length: number): Promise<Buffer>;
}

/** Indexes of the blocks that overlap the (sorted) ranges [start, end), each once. */
export function* blocksInRanges(ranges: [number, number][], blockSize = EBS_BLOCK_SIZE): Generator<number> {
  let next = 0;
  for (const [start, end] of ranges) {
    if (end <= start) continue;
    const last = Math.floor((end - 1) / blockSize);
    for (let i = Math.max(next, Math.floor(start / blockSize)); i <= last; i++) yield i;
    next = Math.max(next, last + 1);
  }
}

export interface ReadOptions {
  size: number;
  blockSize?: number;
  /** Reads in flight ahead of the consumer. */
  readAhead?: number;
  /** How far through the image the reader got, as each block is handed over (holes included). */
  onPosition?: (bytes: number) => void;
}

/** The blocks, zero-padded to the block size at the end of the image. */
export async function* readImageBlocks(
  reader: ByteReader,
  ranges: [number, number][],
  o: ReadOptions,
): AsyncGenerator<Block> {
  const blockSize = o.blockSize ?? EBS_BLOCK_SIZE;
  const indexes = blocksInRanges(ranges, blockSize);
  const queue: { index: number; data: Promise<Buffer> }[] = [];
  const fill = () => {
    while (queue.length < (o.readAhead ?? 8)) {
      const next = indexes.next();
      if (next.done) return;
      const offset = next.value * blockSize;
      const data = reader.read(offset, Math.min(blockSize, o.size - offset));
      data.catch(() => {}); // awaited below, unless the consumer stops early
      queue.push({ index: next.value, data });
    }
  };
  fill();
  while (queue.length) {
    const { index, data } = queue.shift()!;
    let bytes = await data;
    if (bytes.byteLength < blockSize)
      bytes = Buffer.concat([bytes, Buffer.alloc(blockSize - bytes.byteLength)]);
    fill();
    o.onPosition?.(Math.min(o.size, (index + 1) * blockSize));
    yield { index, data: bytes };
  }
  o.onPosition?.(o.size);
}

const ZERO = Buffer.alloc(EBS_BLOCK_SIZE);

export function isZeroBlock(data: Buffer): boolean {
  return data.byteLength === ZERO.byteLength ? data.equals(ZERO) : data.every((b) => b === 0);
}
