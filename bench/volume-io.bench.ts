// Random I/O on a few volumes through the real engine (in-process): what the volume layer itself
// costs per operation (the data stays in the page cache, so the numbers are the engine's overhead,
// not the disk's). Run: `bin/node bench/volume-io.bench.ts [--max-open-volume-files N]`.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Engine } from "../src/services/engine.ts";
import type { VolumeHandle } from "../src/services/volumes/volume-handle.ts";
import { GIB } from "../src/storage/blocks.ts";

const VOLUMES = 4;
// 2 TiB: two 1 TiB segment files each, so the I/O spreads over several descriptors per volume.
const VOLUME_GIB = 2048;
const OPS_PER_VOLUME = 16000;
const OUTSTANDING_PER_VOLUME = 8;
const REPEATS = 5;
// A few distinct regions of each segment (so reads hit written data and the page cache stays small).
const SPOTS = 256;

const { values } = parseArgs({ options: { "max-open-volume-files": { type: "string" } } });
const limit = values["max-open-volume-files"];

function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** An offset at one of SPOTS places spread over the whole volume (both segments). */
function offsets(seed: number, count: number, size: number): number[] {
  const next = xorshift(seed);
  const span = VOLUME_GIB * GIB;
  return Array.from({ length: count }, () => {
    const spot = Math.floor(next() * SPOTS);
    const within = Math.floor(next() * (1024 * 1024 - size));
    return Math.floor((spot * span) / SPOTS) + within;
  });
}

async function drive(
  handles: VolumeHandle[],
  size: number,
  op: (h: VolumeHandle, offset: number) => Promise<unknown>,
): Promise<{ seconds: number; cpuSeconds: number }> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    handles.map(async (h, i) => {
      const todo = offsets(i + 1, OPS_PER_VOLUME, size);
      await Promise.all(
        Array.from({ length: OUTSTANDING_PER_VOLUME }, async () => {
          for (let o = todo.pop(); o !== undefined; o = todo.pop()) await op(h, o);
        }),
      );
    }),
  );
  const used = process.cpuUsage(cpu);
  return { seconds: (performance.now() - start) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
}

const dir = mkdtempSync(join(tmpdir(), "strata-volume-io-"));
try {
  const engine = await Engine.open({
    dataDir: dir,
    regions: ["us-east-1"],
    backgroundHydration: false,
    ...(limit ? { maxOpenVolumeFiles: Number(limit) } : {}),
  });
  const r = engine.region("us-east-1");
  const handles: VolumeHandle[] = [];
  for (let i = 0; i < VOLUMES; i++) {
    const v = await r.volumes.create({ sizeGiB: VOLUME_GIB });
    handles.push(await r.volumes.handle(v.id));
  }
  const total = VOLUMES * OPS_PER_VOLUME;
  console.log(
    `${VOLUMES} volumes of ${VOLUME_GIB} GiB, ${OUTSTANDING_PER_VOLUME} ops outstanding per volume, ` +
      `${total} ops per run, best of ${REPEATS}${limit ? `, max open volume files ${limit}` : ""}`,
  );
  for (const size of [4096, 65536]) {
    const data = randomBytes(size);
    const runs = {
      write: [] as { seconds: number; cpuSeconds: number }[],
      read: [] as { seconds: number; cpuSeconds: number }[],
    };
    for (let i = 0; i < REPEATS; i++) {
      runs.write.push(await drive(handles, size, (h, o) => h.write(o, data)));
      runs.read.push(await drive(handles, size, (h, o) => h.read(o, size)));
    }
    for (const [kind, xs] of Object.entries(runs)) {
      const best = Math.min(...xs.map((x) => x.seconds));
      const cpu = Math.min(...xs.map((x) => x.cpuSeconds));
      console.log(
        `random ${kind} ${size / 1024} KiB: ${(total / best).toFixed(0)} ops/s, ` +
          `${((total * size) / best / 1e6).toFixed(1)} MB/s, ${((cpu / total) * 1e6).toFixed(1)} µs CPU/op ` +
          `(runs ${xs.map((x) => x.seconds.toFixed(2)).join(", ")} s)`,
      );
    }
  }
  const flushStart = performance.now();
  await Promise.all(handles.map((h) => h.flush()));
  console.log(`flush of all volumes: ${((performance.now() - flushStart) / 1000).toFixed(2)} s`);
  await engine.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
