// Random crash trials: each prepares some state, starts an operation, SIGKILLs the daemon after a
// seeded random delay (sometimes again during the restart's recovery), restarts it, and checks
// that interrupted work finished or failed by a deadline, that content equals the model, that no
// QEMU outlived the daemon, that the store holds no leaked bytes, rows, temp files or strays, and
// that after the trial's cleanup it holds exactly what the fixtures need (so nothing grows).

import { baseImageId } from "../instance-helpers.ts";
import { Prng } from "./prng.ts";
import { copyImageScenario, copySnapshotScenario } from "./scenarios/copy.ts";
import { createImageScenario, type InstanceFixture, launchInstance } from "./scenarios/create-image.ts";
import { ebsDirectScenario } from "./scenarios/ebs-direct.ts";
import { gcScenario } from "./scenarios/gc.ts";
import { restoreScenario } from "./scenarios/restore.ts";
import { snapshotScenario } from "./scenarios/snapshot.ts";
import {
  type AuditOptions,
  auditStore,
  chunkRows,
  garbagePacks,
  qemuProcesses,
  regionNames,
  type StoreTotals,
  storedResources,
  storedSnapshotMap,
  storeTotals,
  unswept,
} from "./store-audit.ts";
import { removeAllBut, type Scenario, type TrialContext } from "./trial.ts";
import { REGIONS, World, waitUntil } from "./world.ts";

export const SCENARIOS = [
  "snapshot",
  "copy-snapshot",
  "copy-image",
  "restore",
  "create-image",
  "gc-delete",
  "ebs-direct",
];

export interface RunOptions {
  seed: string;
  trials: number;
  dataDir: string;
  /** Scenario names (default all); create-image launches the run's one VM. */
  scenarios?: string[];
  /** How long interrupted work may take after a restart (default 120 s). */
  deadlineMs?: number;
  /** Probability of a second kill during the restart's recovery (default 0.3). */
  secondKill?: number;
  /** Probability that a trial arms a crash point instead of killing after a delay (default 0.35). */
  crashPoints?: number;
  /** Arm only this crash point (by name), where a scenario has it. */
  onlyCrashPoint?: string;
  log?: (line: string) => void;
}

export interface TrialResult {
  index: number;
  scenario: string;
  killAfterMs: number;
  /** The crash point armed instead of a delay, if any. */
  crashAt: string | null;
  /** Whether the daemon got to it (else it was killed once the operation was over). */
  crashReached: boolean;
  secondKillAfterMs: number | null;
  landing: string;
  failures: string[];
  notes: string[];
  ms: number;
  after: StoreTotals;
}

export interface RunReport {
  seed: string;
  results: TrialResult[];
  setupMs: number;
  totalMs: number;
  /** Problems outside any one trial (set-up, the final audit after a clean stop). */
  runFailures: string[];
}

