// bench:scale, part two: the real engine's first snapshot and full restore read of one volume of
// mixed content (random, text-like and zero blocks), with packs in the data dir and with packs in
// a real Ceph RGW bucket, in one run; objects and bytes stored per GiB of volume.
import { createCipheriv, createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "../src/services/engine.ts";
import type { RegionStorage } from "../src/services/regions/region-stores.ts";
import { BLOCK_SIZE } from "../src/storage/blocks.ts";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const READ_SIZE = 16 * MiB;
const READS_OUTSTANDING = 4;

export interface EngineRow {
  store: string;
  snapshotSeconds: number;
  restoreSeconds: number;
  packs: number;
  packBytes: number;
  storedBytes: number;
  volumeBytes: number;
}

/** Block i: a third random, a third text-like, a third zeros (deterministic). */
function block(i: number): Buffer {
  const kind = (i * 7919) % 3;
  if (kind === 2) return Buffer.alloc(BLOCK_SIZE);
  if (kind === 0) {
    const key = createHash("sha256").update(`scale-${i}`).digest();
    const c = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
    return c.update(Buffer.alloc(BLOCK_SIZE));
  }
  const line = `${i} lorem ipsum dolor sit amet, block ${i * 31} of the scale benchmark; `;
  return Buffer.from(line.repeat(Math.ceil(BLOCK_SIZE / line.length))).subarray(0, BLOCK_SIZE);
}

export async function engineRun(name: string, storage: RegionStorage, volumeGiB: number): Promise<EngineRow> {
  const dataDir = mkdtempSync(join(tmpdir(), "strata-bench-scale-"));
  const engine = await Engine.open({
    dataDir,
    regions: ["us-east-1"],
    backgroundHydration: false,
    storage: () => storage,
  });
  try {
    const r = engine.region("us-east-1");
    const volumeBytes = volumeGiB * GiB;
    const v = await r.volumes.create({ sizeGiB: volumeGiB });
    const h = await r.volumes.handle(v.id);
    const expected = createHash("sha256");
    const perWrite = (8 * MiB) / BLOCK_SIZE;
    for (let b = 0; b < volumeBytes / BLOCK_SIZE; b += perWrite) {
      const data = Buffer.concat(Array.from({ length: perWrite }, (_, k) => block(b + k)));
      expected.update(data);
      await h.write(b * BLOCK_SIZE, data);
    }
    const t0 = performance.now();
    const s = await r.snapshots.wait((await r.snapshots.create(v.id)).id);
    const snapshotSeconds = (performance.now() - t0) / 1000;
    if (s.state !== "completed") throw new Error(`${name}: snapshot ${s.state}: ${s.stateMessage}`);
    const totals = await r.blocks.index.packTotals();
    const restored = await r.volumes.handle((await r.volumes.create({ snapshotId: s.id })).id);
    const got = createHash("sha256");
    const inflight: Promise<Buffer>[] = [];
    const t1 = performance.now();
    for (let offset = 0; offset < volumeBytes || inflight.length > 0; ) {
      while (inflight.length < READS_OUTSTANDING && offset < volumeBytes) {
        inflight.push(restored.read(offset, READ_SIZE));
        offset += READ_SIZE;
      }
      got.update(await inflight.shift()!);
    }
    const restoreSeconds = (performance.now() - t1) / 1000;
    if (got.digest("hex") !== expected.digest("hex")) throw new Error(`${name}: restored bytes differ`);
    return {
      store: name,
      snapshotSeconds,
      restoreSeconds,
      packs: totals.packs,
      packBytes: totals.bytes,
      storedBytes: s.bytesStored,
      volumeBytes,
    };
  } finally {
    await engine.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function engineTable(rows: EngineRow[]): string {
  const mbs = (bytes: number, s: number) => `${(bytes / 1e6 / s).toFixed(0)} MB/s (${s.toFixed(2)} s)`;
  const lines = [
    "| packs in | first snapshot | full restore read (lazy, verified) | packs per GiB | bytes stored per GiB |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const r of rows) {
    const gib = r.volumeBytes / GiB;
    lines.push(
      `| ${r.store} | ${mbs(r.volumeBytes, r.snapshotSeconds)} | ${mbs(r.volumeBytes, r.restoreSeconds)} | ${(r.packs / gib).toFixed(1)} | ${(r.packBytes / gib / MiB).toFixed(0)} MiB |`,
    );
  }
  return lines.join("\n");
}
