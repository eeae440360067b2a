// Scale benchmark. Part one: raw PackStore throughput, a local directory against a real Ceph RGW
// (memstore, loopback) through S3PackStore, in one run. Run: `npm run bench:scale`.
// Per store: put N packs of 16 MiB one after another, put N more with 4 in flight, read the first
// N back by 512 KiB ranges with 16 in flight (content checked), list, delete. Prints a markdown table.
// Part two (scale-engine.ts): the engine's first snapshot and restore, packs local vs in RGW.
// Part three (scale-describe.ts): describe latency, catalog in PostgreSQL vs SQLite.
// Not a timed test: it exits non-zero only on an error. BENCH_PACKS=N changes N (default 64),
// BENCH_VOLUME_GIB the volume of part two (default 1).
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { LocalPackStore } from "../src/storage/chunks/local-pack-store.ts";
import type { PackStore } from "../src/storage/chunks/pack-store.ts";
import { S3PackStore } from "../src/storage/chunks/s3-pack-store.ts";
import { startRgw } from "../test/servers/rgw.ts";
import { describeRun, describeTable } from "./scale-describe.ts";
import { type EngineRow, engineRun, engineTable } from "./scale-engine.ts";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const PACK_BYTES = 16 * MiB;
const PACKS = Number(process.env.BENCH_PACKS ?? 64);
const RANGE_BYTES = 512 * 1024;
const PUTS_IN_FLIGHT = 4;
const READS_IN_FLIGHT = 16;

interface Row {
  store: string;
  phase: string;
  ops: number;
  bytes: number;
  seconds: number;
}

// One random 16 MiB base; each pack differs in its first 16 bytes (its id), so no layer can dedupe.
const base = randomBytes(PACK_BYTES);
function packBytes(id: string): Buffer {
  const b = Buffer.from(base);
  b.write(id, 0, "hex");
  return b;
}
const newId = () => randomBytes(16).toString("hex");

/** Runs `count` jobs with at most `inFlight` at once. */
async function pool(count: number, inFlight: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(inFlight, count) }, async () => {
      while (next < count) await job(next++);
    }),
  );
}

async function timed(
  rows: Row[],
  store: string,
  phase: string,
  ops: number,
  bytes: number,
  run: () => Promise<void>,
) {
  const t0 = performance.now();
  await run();
  rows.push({ store, phase, ops, bytes, seconds: (performance.now() - t0) / 1000 });
}

/** What the backend holds for the packs put so far: its own objects and bytes. */
interface Footprint {
  objects: number;
  bytes: number;
  what: string;
}

async function benchStore(
  name: string,
  store: PackStore,
  rows: Row[],
  footprint: () => Promise<Footprint>,
): Promise<void> {
  const sequential = Array.from({ length: PACKS }, newId);
  const parallel = Array.from({ length: PACKS }, newId);
  const total = PACKS * PACK_BYTES;
  await timed(rows, name, "put 16 MiB, sequential", PACKS, total, async () => {
    for (const id of sequential) await store.put(id, packBytes(id));
  });
  await timed(rows, name, `put 16 MiB, ${PUTS_IN_FLIGHT} in flight`, PACKS, total, () =>
    pool(PACKS, PUTS_IN_FLIGHT, (i) => store.put(parallel[i], packBytes(parallel[i]))),
  );
  const held = await footprint();
  const perGiB = GiB / (2 * total);
  footprints.push(
    `${name}: per GiB of packs, ${(held.objects * perGiB).toFixed(0)} ${held.what} objects and ` +
      `${((held.bytes * perGiB) / MiB).toFixed(0)} MiB held`,
  );
  const rangesPerPack = PACK_BYTES / RANGE_BYTES;
  const ranges = PACKS * rangesPerPack;
  const expected = new Map(sequential.map((id) => [id, packBytes(id)]));
  let mismatches = 0;
  await timed(rows, name, `read 512 KiB ranges, ${READS_IN_FLIGHT} in flight`, ranges, total, () =>
    pool(ranges, READS_IN_FLIGHT, async (i) => {
      const id = sequential[i % PACKS];
      const offset = Math.floor(i / PACKS) * RANGE_BYTES;
      const got = await store.read(id, offset, RANGE_BYTES);
      const want = expected.get(id)!.subarray(offset, offset + RANGE_BYTES);
      if (!got.equals(want)) mismatches++;
    }),
  );
  if (mismatches > 0) throw new Error(`${name}: ${mismatches} ranges read back wrong`);
  let listed = 0;
  await timed(rows, name, "list", 2 * PACKS, 0, async () => {
    for await (const _ of store.list()) listed++;
  });
  if (listed !== 2 * PACKS) throw new Error(`${name}: listed ${listed} packs, put ${2 * PACKS}`);
  await timed(rows, name, `delete, ${PUTS_IN_FLIGHT} in flight`, 2 * PACKS, 0, () =>
    pool(2 * PACKS, PUTS_IN_FLIGHT, (i) => store.delete(i < PACKS ? sequential[i] : parallel[i - PACKS])),
  );
}

