// Storage benchmark: the real engine in-process on a 1 GiB volume of mixed content, side by side
// with reference tools on the same bytes in the same run: sha256sum, zstd and cp, and the backup
// programs restic and borg (first backup, 1 % incremental, full restore to a file; skipped with a
// line on stderr when not installed). Strata's full restore to a file is also measured as a user
// runs it, through bin/strata against a live daemon (bench/cli-restore.ts).
// Run: `npm run bench`, or `bin/node bench/storage.bench.ts [--repeats N] [--restore-only] [--rgw]`
// (--restore-only: just the full restores to a file, Strata's CLI beside restic and borg; --rgw:
// the CLI restores' daemon keeps its packs in a throw-away Ceph RGW bucket, see rgw-packs.ts).
// Prints machine info and a markdown table; exits non-zero only on an error, not on a missed goal.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Engine } from "../src/services/engine.ts";
import type { Region } from "../src/services/regions/region.ts";
import type { VolumeHandle } from "../src/services/volumes/volume-handle.ts";
import { BLOCK_SIZE, GIB } from "../src/storage/blocks.ts";
import type { SnapshotRecord, SnapshotStats } from "../src/storage/metadata/metadata-store.ts";
import { blockContent, type Kind, layout, prng, randomBlock } from "./bench-content.ts";
import { type CliRestores, cliRestores, type RunCpu } from "./cli-restore.ts";
import {
  type BackupFigures,
  type BackupTool,
  backupTools,
  firstBackups,
  restic,
  restores,
  type SnapshotReferences,
  sha256File,
  snapshotReferences,
  zstdDecompressReference,
} from "./reference-tools.ts";
import { withRgwPacks } from "./rgw-packs.ts";

const { values: flags } = parseArgs({
  options: {
    repeats: { type: "string", default: "3" },
    "restore-only": { type: "boolean", default: false },
    rgw: { type: "boolean", default: false },
  },
});

const MB = 1e6;
const MiB = 1024 * 1024;
const VOLUME_BYTES = GIB;
const BLOCKS = VOLUME_BYTES / BLOCK_SIZE;
const WRITE_CHUNK = 8 * MiB;
const CHANGED_BLOCKS = Math.round(BLOCKS / 100);
const READ_SIZE = 16 * MiB;
const READS_OUTSTANDING = 3;
const REPEATS = Number(flags.repeats);
/** Strata's restore to a file must reach this many times restic restore's speed. */
const RESTORE_GOAL = 1.5;
const SOURCE = "us-east-1";
const DEST = "eu-west-1";

/** Generates the volume's content into the raw file, in big chunks. */
function writeRaw(rawFd: number, kinds: Kind[]): void {
  const perChunk = WRITE_CHUNK / BLOCK_SIZE;
  for (let first = 0; first < BLOCKS; first += perChunk) {
    const chunk = Buffer.concat(
      kinds.slice(first, first + perChunk).map((k, i) => blockContent(k, first + i)),
    );
    writeSync(rawFd, chunk, 0, chunk.byteLength, first * BLOCK_SIZE);
  }
}

/**
 * Copies the raw file into an engine volume, in big chunks. Zero blocks are written too, as in a
 * disk image's zeroed areas: the snapshot has to read them and find them empty.
 */
async function fillVolume(h: VolumeHandle, rawFd: number): Promise<void> {
  const chunk = Buffer.allocUnsafe(WRITE_CHUNK);
  for (let offset = 0; offset < VOLUME_BYTES; offset += WRITE_CHUNK) {
    if (readSync(rawFd, chunk, 0, WRITE_CHUNK, offset) !== WRITE_CHUNK) throw new Error("short read");
    await h.write(offset, chunk);
  }
  await h.flush();
}

/**
 * New random content in CHANGED_BLOCKS blocks spread across the volume (one per stripe), in the
 * raw file and (unless only the file is wanted) the volume.
 */
async function changeBlocks(h: VolumeHandle | undefined, rawFd: number): Promise<number[]> {
  const next = prng(1234);
  const stripe = BLOCKS / CHANGED_BLOCKS;
  const changed = Array.from({ length: CHANGED_BLOCKS }, (_, i) =>
    Math.floor(i * stripe + (next() % Math.floor(stripe))),
  );
  for (const b of changed) {
    const data = randomBlock("strata-bench-changed", b);
    writeSync(rawFd, data, 0, BLOCK_SIZE, b * BLOCK_SIZE);
    await h?.write(b * BLOCK_SIZE, data);
  }
  await h?.flush();
  return changed;
}

