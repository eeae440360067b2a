// Crash benchmark: random SIGKILLs of the daemon during snapshots, copies, restores, CreateImage,
// deletes and EBS direct uploads (see test/crash/crash-harness.ts for what each trial checks).
//   npm run bench:crash -- [--trials 105] [--seed hex] [--scenarios snapshot,gc-delete,...]
//     [--crash-points 0.35] [--second-kill 0.3] (probabilities per trial) [--keep] (the data dir)
//     [--crash-point NAME] (arm only that one; see src/util/crash-points.ts and the scenarios)
// Prints a summary per scenario; exits 1 if any trial failed. The seed reproduces the choices.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runCrashTrials, SCENARIOS, summarize } from "../test/crash/crash-harness.ts";
import { randomSeed } from "../test/crash/prng.ts";

const { values } = parseArgs({
  options: {
    trials: { type: "string", default: "105" },
    seed: { type: "string" },
    scenarios: { type: "string", default: SCENARIOS.join(",") },
    "crash-points": { type: "string", default: "0.35" },
    "second-kill": { type: "string", default: "0.3" },
    "crash-point": { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const seed = values.seed ?? randomSeed();
const dataDir = mkdtempSync(join(tmpdir(), "strata-crash-bench-"));
console.log(`crash bench: seed ${seed}, data dir ${dataDir} (rerun with --seed ${seed})`);
const report = await runCrashTrials({
  seed,
  trials: Number(values.trials),
  dataDir,
  scenarios: values.scenarios.split(","),
  crashPoints: Number(values["crash-points"]),
  secondKill: Number(values["second-kill"]),
  onlyCrashPoint: values["crash-point"],
  log: (line) => console.log(line),
});
console.log(`\n${summarize(report)}`);
const failed = report.results.some((r) => r.failures.length) || report.runFailures.length > 0;
if (!values.keep && !failed) rmSync(dataDir, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
