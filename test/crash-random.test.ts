// A handful of random crash trials (see test/crash/crash-harness.ts; `npm run bench:crash` runs
// a hundred and more): one of each scenario, including CreateImage on the run's one VM, with a
// seed printed for reproduction (STRATA_CRASH_SEED=<seed> reruns the same choices).
import assert from "node:assert/strict";
import { test } from "node:test";
import { runCrashTrials, SCENARIOS, summarize } from "./crash/crash-harness.ts";
import { randomSeed } from "./crash/prng.ts";
import { tempDir } from "./helpers.ts";

const seed = process.env.STRATA_CRASH_SEED ?? randomSeed();

test(`random SIGKILLs during snapshot, copy, restore, CreateImage, deletes and EBS uploads (seed ${seed})`, async (t) => {
  const report = await runCrashTrials({
    seed,
    // Two of create-image: the first kills the daemon with the VM running, the second images it stopped.
    trials: SCENARIOS.length + 1,
    dataDir: tempDir("strata-crash-"),
    deadlineMs: 180_000,
    log: (line) => t.diagnostic(line),
  });
  const summary = summarize(report);
  t.diagnostic(summary);
  const failed = report.results.filter((r) => r.failures.length > 0);
  assert.deepEqual(
    [...failed.map((r) => `trial ${r.index} ${r.scenario}`), ...report.runFailures],
    [],
    summary,
  );
});
