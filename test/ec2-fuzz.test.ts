// Model-driven fuzzing of the EC2 Query API against a real daemon (see test/fuzz/): every answer
// is EC2's XML (an error only with a code of src/errors.ts and its status, never a 500), the
// daemon logs no unexpected error, an error answer changes no state, and no VM is ever started.
// STRATA_FUZZ_SEED / STRATA_FUZZ_EC2_COUNT set the run; a failure prints a replayable case.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { assertStoreConsistent } from "./daemon.ts";
import { generateEc2Case } from "./fuzz/ec2-cases.ts";
import { failureReport, runEc2Cases } from "./fuzz/ec2-runner.ts";
import { type Harness, removeDataDir, startHarness } from "./fuzz/harness.ts";
import { ec2Count, fuzzSeed } from "./fuzz/settings.ts";

let h: Harness;

before(async () => {
  h = await startHarness();
});

after(async () => {
  await h.stop();
  assertStoreConsistent(h.dataDir);
  removeDataDir(h.dataDir);
});

test(`${ec2Count} fuzzed EC2 Query requests (seed ${fuzzSeed})`, async () => {
  const failures: string[] = [];
  const outcomes = new Map<string, number>();
  const successes = new Map<string, number>();
  const qemu: string[] = [];
  const started = performance.now();
  let sent = 0;
  await runEc2Cases(
    h,
    (i) => generateEc2Case(fuzzSeed, i),
    0,
    ec2Count - 1,
    (c, result) => {
      sent++;
      outcomes.set(result.outcome, (outcomes.get(result.outcome) ?? 0) + 1);
      if (result.outcome === "200") successes.set(c.action, (successes.get(c.action) ?? 0) + 1);
      if (result.failures.length) failures.push(failureReport(fuzzSeed, h, c, result));
      if (c.index % 500 === 0) qemu.push(...h.qemuProcesses());
      return failures.length < 20 && qemu.length === 0 && h.died() === undefined;
    },
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `ec2 fuzz: seed=${fuzzSeed} ${sent} requests in ${seconds.toFixed(1)} s (${(sent / seconds).toFixed(0)}/s)`,
  );
  console.log(`  outcomes: ${JSON.stringify(Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1])))}`);
  console.log(`  successes by action: ${JSON.stringify(Object.fromEntries([...successes].sort()))}`);
  assert.deepEqual([...qemu, ...h.qemuProcesses()], [], "no VM may start during fuzzing");
  assert.equal(failures.length, 0, `\n${failures.join("\n\n")}`);
});