// --- Engine measurements ------------------------------------------------------------------------

interface Timed {
  snap: SnapshotRecord;
  seconds: number;
}

async function timedSnapshot(r: Region, volumeId: string): Promise<Timed> {
  const start = performance.now();
  const pending = await r.snapshots.create(volumeId, "bench");
  const snap = await r.snapshots.wait(pending.id);
  const seconds = (performance.now() - start) / 1000;
  if (snap.state !== "completed") throw new Error(`snapshot ${snap.id} ${snap.state}: ${snap.stateMessage}`);
  return { snap, seconds };
}

/**
 * The first snapshot of a freshly filled volume, REPEATS times, each into an empty block store
 * (the previous run's snapshot and volume are deleted). The last volume is kept.
 */
async function firstSnapshots(r: Region, rawFd: number): Promise<{ h: VolumeHandle; runs: Timed[] }> {
  const runs: Timed[] = [];
  for (;;) {
    const vol = await r.volumes.create({ sizeGiB: VOLUME_BYTES / GIB });
    const h = await r.volumes.handle(vol.id);
    await fillVolume(h, rawFd);
    const run = await timedSnapshot(r, vol.id);
    runs.push(run);
    if (runs.length === REPEATS) return { h, runs };
    await r.snapshots.delete(run.snap.id);
    await r.volumes.delete(vol.id);
    const left = await r.meta.chunkTotals();
    if (left.chunks > 0)
      throw new Error(`${left.chunks} chunks left after deleting all snapshots and volumes`);
  }
}

/**
 * Reads a freshly restored volume end to end (the engine runs without background hydration), so every
 * block is fetched on demand; each read's buffer goes to `consume` and is then dropped.
 */
async function timedRestoreRead(r: Region, snapshotId: string, consume: (part: Buffer) => void) {
  const vol = await r.volumes.create({ snapshotId });
  const h = await r.volumes.handle(vol.id);
  const inflight: Promise<Buffer>[] = [];
  const start = performance.now();
  for (let offset = 0; offset < VOLUME_BYTES || inflight.length > 0; ) {
    while (inflight.length < READS_OUTSTANDING && offset < VOLUME_BYTES) {
      inflight.push(h.read(offset, Math.min(READ_SIZE, VOLUME_BYTES - offset)));
      offset += READ_SIZE;
    }
    consume(await inflight.shift()!);
  }
  const seconds = (performance.now() - start) / 1000;
  await r.volumes.delete(vol.id);
  return seconds;
}

/** An untimed read that hashes what it gets (hashing inline would slow the timed runs). */
async function verifyRestore(r: Region, snapshotId: string, raw: string): Promise<void> {
  const hash = createHash("sha256");
  await timedRestoreRead(r, snapshotId, (part) => hash.update(part));
  const [actual, expected] = [hash.digest("hex"), await sha256File(raw)];
  if (actual !== expected) throw new Error(`restored content has SHA-256 ${actual}, expected ${expected}`);
}

async function timedCopy(engine: Engine, snapshotId: string): Promise<Timed> {
  const start = performance.now();
  const pending = await engine.copySnapshot(SOURCE, snapshotId, DEST);
  const snap = await engine.region(DEST).snapshots.wait(pending.id);
  const seconds = (performance.now() - start) / 1000;
  if (snap.state !== "completed") throw new Error(`copy ${snap.id} ${snap.state}: ${snap.stateMessage}`);
  return { snap, seconds };
}

// --- Report -------------------------------------------------------------------------------------

const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
const rate = (bytes: number, seconds: number) => bytes / MB / seconds;
const mbps = (x: number) => `${x.toFixed(0)} MB/s`;
const secs = (s: number) => `${s.toFixed(2)} s`;
const met = (ok: boolean) => (ok ? "yes" : "**no**");