function table(rows: Row[]): string {
  const lines = ["| store | phase | ops | MiB | s | MiB/s | ops/s |", "|---|---|---:|---:|---:|---:|---:|"];
  for (const r of rows) {
    const mib = r.bytes / MiB;
    lines.push(
      `| ${r.store} | ${r.phase} | ${r.ops} | ${mib || "-"} | ${r.seconds.toFixed(2)} | ${
        mib ? (mib / r.seconds).toFixed(0) : "-"
      } | ${(r.ops / r.seconds).toFixed(0)} |`,
    );
  }
  return lines.join("\n");
}

const rows: Row[] = [];
const footprints: string[] = [];
console.log(`# PackStore throughput (${PACKS} packs of 16 MiB per put phase)`);
console.log(
  `machine: ${availableParallelism()} cpus (${cpus()[0]?.model}), load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}, node ${process.version}`,
);
console.log(
  `per GiB stored: ${GiB / PACK_BYTES} pack objects (PUTs); reading it back by 512 KiB ranges: ${GiB / RANGE_BYTES} GETs`,
);

const dir = mkdtempSync(join(tmpdir(), "strata-scale-bench-"));
try {
  await benchStore(`local (${tmpdir()})`, new LocalPackStore(dir), rows, async () => {
    const packs = join(dir, "packs");
    const files = execFileSync("find", [packs, "-type", "f"], { encoding: "utf8" }).trim().split("\n");
    const allocated = Number(execFileSync("du", ["-s", "-B1", packs], { encoding: "utf8" }).split("\t")[0]);
    return { objects: files.length, bytes: allocated, what: "file" };
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// Both put phases stay in memstore (RGW frees deleted objects' tails only hours later): room for
// them and RGW's own pools, well under the full ratio at which Ceph would block writes.
const rgw = await startRgw({ memBytes: Math.max(GiB, 3 * PACKS * PACK_BYTES) });
console.log(`RGW (memstore) started in ${(rgw.startMs / 1000).toFixed(1)} s at ${rgw.endpoint}`);
try {
  await rgw.createBucket("scale-bench");
  const store = new S3PackStore({
    endpoint: rgw.endpoint,
    region: "us-east-1",
    bucket: "scale-bench",
    credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
  });
  await store.check();
  await benchStore("RGW (S3PackStore)", store, rows, async () => {
    // Each S3 object is a head RADOS object plus 4 MiB stripes (rados df needs a mgr: none runs).
    const rados = (await rgw.cephTool("rados", "-p", "default.rgw.buckets.data", "ls")).trim().split("\n");
    const stats = JSON.parse(
      await rgw.cephTool("radosgw-admin", "bucket", "stats", "--bucket=scale-bench"),
    ) as {
      usage: { "rgw.main": { size_actual: number } };
    };
    return { objects: rados.length, bytes: stats.usage["rgw.main"].size_actual, what: "RADOS" };
  });
  store.close();
} finally {
  await rgw.stop();
}
console.log();
console.log(table(rows));
console.log();
for (const f of footprints) console.log(f);
console.log(
  `\nlocal reads come mostly from the page cache (the packs were just written); RGW is memstore on loopback,` +
    ` so both are upper bounds for the code path, not for disks or a network.`,
);

// Part two: the engine's first snapshot and restore read, packs local vs in RGW, in one run.
const VOLUME_GIB = Number(process.env.BENCH_VOLUME_GIB ?? 1);
console.log(`\n# Engine: first snapshot and full restore read of a ${VOLUME_GIB} GiB volume (mixed content)`);
const engineRows: EngineRow[] = [await engineRun("data dir (local packs)", {}, VOLUME_GIB)];
const rgw2 = await startRgw({ memBytes: Math.max(GiB, 3 * VOLUME_GIB * GiB) });
try {
  await rgw2.createBucket("scale-engine");
  engineRows.push(
    await engineRun(
      "RGW bucket (S3PackStore)",
      {
        packs: {
          type: "s3",
          endpoint: rgw2.endpoint,
          bucket: "scale-engine",
          accessKeyId: rgw2.accessKeyId,
          secretAccessKey: rgw2.secretAccessKey,
        },
      },
      VOLUME_GIB,
    ),
  );
} finally {
  await rgw2.stop();
}
console.log();
console.log(engineTable(engineRows));

// Part three: describe latency, the catalog in PostgreSQL vs SQLite.
console.log("\n# Describe latency: CatalogStore.imagesVisibleTo as DescribeImages calls it");
console.log();
console.log(describeTable(await describeRun()));
