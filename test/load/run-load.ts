// Runs the load (test/load.test.ts asserts on it, bench/load.bench.ts prints it): accounts with a
// private "sentinel" image each, CLIENTS SDK clients spread over them running cycles for a bounded
// time, the daemon's RSS sampled throughout, and the /health endpoint under the same concurrency
// as the reference. Plain module (no node:test hooks), so the benchmark can use it too.
import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeImagesCommand,
  DescribeKeyPairsCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  RegisterImageCommand,
  waitUntilSnapshotCompleted,
} from "@aws-sdk/client-ec2";
import { AdminClient } from "../../src/cli/admin-client.ts";
import { type Account, createAccount } from "../ec2-helpers.ts";
import { CycleFailed, type LoadClient, runCycle } from "./cycle.ts";
import { type AfterGc, CLASSES, MiB, percentile, Recorder, RssSampler } from "./measure.ts";

export interface LoadAccount extends Account {
  sentinelImageId: string;
}

const sdk = (url: string, account: Account, region: string) =>
  new EC2Client({ endpoint: url, region, credentials: account, maxAttempts: 1 });

/** `count` accounts, each with one private image (and its volume and snapshot) in us-east-1. */
export async function prepareAccounts(url: string, dataDir: string, count: number): Promise<LoadAccount[]> {
  const out: LoadAccount[] = [];
  for (let i = 0; i < count; i++) {
    const account = await createAccount(dataDir, `load-${i}`);
    const client = sdk(url, account, "us-east-1");
    const vol = await client.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a" }));
    const snap = await client.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId }));
    await waitUntilSnapshotCompleted(
      { client, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
      { SnapshotIds: [snap.SnapshotId!] },
    );
    const image = await client.send(
      new RegisterImageCommand({
        Name: `sentinel-${i}`,
        RootDeviceName: "/dev/xvda",
        BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: snap.SnapshotId } }],
      }),
    );
    client.destroy();
    out.push({ ...account, sentinelImageId: image.ImageId! });
  }
  return out;
}

/**
 * One client per index, round-robin over the accounts; each knows the next account's private
 * image. `tag` keeps the names of different phases' cycles apart.
 */
export function makeClients(
  url: string,
  adminSocket: string,
  accounts: LoadAccount[],
  count: number,
  tag = "",
): LoadClient[] {
  return Array.from({ length: count }, (_, index) => {
    const account = accounts[index % accounts.length];
    const us = sdk(url, account, "us-east-1");
    const eu = sdk(url, account, "eu-west-1");
    return {
      index,
      name: `${tag}${index}`,
      us,
      eu,
      adminUs: new AdminClient(adminSocket, "us-east-1", account.accountId),
      adminEu: new AdminClient(adminSocket, "eu-west-1", account.accountId),
      foreignImageId: accounts[(index + 1) % accounts.length].sentinelImageId,
      destroy() {
        us.destroy();
        eu.destroy();
      },
    };
  });
}

/** GET /health latencies (ms) from `clients` concurrent loops for `seconds`: the HTTP floor. */
export async function healthReference(url: string, clients: number, seconds: number): Promise<number[]> {
  const out: number[] = [];
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        const res = await fetch(`${url}/health`);
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`/health: HTTP ${res.status}`);
        out.push(performance.now() - t);
      }
    }),
  );
  return out;
}

export interface LoadOptions {
  pid: number;
  /** The daemon's admin socket, through which each client writes and reads its volumes' bytes. */
  adminSocket: string;
  clients: number;
  /** Length of the measured phase: no client starts a cycle after it; cycles under way finish. */
  seconds: number;
  /**
   * Cycles each client runs first, unmeasured. The daemon's RSS rises over the first ~150 cycles
   * of this load (allocator arenas and worker heaps reaching their working size), then levels.
   */
  warmupCycles: number;
  /** Each phase must have finished by then, or the run is a failure. */
  hardLimitSeconds: number;
  /** Collects the daemon's garbage before each idle reading (when it was started for that). */
  collectGarbage?: (pid: number) => Promise<AfterGc>;
}