function machineInfo(): string {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown";
  const zstd = execFileSync("zstd", ["--version"], { encoding: "utf8" }).trim();
  return [
    `CPU: ${cpu} x ${availableParallelism()} (nproc)`,
    `Node ${process.version}, ${zstd}`,
    `Scratch dir: ${tmpdir()}`,
    `Load average at the end (1, 5, 15 min): ${loadavg()
      .map((x) => x.toFixed(1))
      .join(", ")}`,
  ].join("\n");
}

function row(cells: string[]): string {
  return `| ${cells.join(" | ")} |`;
}

interface Results {
  kinds: Record<Kind, number>;
  ref: SnapshotReferences;
  zstdDecompress: number;
  /** The surviving first snapshot (the last run's). */
  first: SnapshotRecord;
  firstRuns: number[];
  firstSeconds: number;
  incr: Timed;
  changedBytes: number;
  restoreRuns: number[];
  restoreSeconds: number;
  copyFirst: Timed;
  copyIncr: Timed;
  stats: { first: SnapshotStats; incr: SnapshotStats };
  totals: { chunks: number; storedBytes: number };
  restoresToFile: RestoresToFile;
}

interface RestoresToFile {
  tools: BackupFigures[];
  cli: CliRestores;
}

/** "Proportional to the change": at most twice the changed bytes (encoding adds a little). */
const proportional = (bytes: number, changed: number) => bytes <= 2 * changed;

function table(x: Results): string {
  const refMBps = rate(VOLUME_BYTES, Math.max(x.ref.sha256sum, x.ref.zstd));
  const slower = x.ref.sha256sum >= x.ref.zstd ? "sha256sum" : "zstd -1 -T0";
  const firstMBps = rate(VOLUME_BYTES, x.firstSeconds);
  const vsZstd = firstMBps / rate(VOLUME_BYTES, x.ref.zstd);
  const incrShare = x.incr.seconds / x.firstSeconds;
  const bytesRead = x.incr.snap.blocksRead * BLOCK_SIZE;
  const restoreMBps = rate(VOLUME_BYTES, x.restoreSeconds);
  const zstdDMBps = rate(VOLUME_BYTES, x.zstdDecompress);
  const changed = mb(x.changedBytes);
  const logical = x.stats.first.logicalBytes + x.stats.incr.logicalBytes;
  const lines = [
    row(["measurement", "Strata", "reference", "ratio / note", "goal", "met?"]),
    row(["---", "---", "---", "---", "---", "---"]),
    row([
      "First snapshot of 1 GiB",
      `${mbps(firstMBps)} (${secs(x.firstSeconds)})`,
      `${mbps(refMBps)} (${slower}, the slower)`,
      `${(firstMBps / refMBps).toFixed(2)}x (vs zstd -1 -T0 alone: ${vsZstd.toFixed(2)}x)`,
      ">= 0.7x",
      met(firstMBps / refMBps >= 0.7),
    ]),
    row([
      `Incremental snapshot, ${CHANGED_BLOCKS} of ${BLOCKS} blocks changed`,
      secs(x.incr.seconds),
      `first snapshot ${secs(x.firstSeconds)}`,
      `${(incrShare * 100).toFixed(1)}% of first`,
      "<= 5%",
      met(incrShare <= 0.05),
    ]),
    row([
      "Incremental: bytes read",
      `${mb(bytesRead)} (${x.incr.snap.blocksRead} blocks)`,
      `${changed} changed`,
      `${(bytesRead / x.changedBytes).toFixed(2)}x the change`,
      "<= 2x change",
      met(proportional(bytesRead, x.changedBytes)),
    ]),
    row([
      "Incremental: bytes stored",
      mb(x.incr.snap.bytesStored),
      `${changed} changed (random)`,
      `${(x.incr.snap.bytesStored / x.changedBytes).toFixed(2)}x the change`,
      "<= 2x change",
      met(proportional(x.incr.snap.bytesStored, x.changedBytes)),
    ]),
    row([
      "Restore: full read of a lazily restored 1 GiB volume",
      `${mbps(restoreMBps)} (${secs(x.restoreSeconds)})`,
      `${mbps(zstdDMBps)} (zstd -d)`,
      `${(restoreMBps / zstdDMBps).toFixed(2)}x`,
      ">= 0.7x",
      met(restoreMBps / zstdDMBps >= 0.7),
    ]),
    row([
      `Copy incremental to ${DEST} (parent already there): transferred`,
      `${mb(x.copyIncr.snap.bytesTransferred)} (${secs(x.copyIncr.seconds)})`,
      `${changed} changed`,
      `${(x.copyIncr.snap.bytesTransferred / x.changedBytes).toFixed(2)}x the change`,
      "<= 2x change",
      met(proportional(x.copyIncr.snap.bytesTransferred, x.changedBytes)),
    ]),
    row([
      `Copy first snapshot to ${DEST}: transferred`,
      `${mb(x.copyFirst.snap.bytesTransferred)} (${secs(x.copyFirst.seconds)})`,
      `${mb(x.stats.first.storedBytes)} stored in ${SOURCE}`,
      "context",
      "-",
      "-",
    ]),
    row([
      "Stored vs logical (2 snapshots)",
      `${mb(x.totals.storedBytes)} in ${x.totals.chunks} chunks`,
      `${mb(logical)} logical`,
      `${((x.totals.storedBytes / logical) * 100).toFixed(1)}% of logical`,
      "-",
      "-",
    ]),
    row([
      "Stored by the first snapshot",
      mb(x.stats.first.storedBytes),
      `${mb(x.ref.zstdBytes)} (zstd -1); ${mb(x.ref.sparseBytes)} (cp --sparse=always)`,
      `${(x.stats.first.storedBytes / x.ref.zstdBytes).toFixed(2)}x zstd -1`,
      "-",
      "-",
    ]),
    ...backupRows(x),
    ...restoreRows(x.restoresToFile),
  ];
  return lines.join("\n");
}

