/** A fixed-size set of block indexes (1 bit each: 4 MiB for a 16 TiB volume). */
export class Bitset {
  readonly #bits: Uint8Array;
  #count = 0;
  readonly size: number;

  constructor(size: number) {
    this.size = size;
    this.#bits = new Uint8Array(Math.ceil(size / 8));
  }

  has(i: number): boolean {
    return (this.#bits[i >>> 3] & (1 << (i & 7))) !== 0;
  }

  add(i: number): boolean {
    if (this.has(i)) return false;
    this.#bits[i >>> 3] |= 1 << (i & 7);
    this.#count++;
    return true;
  }

  delete(i: number): boolean {
    if (!this.has(i)) return false;
    this.#bits[i >>> 3] &= ~(1 << (i & 7));
    this.#count--;
    return true;
  }

  get count(): number {
    return this.#count;
  }

  *[Symbol.iterator](): Iterator<number> {
    for (let byte = 0; byte < this.#bits.length; byte++) {
      const v = this.#bits[byte];
      if (v === 0) continue;
      for (let bit = 0; bit < 8; bit++) if (v & (1 << bit)) yield (byte << 3) | bit;
    }
  }
}