// The daemon ran since its restart: packs that deletes emptied wait for the GC if a crash cut off
// the recording of some of their chunks. Nothing else is garbage there.
const AUDIT: AuditOptions = { noPending: true, awaitingGc: ["unrecorded"] };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the trials; never throws for a failed check (they are in the report). */
export async function runCrashTrials(o: RunOptions): Promise<RunReport> {
  const log = o.log ?? (() => {});
  const names = o.scenarios ?? SCENARIOS;
  const rng = new Prng(o.seed);
  const began = Date.now();
  const withInstance = names.includes("create-image");
  const world = new World(o.dataDir, { baseImage: withInstance });
  const runFailures: string[] = [];
  await world.start();
  let fixture: InstanceFixture | undefined;
  if (withInstance) {
    // The base image is published in every region first: it is a fixture, not a stray.
    for (const region of REGIONS) await baseImageId(world.ec2(region));
    log("launching the instance for create-image (one VM boot)...");
    fixture = await launchInstance(world);
  }
  // Fixtures: everything that exists now stays; their chunks are what a cleaned store may hold.
  const fixtures = new Set<string>();
  const fixtureChunks = new Map<string, Set<string>>();
  for (const region of regionNames(o.dataDir)) {
    const r = storedResources(o.dataDir, region);
    const chunks = new Set<string>();
    for (const s of r.snapshots) {
      fixtures.add(s.id);
      for (const h of storedSnapshotMap(o.dataDir, region, s.id).values()) chunks.add(h);
    }
    for (const v of r.volumes) fixtures.add(v.id);
    for (const i of r.images) fixtures.add(i.id);
    fixtureChunks.set(region, chunks);
  }
  const all: Record<string, Scenario> = {
    snapshot: snapshotScenario,
    "copy-snapshot": copySnapshotScenario,
    "copy-image": copyImageScenario,
    restore: restoreScenario,
    "gc-delete": gcScenario,
    "ebs-direct": ebsDirectScenario,
    ...(fixture ? { "create-image": createImageScenario(fixture) } : {}),
  };
  // Round robin over a seeded order, so every scenario gets its share; create-image (whose first
  // trial is the one with the VM running) comes first when it takes part.
  const order = names.filter((n) => n !== "create-image");
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [order[i], order[j]] = [order[j], order[i]];
  }
  if (withInstance) order.unshift("create-image");
  const setupMs = Date.now() - began;
  const observed = new Map<string, number>();
  const results: TrialResult[] = [];

  for (let index = 0; index < o.trials; index++) {
    const scenario = all[order[index % order.length]];
    const t0 = Date.now();
    const trng = rng.fork(`trial-${index}`);
    const failures: string[] = [];
    const notes: string[] = [];
    const ctx: TrialContext = {
      world,
      rng: trng,
      tag: `crash-${o.seed}-${index}`,
      deadlineMs: o.deadlineMs ?? 120_000,
      known: new Set(fixtures),
      note: (n) => notes.push(n),
    };
    const trial = scenario.create(ctx);
    const window = observed.get(scenario.name) ?? scenario.window;
    const killAfterMs = Math.round(trng.next() * window);
    const armed = trng.chance(o.crashPoints ?? 0.35) && trial.armable !== false;
    const points = o.onlyCrashPoint
      ? scenario.crashPoints.filter((p) => p.split("@")[0] === o.onlyCrashPoint)
      : scenario.crashPoints;
    const crashAt = armed ? armPoint(trng, points) : null;
    let secondKillAfterMs: number | null = null;
    let crashReached = false;
    let landing = "?";
    // Where a trial's time goes (verbose log only).
    const phases: string[] = [];
    let last = Date.now();
    const phase = (name: string) => {
      phases.push(`${name} ${((Date.now() - last) / 1000).toFixed(1)}s`);
      last = Date.now();
    };
    try {
      await trial.prepare();
      phase("prepare");
      if (crashAt) {
        // Restarted with the crash point armed: the daemon kills itself when it gets there.
        await world.kill("SIGTERM");
        world.spawn({ STRATA_CRASH_AT: crashAt });
        await world.daemon.ready;
      }
      const started = Date.now();
      const run = trial.run().then(
        () => ({ ok: true as const, at: Date.now() }),
        (e: Error) => ({ ok: false as const, at: Date.now(), e }),
      );
      if (crashAt) {
        // A point reached fewer times than armed: a plain kill once the operation is over.
        await Promise.race([world.daemon.exited, run.then(() => sleep(200))]);
      } else {
        await sleep(killAfterMs);
      }
      const reached = crashAt !== null && !world.daemon.alive;
      crashReached = reached;
      const killedAt = reached ? Number.POSITIVE_INFINITY : Date.now();
      await world.kill("SIGKILL");
      // What the daemon logged before it died (an error in background work, say) counts too.
      const logged = world.daemon.stderr.filter((l) => l.trim() !== "");
      if (logged.length)
        failures.push(`the daemon logged errors before the kill:\n    ${logged.slice(0, 20).join("\n    ")}`);
      const outcome = await Promise.race([run, sleep(30_000).then(() => null)]);
      if (outcome === null) failures.push("the interrupted operation's client never returned after the kill");
      else if (!outcome.ok && outcome.at < killedAt && !reached) {
        failures.push(`the operation failed before the kill: ${outcome.e.message}`);
      }
      // The kill window follows the operation's measured length: 1.2x when it finished before
      // the kill, wider when it never does (so some kills also land after it).
      if (outcome?.ok && outcome.at <= killedAt) {
        observed.set(scenario.name, Math.max(50, (outcome.at - started) * 1.2));
      } else if (!crashAt) {
        observed.set(scenario.name, Math.min(20_000, Math.max(window, killAfterMs) * 1.25));
      }
      failures.push(...(await qemuGone(o.dataDir)));
      landing = trial.landing();
      // What the crash left as garbage: the restart's sweep must take all of it (the audits
      // later allow garbage that deletes made since, which a sweep that failed would hide in).
      const crashGarbage = garbagePacks(o.dataDir);
      // Restart; sometimes kill again while it recovers (sweep, resumed jobs) and restart again.
      world.spawn();
      if (trng.chance(o.secondKill ?? 0.3)) {
        secondKillAfterMs = trng.int(0, 1500);
        await sleep(secondKillAfterMs);
        await world.kill("SIGKILL");
        failures.push(...(await qemuGone(o.dataDir)));
        world.spawn();
      }
      await world.daemon.ready;
      failures.push(...unswept(o.dataDir, crashGarbage));
      phase("kill+restart");
      failures.push(...(await trial.verify()));
      phase("verify");
      failures.push(...auditStore(o.dataDir, AUDIT));
      for (const region of REGIONS) {
        const r = storedResources(o.dataDir, region);
        const strays = [
          ...r.snapshots
            .filter((s) => !ctx.known.has(s.id))
            .map((s) => `snapshot ${s.id} (${s.state}, "${s.description}")`),
          ...r.volumes.filter((v) => !ctx.known.has(v.id)).map((v) => `volume ${v.id}`),
          ...r.images.filter((i) => !ctx.known.has(i.id)).map((i) => `image ${i.id} (${i.state}, ${i.name})`),
        ];
        if (strays.length)
          failures.push(`${region}: resources nobody asked for (leaked by the crash): ${strays.join(", ")}`);
      }
    } catch (e) {
      failures.push(`trial aborted: ${(e as Error).stack ?? e}`);
    }
    // Cleanup even after a failure, so the next trial starts from the fixtures alone.
    try {
      if (!world.daemon.alive) await world.start();
      await world.daemon.ready;
      await removeAllBut(world, REGIONS, fixtures);
      phase("cleanup");
      failures.push(...auditStore(o.dataDir, AUDIT));
      failures.push(...growth(o.dataDir, fixtureChunks, fixture));
    } catch (e) {
      failures.push(`cleanup failed: ${(e as Error).message}`);
    }
    const errors = world.daemon.stderr.filter((l) => l.trim() !== "");
    if (errors.length)
      failures.push(`the restarted daemon logged errors:\n    ${errors.slice(0, 20).join("\n    ")}`);
    const result: TrialResult = {
      index,
      scenario: scenario.name,
      killAfterMs,
      crashAt,
      crashReached,
      secondKillAfterMs,
      landing,
      failures,
      notes,
      ms: Date.now() - t0,
      after: storeTotals(o.dataDir),
    };
    results.push(result);
    log(
      `trial ${index} ${scenario.name}: ${howKilled(result)}${secondKillAfterMs === null ? "" : ` + ${secondKillAfterMs} ms into the restart`}, landed ${landing}, ${failures.length ? `FAILED:\n  ${failures.join("\n  ")}` : "ok"}${notes.length ? ` (${notes.join("; ")})` : ""} [${phases.join(", ")}]`,
    );
  }
  await world.kill("SIGTERM");
  runFailures.push(...auditStore(o.dataDir, AUDIT).map((p) => `after a clean stop: ${p}`));
  return { seed: o.seed, results, setupMs, totalMs: Date.now() - began, runFailures };
}