/** How many times Strata's speed is the reference's (> 1: Strata is faster). */
const speed = (strata: number, reference: number) => `${(reference / strata).toFixed(2)}x the speed`;

function backupRows(x: Results): string[] {
  return x.restoresToFile.tools.flatMap((t) => [
    row([
      `First snapshot vs ${t.label} backup`,
      secs(x.firstSeconds),
      secs(Math.min(...t.firstRuns)),
      speed(x.firstSeconds, Math.min(...t.firstRuns)),
      "-",
      "-",
    ]),
    row([
      `1 % incremental vs ${t.label} backup`,
      secs(x.incr.seconds),
      secs(t.incremental),
      speed(x.incr.seconds, t.incremental),
      "-",
      "-",
    ]),
  ]);
}

/** Strata's two CLI restores beside each tool's; the goal applies against restic. */
function restoreRows(r: RestoresToFile): string[] {
  const strata: [string, number][] = [
    ["strata snapshot export", Math.min(...r.cli.exportRuns)],
    ["strata volume read (fresh lazy volume)", Math.min(...r.cli.volumeReadRuns)],
  ];
  return r.tools.flatMap((t) => {
    const ref = Math.min(...t.restoreRuns);
    const goal = t.label.startsWith("restic");
    return strata.map(([name, seconds]) =>
      row([
        `Full restore of 1 GiB to a file: ${name} vs ${t.label}`,
        `${mbps(rate(VOLUME_BYTES, seconds))} (${secs(seconds)})`,
        `${mbps(rate(VOLUME_BYTES, ref))} (${secs(ref)})`,
        speed(seconds, ref),
        goal ? `>= ${RESTORE_GOAL}x` : "-",
        goal ? met(ref / seconds >= RESTORE_GOAL) : "-",
      ]),
    );
  });
}

function restoreDetails(r: RestoresToFile): string[] {
  const runs = (xs: number[]) => xs.map(secs).join(", ");
  const cpu = (xs: RunCpu[]) => xs.map((x) => `${x.daemon.toFixed(2)} + ${x.cli.toFixed(2)}`).join(", ");
  return [
    ...r.tools.map(
      (t) =>
        `${t.label}: first backup runs ${runs(t.firstRuns)} (each into an empty repository); ` +
        (Number.isNaN(t.incremental) ? "" : `incremental ${secs(t.incremental)}; `) +
        `restore runs ${runs(t.restoreRuns)}`,
    ),
    `Strata CLI against a live daemon${flags.rgw ? " with its packs in a Ceph RGW bucket (memstore, loopback)" : ""} (snapshot imported with strata snapshot import in ` +
      `${secs(r.cli.importSeconds)}): export runs ${runs(r.cli.exportRuns)}; ` +
      `volume read runs ${runs(r.cli.volumeReadRuns)} (each of a volume just created from the snapshot)`,
    `CPU-seconds per run, daemon + CLI: export ${cpu(r.cli.exportCpu)}; volume read ${cpu(r.cli.volumeReadCpu)}`,
    "Every restored file's SHA-256 matched the source's.",
  ];
}

