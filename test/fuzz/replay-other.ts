// Replay of EBS and NBD fuzz cases (see replay.ts).
import { generateEbsCase } from "./ebs-cases.ts";
import { ebsFailureReport, runEbsCase } from "./ebs-runner.ts";
import { removeDataDir, startHarness } from "./harness.ts";

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
  throw new Error(`unknown fuzzer '${kind}' (ec2, ebs or nbd)`);
}
