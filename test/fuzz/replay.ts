// Replays fuzz cases against a fresh daemon with a fresh pool (pool ids differ from the failing
// run's; the cases name them symbolically, `@{vol.a.0}`), printing each request and its answer.
//
//   bin/node test/fuzz/replay.ts ec2 --seed strata-ci-1 --index 9503 [--to 9510]
//   bin/node test/fuzz/replay.ts ec2 --params '[["Action","DescribeSnapshots"],["Version","2016-11-15"],["Filter.1.Name","constructor"]]' [--caller b] [--region eu-west-1]
//   bin/node test/fuzz/replay.ts ebs --seed strata-ci-1 --index 120
//   bin/node test/fuzz/replay.ts nbd --seed strata-ci-1 --index 42
//
// A case that only fails after the ones before it changed the state: replay the range (--index
// 0 --to N). Exit status 1 when any replayed case fails its oracle.
import { parseArgs } from "node:util";
import { type Ec2Case, generateEc2Case } from "./ec2-cases.ts";
import { failureReport, runEc2Case } from "./ec2-runner.ts";
import type { Param } from "./ec2-values.ts";
import { removeDataDir, startHarness } from "./harness.ts";
import { fuzzSeed } from "./settings.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seed: { type: "string", default: fuzzSeed },
    index: { type: "string", default: "0" },
    to: { type: "string" },
    params: { type: "string" },
    caller: { type: "string", default: "a" },
    region: { type: "string", default: "us-east-1" },
  },
});
const kind = positionals[0] ?? "ec2";
const from = Number(values.index);
const to = values.to === undefined ? from : Number(values.to);
let failed = 0;

if (kind === "ec2") {
  const h = await startHarness();
  try {
    const cases: Ec2Case[] = values.params
      ? [
          {
            index: -1,
            action: "(given)",
            caller: values.caller === "b" ? "b" : "a",
            region: values.region === "eu-west-1" ? "eu-west-1" : "us-east-1",
            transport: "post",
            params: JSON.parse(values.params) as Param[],
            mutations: ["given"],
          },
        ]
      : Array.from({ length: to - from + 1 }, (_, k) => generateEc2Case(values.seed, from + k));
    for (const c of cases) {
      const result = await runEc2Case(h, c);
      const answer = result.reply ? h.pool.symbolize(result.reply.body.toString("utf8")) : "(none)";
      if (result.failures.length) {
        failed++;
        console.log(failureReport(values.seed, h, c, result));
      } else console.log(`ok #${c.index} ${c.action}: HTTP ${result.reply?.status} ${answer.slice(0, 300)}`);
    }
  } finally {
    await h.stop();
    removeDataDir(h.dataDir);
  }
} else {
  const { replayOther } = await import("./replay-other.ts");
  failed = await replayOther(kind, values.seed, from, to);
}
process.exitCode = failed ? 1 : 0;