function details(x: Results): string {
  const fmtStats = (s: SnapshotStats) =>
    `data ${mb(s.dataBytes)}, stored ${mb(s.storedBytes)}, ` +
    `unique ${mb(s.uniqueBytes)}, shared ${mb(s.sharedBytes)}`;
  const ref = (name: string, s: number) => `  ${name}: ${secs(s)}, ${mbps(rate(VOLUME_BYTES, s))}`;
  const runs = (xs: number[]) => xs.map(secs).join(", ");
  return [
    `Content: ${x.kinds.random} random, ${x.kinds.text} text-like, ${x.kinds.zero} zero blocks of 512 KiB`,
    `MB = 10^6 bytes. Times are the best of ${REPEATS} runs for the reference tools (page cache warm), ` +
      "the first snapshot and the restore read; one run for the incremental snapshot and the copies.",
    ref("sha256sum", x.ref.sha256sum),
    ref("zstd -1 -T0", x.ref.zstd),
    ref("cp --sparse=always", x.ref.cp),
    ref("zstd -d", x.zstdDecompress),
    `First snapshot runs: ${runs(x.firstRuns)}; ` +
      `${x.first.blocksRead} blocks read, ${mb(x.first.bytesStored)} stored`,
    `Restore read runs: ${runs(x.restoreRuns)} ` +
      `(${READ_SIZE / MiB} MiB reads, ${READS_OUTSTANDING} outstanding; ` +
      "no background hydration: every block fetched, verified and written to local disk on demand; " +
      "after an untimed read whose content matched the expected SHA-256)",
    `Snapshot stats: first: ${fmtStats(x.stats.first)}`,
    `                incremental: ${fmtStats(x.stats.incr)}`,
    ...restoreDetails(x.restoresToFile),
  ].join("\n");
}

// --- Run ----------------------------------------------------------------------------------------

async function run(dir: string): Promise<Results> {
  const raw = join(dir, "volume.raw");
  const kinds = layout(BLOCKS);
  const engine = await Engine.open({
    dataDir: join(dir, "data"),
    regions: [SOURCE, DEST],
    backgroundHydration: false,
  });
  const rawFd = openSync(raw, "w+");
  let engineOpen = true;
  try {
    log("generating 1 GiB of content");
    writeRaw(rawFd, kinds);
    log("reference tools: sha256sum, zstd -1 -T0, cp --sparse=always");
    const ref = snapshotReferences(raw, REPEATS);
    const tools = backupTools(dir);
    const toolFirstRuns = tools.map((t) => {
      log(`reference tool: ${t.label} first backup x${REPEATS}`);
      return firstBackups(t, raw, REPEATS);
    });
    log(`first snapshot x${REPEATS} (each of a freshly filled volume)`);
    const r = engine.region(SOURCE);
    const { h, runs } = await firstSnapshots(r, rawFd);
    const first = runs[runs.length - 1].snap;

    const changed = await changeBlocks(h, rawFd);
    log("incremental snapshot");
    const incr = await timedSnapshot(r, h.id);
    const toolIncrementals = tools.map((t) => {
      log(`reference tool: ${t.label} incremental backup`);
      return t.backup(raw);
    });

    log("reference tool: zstd -d");
    const zstdDecompress = zstdDecompressReference(raw, REPEATS);
    log("restore read: verification");
    await verifyRestore(r, incr.snap.id, raw);
    log(`restore read x${REPEATS}`);
    const restoreRuns: number[] = [];
    for (let i = 0; i < REPEATS; i++) restoreRuns.push(await timedRestoreRead(r, incr.snap.id, () => {}));

    log("cross-region copies");
    const copyFirst = await timedCopy(engine, first.id);
    const copyIncr = await timedCopy(engine, incr.snap.id);
    const stats = { first: await r.snapshots.stats(first.id), incr: await r.snapshots.stats(incr.snap.id) };
    const totals = await r.meta.chunkTotals();
    // The daemon of the CLI restores gets the machine to itself.
    await engine.close();
    engineOpen = false;
    const restoresToFile = await restoresToFiles(dir, raw, tools, (t, i) => ({
      label: t.label,
      firstRuns: toolFirstRuns[i],
      incremental: toolIncrementals[i],
    }));

    return {
      kinds: { random: count(kinds, "random"), text: count(kinds, "text"), zero: count(kinds, "zero") },
      ref,
      zstdDecompress,
      first,
      firstRuns: runs.map((x) => x.seconds),
      firstSeconds: Math.min(...runs.map((x) => x.seconds)),
      incr,
      changedBytes: changed.length * BLOCK_SIZE,
      restoreRuns,
      restoreSeconds: Math.min(...restoreRuns),
      copyFirst,
      copyIncr,
      stats,
      totals,
      restoresToFile,
    };
  } finally {
    closeSync(rawFd);
    if (engineOpen) await engine.close();
  }
}

