// EBS block geometry: snapshots and the EBS direct APIs address volumes in 512 KiB blocks.
export const BLOCK_SIZE = 512 * 1024;
export const GIB = 1024 * 1024 * 1024;
export const BLOCKS_PER_GIB = GIB / BLOCK_SIZE;
// EC2's limits for gp2/gp3/io1/io2/st1/sc1 volumes.
export const MIN_VOLUME_GIB = 1;
export const MAX_VOLUME_GIB = 16384;

export function blockCount(sizeGiB: number): number {
  return sizeGiB * BLOCKS_PER_GIB;
}

const ZERO_BLOCK = Buffer.alloc(BLOCK_SIZE);

export function isZeroBlock(buf: Uint8Array): boolean {
  // Buffer.compare is a memcmp: far faster than a JS loop over 512 KiB.
  return buf.byteLength === BLOCK_SIZE && Buffer.compare(buf, ZERO_BLOCK) === 0;
}

export function zeroBlock(): Buffer {
  return Buffer.alloc(BLOCK_SIZE);
}