function howKilled(r: TrialResult): string {
  if (!r.crashAt) return `kill after ${r.killAfterMs} ms`;
  return r.crashReached ? `crash point ${r.crashAt}` : `crash point ${r.crashAt} (not reached; killed after)`;
}

/** One of the scenario's crash points, armed at a random hit: "name@n" with n in 1..max. */
function armPoint(rng: Prng, points: string[]): string | null {
  if (points.length === 0) return null;
  const [name, max] = rng.pick(points).split("@");
  return `${name}@${rng.int(1, Number(max ?? 1))}`;
}

/** QEMU must die with the daemon (parent-death signal): none left for this data dir. */
async function qemuGone(dataDir: string): Promise<string[]> {
  try {
    await waitUntil(
      "QEMU exits with the daemon",
      async () => qemuProcesses(dataDir),
      (p) => p.length === 0,
      10_000,
    );
    return [];
  } catch {
    return [`QEMU outlived the killed daemon: ${qemuProcesses(dataDir).join("; ")}`];
  }
}

/**
 * After cleanup the store must hold exactly the chunks the fixtures need: the fixture snapshots'
 * chunks, and the instance's root volume's base map. More is growth nothing needs; less is loss.
 */
function growth(
  dataDir: string,
  fixtureChunks: Map<string, Set<string>>,
  fixture?: InstanceFixture,
): string[] {
  const problems: string[] = [];
  for (const region of regionNames(dataDir)) {
    const expected = new Set(fixtureChunks.get(region) ?? []);
    // The instance's volumes (all in the first region) keep their last snapshot's chunks.
    if (region === REGIONS[0])
      for (const v of fixture?.volumes ?? []) for (const h of v.base.values()) expected.add(h);
    const actual = chunkRows(dataDir, region);
    const extra = [...actual].filter((h) => !expected.has(h));
    const missing = [...expected].filter((h) => !actual.has(h));
    if (extra.length)
      problems.push(`${region}: after cleanup ${extra.length} chunks remain that nothing live needs`);
    if (missing.length)
      problems.push(`${region}: after cleanup ${missing.length} chunks the fixtures need are gone`);
    // Bytes: packs no live chunk is in are garbage, which the audit before this refuses. Dead
    // chunks inside packs that still hold a live one are not growth as long as they stay bounded:
    // each restart's sweep repacks every pack less than half live, so after it dead <= live in
    // each pack; since then only this trial's deletes can have made packs sparser, and the chunks
    // they keep live (the instance's new base) are as large as the ones they replaced. Dead bytes
    // beyond the live bytes mean repacking no longer reclaims them: growth.
    const t = storeTotals(dataDir, [region]);
    if (t.deadBytes > t.chunkBytes)
      problems.push(
        `${region}: after cleanup the packs hold ${t.deadBytes} dead bytes, more than the ${t.chunkBytes} live ones (repacking does not reclaim them)`,
      );
  }
  return problems;
}

