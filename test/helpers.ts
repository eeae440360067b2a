import { createCipheriv, createHash } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "../src/services/engine.ts";
import type { Region } from "../src/services/regions/region.ts";
import { BLOCK_SIZE } from "../src/storage/blocks.ts";

export const MiB = 1024 * 1024;

/** A temp dir removed when the test process exits (after every hook has run). */
export function tempDir(prefix = "strata-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function openEngine(
  dataDir: string,
  regions = ["us-east-1", "eu-west-1"],
  backgroundHydration = true,
): Promise<Engine> {
  return Engine.open({ dataDir, regions, backgroundHydration });
}

/** Deterministic pseudo-random bytes (AES-CTR keystream): same seed, same bytes. */
export function seededBytes(seed: string, length: number): Buffer {
  const key = createHash("sha256").update(seed).digest();
  return createCipheriv("aes-256-ctr", key, Buffer.alloc(16)).update(Buffer.alloc(length));
}

/** A compressible, text-like block. */
export function textBlock(seed: number): Buffer {
  const words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < BLOCK_SIZE; i++) {
    const line = `${seed}:${i} ${words[(seed + i) % 8]} ${words[(i * 7) % 8]} value=${(i * 2654435761) % 99991}\n`;
    parts.push(line);
    size += line.length;
  }
  return Buffer.from(parts.join("")).subarray(0, BLOCK_SIZE);
}

export function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export { BLOCK_SIZE };

/** A stored chunk's encoded bytes where they sit on disk (a range of a local pack), to damage them in tests. */
export async function chunkOnDisk(
  region: Region,
  hash: string,
): Promise<{ get(): Buffer; set(bytes: Buffer): void }> {
  const at = (await region.blocks.index.locate([hash])).get(hash);
  if (!at?.pack) throw new Error(`chunk ${hash} is not in a pack`);
  const path = region.blocks.packs.localPath?.(at.pack);
  if (!path) throw new Error("the region's packs are not on local disk");
  return {
    get() {
      const fd = openSync(path, "r");
      try {
        const out = Buffer.alloc(at.length);
        readSync(fd, out, 0, at.length, at.offset);
        return out;
      } finally {
        closeSync(fd);
      }
    },
    set(bytes) {
      if (bytes.length !== at.length) throw new Error("a chunk's bytes are replaced in place: same length");
      const fd = openSync(path, "r+");
      try {
        writeSync(fd, bytes, 0, bytes.length, at.offset);
      } finally {
        closeSync(fd);
      }
    },
  };
}
