// The crash harness's model of what every volume and snapshot must hold: per block, the SHA-256
// of its expected content and a way to make the bytes again (so a partial write can be applied
// to the expected block without keeping every block in memory).
import { isZeroBlock } from "../../src/storage/blocks.ts";
import { BLOCK_SIZE, seededBytes, sha256, textBlock } from "../helpers.ts";
import type { Prng } from "./prng.ts";

export interface BlockContent {
  hash: string;
  make(): Buffer;
}

/** block -> expected content; blocks not in the map are zeros. */
export type BlockMap = Map<number, BlockContent>;

export type BlockKind = "random" | "text" | "zero";

/** A whole block of zeros (a memcmp, not a byte loop: the harness reads gigabytes). */
export function isZero(block: Buffer): boolean {
  return isZeroBlock(block);
}

export function content(data: Buffer): BlockContent {
  const copy = Buffer.from(data);
  return { hash: sha256(copy), make: () => Buffer.from(copy) };
}

/** A block of the given kind, from a seed: random (incompressible), text (compressible) or zeros. */
export function makeBlock(kind: BlockKind, seed: string): Buffer {
  if (kind === "zero") return Buffer.alloc(BLOCK_SIZE);
  if (kind === "text") return textBlock(Number.parseInt(sha256(Buffer.from(seed)).slice(0, 7), 16));
  return seededBytes(seed, BLOCK_SIZE);
}

export function generated(kind: BlockKind, seed: string): BlockContent | null {
  if (kind === "zero") return null;
  const hash = sha256(makeBlock(kind, seed));
  return { hash, make: () => makeBlock(kind, seed) };
}

export function randomKind(rng: Prng): BlockKind {
  const x = rng.next();
  return x < 0.6 ? "random" : x < 0.9 ? "text" : "zero";
}

export function hashes(map: BlockMap): Map<number, string> {
  return new Map([...map].map(([b, c]) => [b, c.hash]));
}

/** Differences between an expected and an actual block -> hash map, as a short sentence (or null). */
export function compareMaps(expected: Map<number, string>, actual: Map<number, string>): string | null {
  const wrong: number[] = [];
  for (const b of new Set([...expected.keys(), ...actual.keys()])) {
    if (expected.get(b) !== actual.get(b)) wrong.push(b);
  }
  if (wrong.length === 0) return null;
  wrong.sort((x, y) => x - y);
  const show = wrong
    .slice(0, 4)
    .map(
      (b) =>
        `block ${b}: expected ${expected.get(b)?.slice(0, 8) ?? "zeros"}, found ${actual.get(b)?.slice(0, 8) ?? "zeros"}`,
    );
  return `${wrong.length} blocks differ (${show.join("; ")}${wrong.length > 4 ? "; ..." : ""})`;
}

/** A volume as the harness expects it. */
export class VolumeModel {
  readonly id: string;
  readonly region: string;
  readonly blocks: BlockMap;
  /** Blocks under a write that was never acknowledged: old, new or torn, read back after restart. */
  readonly unknown = new Set<number>();
  /** The map of the volume's last completed snapshot (or its source): the chunks it keeps live. */
  base: Map<number, string>;

  constructor(id: string, region: string, blocks: BlockMap = new Map()) {
    this.id = id;
    this.region = region;
    this.blocks = new Map(blocks);
    this.base = hashes(blocks);
  }

  /** A copy of the expected content now (what a snapshot begun now must hold). */
  snapshot(): BlockMap {
    return new Map(this.blocks);
  }

  set(block: number, c: BlockContent | null): void {
    if (c) this.blocks.set(block, c);
    else this.blocks.delete(block);
  }

  /** The highest block that may hold data, plus one (reads past it expect zeros only). */
  get extent(): number {
    return Math.max(0, ...[...this.blocks.keys(), ...this.unknown].map((b) => b + 1));
  }
}

export interface SnapshotModel {
  id: string;
  region: string;
  blocks: Map<number, string>;
}
