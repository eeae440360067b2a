// A small seeded PRNG (sfc32, seeded through a 128-bit string hash), so a crash run's choices
// (scenario order, data, kill delays) come back with the seed it printed.
import { createHash } from "node:crypto";

export class Prng {
  readonly seed: string;
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: string) {
    this.seed = seed;
    const h = createHash("sha256").update(seed).digest();
    this.#a = h.readUInt32LE(0);
    this.#b = h.readUInt32LE(4);
    this.#c = h.readUInt32LE(8);
    this.#d = h.readUInt32LE(12);
    for (let i = 0; i < 16; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** `count` distinct integers from [0, n), ascending. */
  sample(n: number, count: number): number[] {
    const chosen = new Set<number>();
    while (chosen.size < Math.min(count, n)) chosen.add(Math.floor(this.next() * n));
    return [...chosen].sort((x, y) => x - y);
  }

  /** An independent stream derived from this seed (one per trial). */
  fork(label: string): Prng {
    return new Prng(`${this.seed}/${label}`);
  }
}

/** A fresh seed for runs that were not given one. */
export function randomSeed(): string {
  return Math.floor(Math.random() * 2 ** 32)
    .toString(16)
    .padStart(8, "0");
}
