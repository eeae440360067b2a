// The storage benchmark's content: a 1 GiB disk of runs of random, text-like and zero blocks,
// deterministic (the same bytes in every run and on every machine).
import { createCipheriv, createHash } from "node:crypto";
import { BLOCK_SIZE } from "../src/storage/blocks.ts";

export type Kind = "random" | "text" | "zero";

/** xorshift32: fast and good enough for picking words and run lengths. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** Runs of 1-32 blocks cycling random -> text -> zero: about a third each, laid out like a disk. */
export function layout(blocks: number): Kind[] {
  const kinds: Kind[] = ["random", "text", "zero"];
  const next = prng(42);
  const out: Kind[] = [];
  for (let run = 0; out.length < blocks; run++) {
    const len = 1 + (next() % 32);
    for (let i = 0; i < len && out.length < blocks; i++) out.push(kinds[run % 3]);
  }
  return out;
}

/** Incompressible bytes: an AES-CTR keystream, keyed by seed, one IV per block. */
export function randomBlock(seed: string, block: number): Buffer {
  const key = createHash("sha256").update(seed).digest();
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(block, 0);
  return createCipheriv("aes-256-ctr", key, iv).update(Buffer.alloc(BLOCK_SIZE));
}

const LEVELS = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"];
const SERVICES = ["api", "scheduler", "snapshotter", "hydrator", "gc", "auth", "billing", "proxy"];
const METHODS = ["GET", "GET", "GET", "POST", "PUT", "DELETE"];
const PATHS = ["/v1/volumes", "/v1/snapshots", "/v1/images", "/v1/regions", "/healthz", "/metrics"];
const STATUSES = [200, 200, 200, 200, 201, 204, 304, 400, 404, 500];

/** A compressible, log-like block: a small vocabulary with varying numbers, unique per block. */
function textBlock(block: number): Buffer {
  const next = prng(block * 2654435761 + 7);
  const out = Buffer.allocUnsafe(BLOCK_SIZE);
  let t = 1_700_000_000 + block * 3600;
  for (let pos = 0; pos < BLOCK_SIZE; ) {
    t += next() % 3;
    const line =
      `${t}.${String(next() % 1000).padStart(3, "0")} ${LEVELS[next() % 6]} ` +
      `[${SERVICES[next() % 8]}-${next() % 16}] ` +
      `${METHODS[next() % 6]} ${PATHS[next() % 6]}/${next() % 5000} ` +
      `status=${STATUSES[next() % 10]} bytes=${next() % 65536} ms=${next() % 900}\n`;
    pos += out.write(line, pos, "latin1");
  }
  return out;
}

export function blockContent(kind: Kind, block: number): Buffer {
  if (kind === "random") return randomBlock("strata-bench", block);
  if (kind === "text") return textBlock(block);
  return Buffer.alloc(BLOCK_SIZE);
}
