// Ranged pack reads from a real Ceph RGW (memstore, loopback) through S3PackStore.read: the hot
// path of a restore from a bucket, alone. Puts PACKS packs of 16 MiB, then reads them all back by
// ranges of each size given, with each in-flight count given, content checked on the first pass.
// Prints wall time, MB/s, and CPU-seconds per GiB read of this process and of the RGW's daemons.
// Run: bin/node bench/s3-read.bench.ts [--packs N] [--ranges 512K,2M,8M] [--in-flight 4,16] [--rounds 3]
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { S3PackStore } from "../src/storage/chunks/s3-pack-store.ts";
import { startRgw } from "../test/servers/rgw.ts";

const { values: flags } = parseArgs({
  options: {
    packs: { type: "string", default: "32" },
    ranges: { type: "string", default: "512K,2M,8M" },
    "in-flight": { type: "string", default: "4,16" },
    rounds: { type: "string", default: "3" },
    reuse: { type: "boolean", default: false },
  },
});
const MiB = 1024 * 1024;
const PACK_BYTES = 16 * MiB;
const PACKS = Number(flags.packs);
const size = (s: string) => Number.parseInt(s, 10) * (s.endsWith("M") ? MiB : s.endsWith("K") ? 1024 : 1);
const RANGES = flags.ranges.split(",").map(size);
const IN_FLIGHT = flags["in-flight"].split(",").map(Number);
const ROUNDS = Number(flags.rounds);

const base = randomBytes(PACK_BYTES);
const ids = Array.from({ length: PACKS }, () => randomBytes(16).toString("hex"));
const packBytes = (id: string) => {
  const b = Buffer.from(base);
  b.write(id, 0, "hex");
  return b;
};

async function pool(count: number, inFlight: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(inFlight, count) }, async () => {
      while (next < count) await job(next++);
    }),
  );
}

const rgw = await startRgw({ memBytes: Math.max(1024 ** 3, 3 * PACKS * PACK_BYTES) });
try {
  await rgw.createBucket("read-bench");
  const store = new S3PackStore({
    endpoint: rgw.endpoint,
    region: "us-east-1",
    bucket: "read-bench",
    credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
  });
  await pool(PACKS, 4, (i) => store.put(ids[i], packBytes(ids[i])));
  console.log(
    `| range | in flight | wall (median of ${ROUNDS}) | MB/s | client CPU-s per GiB (median) | RGW CPU-s per GiB (median) |`,
  );
  console.log("| --- | --- | --- | --- | --- | --- |");
  let checked = false;
  for (const range of RANGES) {
    for (const inFlight of IN_FLIGHT) {
      const perPack = PACK_BYTES / range;
      const spare = Array.from({ length: inFlight }, () => Buffer.from(new SharedArrayBuffer(range)));
      const walls: number[] = [];
      const cpus: number[] = [];
      const rgwCpus: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const rgw0 = rgw.cpuSeconds();
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        await pool(PACKS * perPack, inFlight, async (i) => {
          const id = ids[Math.floor(i / perPack)];
          const offset = (i % perPack) * range;
          const into = flags.reuse ? spare.pop() : undefined;
          const got = await store.read(id, offset, range, into);
          if (!checked && !got.equals(packBytes(id).subarray(offset, offset + range))) {
            throw new Error(`pack ${id} at ${offset}: wrong bytes`);
          }
          if (into) spare.push(into);
        });
        checked = true;
        walls.push((performance.now() - t0) / 1000);
        const cpu = process.cpuUsage(cpu0);
        cpus.push((cpu.user + cpu.system) / 1e6 / ((PACKS * PACK_BYTES) / 1024 ** 3));
        rgwCpus.push((rgw.cpuSeconds() - rgw0) / ((PACKS * PACK_BYTES) / 1024 ** 3));
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const wall = median(walls);
      console.log(
        `| ${range / 1024} KiB | ${inFlight} | ${wall.toFixed(2)} s | ${((PACKS * PACK_BYTES) / 1e6 / wall).toFixed(0)} | ${median(cpus).toFixed(2)} | ${median(rgwCpus).toFixed(2)} |`,
      );
    }
  }
  store.close();
  console.log(
    `\nload average at the end: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(", ")}`,
  );
} finally {
  await rgw.stop();
}
