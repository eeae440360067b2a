// Replay of EBS and NBD fuzz cases (see replay.ts). NBD cases run against fresh in-memory exports,
// so one that depends on what earlier cases wrote needs the range replayed (--index 0 --to N).
import { startServer } from "../../src/compute/nbd/test-tools.ts";
import { generateEbsCase } from "./ebs-cases.ts";
import { ebsFailureReport, runEbsCase } from "./ebs-runner.ts";
import { removeDataDir, startHarness } from "./harness.ts";
import { describeNbdCase, fuzzExports, generateNbdCase } from "./nbd-cases.ts";
import { runNbdCase } from "./nbd-model.ts";

export async function replayOther(kind: string, seed: string, from: number, to: number): Promise<number> {
  let failed = 0;
  if (kind === "ebs") {
    const h = await startHarness();
    try {
      for (let i = from; i <= to; i++) {
        const c = generateEbsCase(seed, i);
        const result = await runEbsCase(h, c);
        if (result.failures.length) {
          failed++;
          console.log(ebsFailureReport(seed, h, c, result));
        } else {
          const body = result.reply ? h.pool.symbolize(result.reply.body.toString("utf8").slice(0, 300)) : "";
          console.log(
            `ok #${i} ${c.op}: HTTP ${result.reply?.status} ${result.reply?.headers["x-amzn-errortype"] ?? ""} ${body}`,
          );
        }
      }
    } finally {
      await h.stop();
      removeDataDir(h.dataDir);
    }
    return failed;
  }
  if (kind === "nbd") {
    const exports = fuzzExports();
    const s = await startServer((name) => exports.get(name)?.exp);
    try {
      for (let i = from; i <= to; i++) {
        const c = generateNbdCase(seed, i);
        const problems = await runNbdCase(s.socket, exports, c);
        console.log(`${problems.length ? "FAIL" : "ok"} ${describeNbdCase(seed, c)}`);
        for (const p of problems) console.log(`  ${p}`);
        if (problems.length) failed++;
      }
      console.log(`server log:\n  ${s.logs.join("\n  ")}`);
    } finally {
      await s.stop();
    }
    return failed;
  }
  throw new Error(`unknown fuzzer '${kind}' (ec2, ebs or nbd)`);
}