/** The idle daemon: its RSS, and its main thread's heap after a full GC where one was asked for. */
export interface IdleMemory {
  rss: number;
  afterGc?: AfterGc;
}

export interface LoadResult {
  /** The measured phase only (the warm-up's answers are checked, not timed). */
  rec: Recorder;
  warmup: Recorder;
  seconds: number;
  warmupSeconds: number;
  /**
   * Idle readings at start, after the warm-up and after the measured phase (every cycle finished,
   * all it created deleted): alike but for what the daemon kept. Bytes.
   */
  memory: { start: IdleMemory; warm: IdleMemory; end: IdleMemory };
  /** RSS sampled during the measured phase. */
  rss: { max: number; samples: { t: number; rss: number }[] };
  clientsWithCycles: number;
}

/** The lowest RSS over `ms` of the idle daemon, after a full GC where it can be asked for one. */
async function idle(
  pid: number,
  collect?: (pid: number) => Promise<AfterGc>,
  ms = 2000,
): Promise<IdleMemory> {
  const afterGc = await collect?.(pid);
  const sampler = new RssSampler(pid, 100);
  await new Promise((r) => setTimeout(r, ms));
  sampler.stop();
  return { rss: Math.min(...sampler.samples.map((s) => s.rss)), afterGc };
}

/** Every client runs cycles until `stop()` says so (checked before each cycle). */
async function phase(
  clients: LoadClient[],
  rec: Recorder,
  stop: (cyclesDone: number) => boolean,
  hardLimitSeconds: number,
): Promise<Set<number>> {
  const done = new Set<number>();
  const work = Promise.all(
    clients.map(async (c) => {
      for (let cycle = 0; !stop(cycle); cycle++) {
        try {
          await runCycle(c, cycle, rec);
        } catch (e) {
          if (!(e instanceof CycleFailed)) rec.unexpected.push(`client ${c.index}: ${(e as Error).stack}`);
          return;
        }
        done.add(c.index);
      }
    }),
  );
  let limit: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((r) => {
    limit = setTimeout(() => r("late"), hardLimitSeconds * 1000);
  });
  if ((await Promise.race([work, late])) === "late") {
    rec.unexpected.push(`a load phase did not finish within ${hardLimitSeconds} s`);
  }
  clearTimeout(limit);
  return done;
}

/**
 * Warm-up (every client runs `warmupCycles` cycles), the idle RSS, the measured phase (`seconds`), the idle
 * RSS again. Cycles are named by client and cycle number, so the phases use distinct numbers.
 */
export async function runLoad(url: string, accounts: LoadAccount[], o: LoadOptions): Promise<LoadResult> {
  const start = await idle(o.pid, o.collectGarbage);
  const warmup = new Recorder();
  const t0 = performance.now();
  const warmClients = makeClients(url, o.adminSocket, accounts, o.clients, "w");
  await phase(warmClients, warmup, (n) => n >= o.warmupCycles, o.hardLimitSeconds);
  for (const c of warmClients) c.destroy();
  const warmupSeconds = (performance.now() - t0) / 1000;
  const warm = await idle(o.pid, o.collectGarbage);

  const rec = new Recorder();
  rec.unexpected.push(...warmup.unexpected);
  const sampler = new RssSampler(o.pid);
  const t1 = performance.now();
  const elapsed = () => (performance.now() - t1) / 1000;
  const clients = makeClients(url, o.adminSocket, accounts, o.clients, "m");
  const done = await phase(clients, rec, () => elapsed() >= o.seconds, o.hardLimitSeconds);
  for (const c of clients) c.destroy();
  const seconds = elapsed();
  sampler.stop();
  const end = await idle(o.pid, o.collectGarbage);
  return {
    rec,
    warmup,
    seconds,
    warmupSeconds,
    memory: { start, warm, end },
    rss: { max: sampler.max, samples: sampler.samples },
    clientsWithCycles: done.size,
  };
}