/** Full restores of the raw file's latest backup: each tool's, then Strata's CLI paths. */
async function restoresToFiles(
  dir: string,
  raw: string,
  tools: BackupTool[],
  backups: (t: BackupTool, i: number) => Omit<BackupFigures, "restoreRuns">,
): Promise<RestoresToFile> {
  const expected = await sha256File(raw);
  const figures: BackupFigures[] = [];
  for (const [i, t] of tools.entries()) {
    log(`reference tool: ${t.label} full restore x${REPEATS}`);
    figures.push({ ...backups(t, i), restoreRuns: await restores(t, raw, dir, REPEATS, expected) });
  }
  const restore = () => cliRestores(dir, raw, REPEATS, expected, log);
  if (!flags.rgw) return { tools: figures, cli: await restore() };
  return withRgwPacks(dir, log, async (rgw) => {
    // Like for like: restic with its repository in a bucket of the same RGW, on the same cores.
    const onS3 = restic(join(dir, "restic-s3"), {
      endpoint: rgw.endpoint,
      accessKeyId: rgw.accessKeyId,
      secretAccessKey: rgw.secretAccessKey,
      bucketName: (n) => `restic-bench-${n}`,
    });
    if (onS3) {
      log(`reference tool: ${onS3.label} backup, full restore x${REPEATS}`);
      onS3.init();
      const seconds = onS3.backup(raw);
      const restoreRuns = await restores(onS3, raw, dir, REPEATS, expected);
      figures.push({ label: onS3.label, firstRuns: [seconds], incremental: Number.NaN, restoreRuns });
    }
    return { tools: figures, cli: await restore() };
  });
}

/** --restore-only: the content (1 % changed, as restored in a full run), one backup per tool, the restores. */
async function runRestoresOnly(dir: string): Promise<RestoresToFile> {
  const raw = join(dir, "volume.raw");
  const rawFd = openSync(raw, "w+");
  try {
    log("generating 1 GiB of content");
    writeRaw(rawFd, layout(BLOCKS));
    await changeBlocks(undefined, rawFd);
  } finally {
    closeSync(rawFd);
  }
  const tools = backupTools(dir);
  const backups = tools.map((t) => {
    log(`reference tool: ${t.label} backup`);
    t.init();
    const seconds = t.backup(raw);
    return { label: t.label, firstRuns: [seconds], incremental: Number.NaN };
  });
  return restoresToFiles(dir, raw, tools, (_, i) => backups[i]);
}

function count(kinds: Kind[], kind: Kind): number {
  return kinds.filter((k) => k === kind).length;
}

const started = performance.now();

function log(step: string): void {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1)} s] ${step}\n`);
}

const dir = mkdtempSync(join(tmpdir(), "strata-bench-"));
process.once("SIGINT", () => {
  rmSync(dir, { recursive: true, force: true });
  process.exit(130);
});
try {
  if (flags["restore-only"]) {
    const r = await runRestoresOnly(dir);
    const header = row(["measurement", "Strata", "reference", "ratio / note", "goal", "met?"]);
    const rows = [header, row(["---", "---", "---", "---", "---", "---"]), ...restoreRows(r)];
    console.log(`${machineInfo()}\n\n${rows.join("\n")}\n\n${restoreDetails(r).join("\n")}`);
  } else {
    const results = await run(dir);
    console.log(`${machineInfo()}\n\n${table(results)}\n\n${details(results)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
