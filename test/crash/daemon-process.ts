// `strata server` as a child process the crash harness can SIGKILL at any moment, even before it
// listens. Free of node:test, so the benchmark script uses it too.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

const STRATA = join(import.meta.dirname, "..", "..", "bin", "strata");

export interface DaemonOptions {
  regions: string;
  baseImage?: boolean;
  args?: string[];
  /** A command the server runs under (e.g. nsenter into a mount namespace). */
  wrap?: string[];
  /** Copy the server's stderr to ours (off in the harness: it reports what it saw itself). */
  echoStderr?: boolean;
  /** Extra environment (e.g. STRATA_CRASH_AT, see src/util/crash-points.ts). */
  env?: Record<string, string>;
}

const live = new Set<ChildProcess>();
// Whatever happens to the harness, no server it started outlives it (a signal ends the process
// without "exit" handlers, so those are caught too).
process.once("exit", () => {
  for (const p of live) p.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    for (const p of live) p.kill("SIGKILL");
    process.exit(130);
  });
}

export class DaemonProcess {
  readonly proc: ChildProcess;
  /** Resolves with the URL once the server listens; rejects if it exits first. */
  readonly ready: Promise<string>;
  readonly exited: Promise<number | null>;
  /** Every line the server wrote to stderr (errors, stack traces). */
  readonly stderr: string[] = [];
  readonly stdout: string[] = [];
  url = "";

  constructor(dataDir: string, options: DaemonOptions) {
    const args = ["server", "--data-dir", dataDir, "--port", "0", "--regions", options.regions];
    if (!options.baseImage) args.push("--no-base-image");
    args.push(...(options.args ?? []));
    // Crash trials are about storage: user-mode networking, no data plane to set up per restart.
    if (!args.includes("--network")) args.push("--network", "user");
    const [cmd, ...rest] = [...(options.wrap ?? []), STRATA, ...args];
    this.proc = spawn(cmd, rest, {
      env: { ...process.env, STRATA_LOG_REQUESTS: "0", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    live.add(this.proc);
    this.exited = new Promise((resolve) =>
      this.proc.once("exit", (code) => {
        live.delete(this.proc);
        resolve(code);
      }),
    );
    let listening!: (url: string) => void;
    this.ready = new Promise<string>((resolve, reject) => {
      listening = resolve;
      void this.exited.then((code) =>
        reject(new Error(`strata server exited (${code}) before listening: ${this.stderr.join("\n")}`)),
      );
    });
    const lines = (into: string[], echo: boolean) => {
      let partial = "";
      return (d: Buffer) => {
        const parts = (partial + d.toString()).split("\n");
        partial = parts.pop() ?? "";
        for (const line of parts) {
          into.push(line);
          const m = /listening on (http:\/\/\S+)/.exec(line);
          if (m && !this.url) {
            this.url = m[1];
            listening(m[1]);
          }
        }
        if (echo) process.stderr.write(d);
      };
    };
    this.proc.stdout!.on("data", lines(this.stdout, false));
    this.proc.stderr!.on("data", lines(this.stderr, options.echoStderr ?? false));
    this.ready.catch(() => {});
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.alive) this.proc.kill(signal);
    await this.exited;
  }
}