/** Resources the accounts still hold beyond their sentinel (volume, snapshot, image): none expected. */
export async function leftovers(url: string, accounts: LoadAccount[]): Promise<string[]> {
  const out: string[] = [];
  for (const account of accounts) {
    for (const region of ["us-east-1", "eu-west-1"]) {
      const client = sdk(url, account, region);
      const sentinel = region === "us-east-1" ? 1 : 0;
      const volumes = (await client.send(new DescribeVolumesCommand({}))).Volumes ?? [];
      const snapshots =
        (await client.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }))).Snapshots ?? [];
      const images = (await client.send(new DescribeImagesCommand({ Owners: ["self"] }))).Images ?? [];
      const keys = (await client.send(new DescribeKeyPairsCommand({}))).KeyPairs ?? [];
      client.destroy();
      const extra = (what: string, n: number, allowed: number) => {
        if (n !== allowed) out.push(`${account.accountId} ${region}: ${n} ${what} (expected ${allowed})`);
      };
      extra("volumes", volumes.length, sentinel);
      extra("snapshots", snapshots.length, sentinel);
      extra("images", images.length, sentinel);
      extra("key pairs", keys.length, 0);
    }
  }
  return out;
}

/** The figures as a Markdown table, each class beside the /health reference measured in the same run. */
export function report(result: LoadResult, health: number[], clients: number): string {
  const floor = percentile(health, 50);
  const lines = [
    `${clients} concurrent SDK clients, ${result.seconds.toFixed(1)} s measured after a ${result.warmupSeconds.toFixed(1)} s warm-up, ` +
      `${result.rec.cycles} cycles, ` +
      `${result.rec.requests} EC2 requests (${(result.rec.requests / result.seconds).toFixed(0)}/s), ` +
      `${result.rec.contentChecks} cross-region restores checked by hash`,
    "",
    "| action class | requests | p50 ms | p99 ms | p50 / health p50 |",
    "| --- | ---: | ---: | ---: | ---: |",
    `| GET /health (reference, same concurrency) | ${health.length} | ${floor.toFixed(1)} | ${percentile(health, 99).toFixed(1)} | 1.0x |`,
  ];
  for (const cls of CLASSES) {
    const v = result.rec.latencies.get(cls)!;
    const p50 = percentile(v, 50);
    lines.push(
      `| ${cls} | ${v.length} | ${p50.toFixed(1)} | ${percentile(v, 99).toFixed(1)} | ${(p50 / floor).toFixed(1)}x |`,
    );
  }
  const mb = (b: number) => `${(b / MiB).toFixed(1)} MiB`;
  const { start, warm, end } = result.memory;
  const gcNote = (m: IdleMemory) =>
    m.afterGc
      ? ` (main-thread heap ${mb(m.afterGc.heapUsed)}, buffers ${mb(m.afterGc.arrayBuffers)} after GC)`
      : "";
  lines.push(
    "",
    `Expected errors: ${[...result.rec.expectedErrors].map(([k, n]) => `${k} x${n}`).join(", ") || "none"}; ` +
      `unexpected: ${result.rec.unexpected.length}.`,
    `Daemon idle RSS: ${mb(start.rss)} at start${gcNote(start)}, ${mb(warm.rss)} after the warm-up${gcNote(warm)}, ` +
      `${mb(end.rss)} at the end${gcNote(end)}; end - warm-up = ${mb(end.rss - warm.rss)}. ` +
      `Max under load ${mb(result.rss.max)}.`,
    `RSS over the measured phase (s: MiB): ${trajectory(result.rss.samples, 12)}.`,
  );
  return lines.join("\n");
}

/** `points` evenly spaced samples, as "t: MiB" pairs. */
function trajectory(samples: { t: number; rss: number }[], points: number): string {
  const step = Math.max(1, Math.floor(samples.length / points));
  const picked = samples.filter((_, i) => i % step === 0 || i === samples.length - 1);
  return picked.map((s) => `${s.t.toFixed(0)}: ${(s.rss / MiB).toFixed(0)}`).join(", ");
}
