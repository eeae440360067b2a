// `npm run bench:load`: the load test's workload (test/load/) for longer. 64 concurrent
// @aws-sdk/client-ec2 clients (real SigV4) over 4 accounts, each running create/copy/describe/
// delete cycles on volumes, snapshots (same- and cross-region copies), images (cross-region
// copies), tags and key pairs; latency per action class beside GET /health under the same
// concurrency in the same run, and the daemon's RSS over time. A benchmark: it prints figures, and
// exits non-zero only if an answer was an error nobody provoked or something was left behind.
// LOAD_SECONDS (default 120) is the measured phase after the warm-up.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adminSocketPath } from "../src/server/admin-socket.ts";
import { healthReference, leftovers, prepareAccounts, report, runLoad } from "../test/load/run-load.ts";
import { startBenchDaemon } from "./daemon.ts";

const CLIENTS = 64;
const ACCOUNTS = 4;
const SECONDS = Number(process.env.LOAD_SECONDS ?? 120);
const HEALTH_SECONDS = 10;

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "strata-bench-load-"));
  const daemon = await startBenchDaemon(dir, ["--regions", "us-east-1,eu-west-1", "--no-base-image"]);
  try {
    const accounts = await prepareAccounts(daemon.url, dir, ACCOUNTS);
    const health = await healthReference(daemon.url, CLIENTS, HEALTH_SECONDS);
    const result = await runLoad(daemon.url, accounts, {
      adminSocket: adminSocketPath(dir),
      pid: daemon.pid,
      clients: CLIENTS,
      seconds: SECONDS,
      warmupCycles: 2,
      hardLimitSeconds: SECONDS + 900,
    });
    console.log(`\n${report(result, health, CLIENTS)}\n`);
    const left = await leftovers(daemon.url, accounts);
    for (const line of [...result.rec.unexpected, ...left]) console.error(`[bench] ${line}`);
    return result.rec.unexpected.length + left.length === 0 ? 0 : 1;
  } finally {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