/** A plain-text summary: per scenario, trials, failures, where kills landed, time. */
export function summarize(report: RunReport): string {
  const lines: string[] = [];
  const by = new Map<string, TrialResult[]>();
  for (const r of report.results) by.set(r.scenario, [...(by.get(r.scenario) ?? []), r]);
  const pad = (s: string | number, n: number) => String(s).padEnd(n);
  lines.push(
    `crash trials, seed ${report.seed}: ${report.results.length} trials in ${(report.totalMs / 1000).toFixed(0)} s (set-up ${(report.setupMs / 1000).toFixed(0)} s)`,
  );
  lines.push(
    `${pad("scenario", 15)}${pad("trials", 8)}${pad("failed", 8)}${pad("landed before/mid/after", 25)}${pad("crash points", 14)}${pad("2nd kills", 11)}${pad("mean s", 8)}notes`,
  );
  for (const [name, rs] of by) {
    const count = (l: string) => rs.filter((r) => r.landing === l).length;
    const notes = new Map<string, number>();
    for (const r of rs) for (const n of r.notes) notes.set(n, (notes.get(n) ?? 0) + 1);
    lines.push(
      pad(name, 15) +
        pad(rs.length, 8) +
        pad(rs.filter((r) => r.failures.length).length, 8) +
        pad(`${count("before")}/${count("mid")}/${count("after")}`, 25) +
        pad(rs.filter((r) => r.crashReached).length, 14) +
        pad(rs.filter((r) => r.secondKillAfterMs !== null).length, 11) +
        pad((rs.reduce((s, r) => s + r.ms, 0) / rs.length / 1000).toFixed(1), 8) +
        [...notes].map(([n, k]) => `${k}x ${n}`).join(", "),
    );
  }
  const failed = report.results.filter((r) => r.failures.length);
  lines.push(
    `failures: ${failed.length} of ${report.results.length} trials${report.runFailures.length ? `, plus ${report.runFailures.length} outside trials` : ""}`,
  );
  const sizes = report.results.map((r) => r.after);
  if (sizes.length) {
    const f = (t: StoreTotals) =>
      `${t.chunks} chunks, ${(t.chunkBytes / 2 ** 20).toFixed(1)} MiB in ${t.packs} packs of ${(t.fileBytes / 2 ** 20).toFixed(1)} MiB (${(t.deadBytes / 2 ** 20).toFixed(1)} MiB dead), ${t.blockRows} block-map rows, metadata files ${(t.dbBytes / 2 ** 20).toFixed(1)} MiB`;
    const max = (k: keyof StoreTotals) => Math.max(...sizes.map((t) => t[k]));
    lines.push(`store after each trial's cleanup: first ${f(sizes[0])}`);
    lines.push(`                                  last  ${f(sizes[sizes.length - 1])}`);
    lines.push(
      `                                  most  ${max("chunks")} chunks, ${(max("chunkBytes") / 2 ** 20).toFixed(1)} MiB in ${max("packs")} packs of ${(max("fileBytes") / 2 ** 20).toFixed(1)} MiB (${(max("deadBytes") / 2 ** 20).toFixed(1)} MiB dead), ${max("blockRows")} block-map rows, metadata files ${(max("dbBytes") / 2 ** 20).toFixed(1)} MiB`,
    );
  }
  for (const r of failed)
    lines.push(`  trial ${r.index} (${r.scenario}, ${howKilled(r)}): ${r.failures.join(" | ")}`);
  for (const f of report.runFailures) lines.push(`  ${f}`);
  return lines.join("\n");
}
