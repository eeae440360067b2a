// The EC2 and EBS fuzzers' shared set-up: a real daemon that cannot boot a VM, two accounts, the
// resource pool, the state watch, and the daemon's stderr (an InternalError's stack lands there).
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type Daemon, startDaemon } from "../daemon.ts";
import { type Account, adminCredentials, createAccount } from "../ec2-helpers.ts";
import { tempDir } from "../helpers.ts";
import { Pool } from "./pool.ts";
import { StateWatch } from "./state.ts";

export const REGIONS = ["us-east-1", "eu-west-1"];

export interface Harness {
  dataDir: string;
  daemon: Daemon;
  admin: Account;
  bob: Account;
  pool: Pool;
  state: StateWatch;
  /** Lines the daemon wrote to stderr and no check has taken yet. */
  takeStderr(): string[];
  /** Why the daemon is not running any more, if it is not. */
  died(): string | undefined;
  /** QEMU processes started for this data dir (there must never be any). */
  qemuProcesses(): string[];
  stop(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const dataDir = tempDir("strata-fuzz-");
  // Capacity for 0.002 vCPUs: RunInstances can never start a VM, whatever the fuzzer sends.
  const daemon = await startDaemon(dataDir, REGIONS.join(","), { args: ["--cpu-allocation-ratio", "0.001"] });
  let stderr = "";
  daemon.proc.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const state = new StateWatch(dataDir, REGIONS);
  const credentials = adminCredentials(dataDir);
  const key = state
    .db("accounts")
    .prepare("SELECT account_id FROM access_keys WHERE id = ?")
    .get(credentials.accessKeyId) as {
    account_id: string;
  };
  const admin: Account = { ...credentials, accountId: key.account_id };
  const bob = await createAccount(dataDir, "bob");
  const pool = new Pool({ daemon, admin, bob, db: (r) => state.db(r) });
  await pool.ensure();
  await state.settle();
  return {
    dataDir,
    daemon,
    admin,
    bob,
    pool,
    state,
    takeStderr() {
      const lines = stderr
        .split("\n")
        .filter((l) => l.trim() !== "" && !/ExperimentalWarning|--trace-warnings/.test(l));
      stderr = "";
      return lines;
    },
    died: () =>
      daemon.proc.exitCode !== null || daemon.proc.signalCode !== null
        ? `the daemon exited (${daemon.proc.exitCode ?? daemon.proc.signalCode})`
        : undefined,
    qemuProcesses: () => qemuProcesses(dataDir),
    async stop() {
      state.close();
      await daemon.kill("SIGTERM");
    },
  };
}

/** Removes the data dir now (sparse volumes of 16 TiB are cheap, but not worth keeping). */
export function removeDataDir(dataDir: string): void {
  rmSync(dataDir, { recursive: true, force: true });
}

function qemuProcesses(dataDir: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(join("/proc", pid, "cmdline"), "utf8").replaceAll("\0", " ");
    } catch {
      continue;
    }
    if (cmdline.includes("qemu") && cmdline.includes(dataDir)) out.push(`${pid}: ${cmdline.slice(0, 200)}`);
  }
  return out;
}
