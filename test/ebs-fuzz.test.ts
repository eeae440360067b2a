// Fuzzing of the EBS direct APIs against a real daemon (see test/fuzz/): paths and percent escapes,
// JSON bodies, headers, checksums, block indexes. Every answer is 2xx or the rest-json error with
// a code of src/errors.ts (never a 500, never a dropped connection), a block read back hashes to
// its checksum, and an error changes no state. STRATA_FUZZ_SEED / STRATA_FUZZ_EBS_COUNT set the run.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { assertStoreConsistent } from "./daemon.ts";
import { generateEbsCase } from "./fuzz/ebs-cases.ts";
import { ebsFailureReport, runEbsCase } from "./fuzz/ebs-runner.ts";
import { type Harness, removeDataDir, startHarness } from "./fuzz/harness.ts";
import { ebsCount, fuzzSeed } from "./fuzz/settings.ts";

let h: Harness;

before(async () => {
  h = await startHarness();
});

after(async () => {
  await h.stop();
  assertStoreConsistent(h.dataDir);
  removeDataDir(h.dataDir);
});

test(`${ebsCount} fuzzed EBS direct API requests (seed ${fuzzSeed})`, async () => {
  const failures: string[] = [];
  const outcomes = new Map<string, number>();
  const started = performance.now();
  for (let i = 0; i < ebsCount; i++) {
    const c = generateEbsCase(fuzzSeed, i);
    const result = await runEbsCase(h, c);
    const key = `${c.op} ${result.outcome}`;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    if (result.failures.length) failures.push(ebsFailureReport(fuzzSeed, h, c, result));
    if (failures.length >= 20 || h.died() !== undefined) break;
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `ebs fuzz: seed=${fuzzSeed} ${ebsCount} requests in ${seconds.toFixed(1)} s (${(ebsCount / seconds).toFixed(0)}/s)`,
  );
  console.log(`  outcomes: ${JSON.stringify(Object.fromEntries([...outcomes].sort()))}`);
  assert.equal(failures.length, 0, `\n${failures.join("\n\n")}`);
});
