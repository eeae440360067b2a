// `strata server` for benchmarks (test/daemon.ts registers node:test hooks; benchmarks are plain scripts).
import { spawn } from "node:child_process";
import { join } from "node:path";
import { AdminClient } from "../src/cli/admin-client.ts";
import { adminSocketPath } from "../src/server/admin-socket.ts";

const STRATA = join(import.meta.dirname, "..", "bin", "strata");

export interface BenchDaemon {
  url: string;
  /** The server process (bin/strata execs node, so this is the daemon itself). */
  pid: number;
  /** The admin API on the data dir's socket, as `account` (default admin). */
  client(region?: string, account?: string): AdminClient;
  stop(): Promise<void>;
}

/** Starts the daemon on a free port (extra server flags in `args`); resolves with its URL. */
export async function startBenchDaemon(dataDir: string, args: string[]): Promise<BenchDaemon> {
  // User-mode networking unless the benchmark asks for the VPC data plane (as boot and net do).
  const network = args.includes("--network") ? [] : ["--network", "user"];
  const proc = spawn(STRATA, ["server", "--data-dir", dataDir, "--port", "0", ...network, ...args], {
    env: { ...process.env, STRATA_LOG_REQUESTS: "0" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const url = await new Promise<string>((ok, fail) => {
    let out = "";
    proc.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on (https?:\/\/\S+)/.exec(out);
      if (m) ok(m[1]);
    });
    proc.once("exit", (code) => fail(new Error(`strata server exited (${code}): ${out}`)));
  });
  return {
    url,
    pid: proc.pid!,
    client: (region = "us-east-1", account = "admin") =>
      new AdminClient(adminSocketPath(dataDir), region, account),
    async stop() {
      proc.kill("SIGTERM");
      await exited;
    },
  };
}
