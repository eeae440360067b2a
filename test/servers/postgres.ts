// A private PostgreSQL 15 cluster for tests: initdb into a temp dir, started on a free port on
// 127.0.0.1 only (fsync off: test data need not survive a crash), one fresh database per caller,
// stopped and removed at the end. A watchdog shell stops it too if this process dies without
// running its exit hooks (SIGKILL, a test runner's timeout), so no postmaster outlives a test.
import { execFileSync, spawn } from "node:child_process";
import { chownSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

const BIN = process.env.STRATA_PG_BIN ?? "/usr/lib/postgresql/15/bin";
const SUPERUSER = "strata";

export interface PostgresServer {
  readonly port: number;
  /** The connection string of an existing database. */
  url(database: string): string;
  /** A new, empty database; its connection string. */
  createDatabase(): Promise<string>;
  /** Stops the cluster and removes its directory (idempotent). */
  stop(): Promise<void>;
}

/** Runs a PostgreSQL binary as the `postgres` user when we are root (the server refuses root). */
function asPostgres(binary: string, args: string[]): { file: string; args: string[] } {
  const path = join(BIN, binary);
  if (process.getuid?.() === 0) return { file: "runuser", args: ["-u", "postgres", "--", path, ...args] };
  return { file: path, args };
}

function run(binary: string, args: string[], logFile?: string): void {
  const cmd = asPostgres(binary, args);
  try {
    execFileSync(cmd.file, cmd.args, { stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as { stderr?: Buffer; stdout?: Buffer };
    const log = logFile ? safeRead(logFile) : "";
    throw new Error(
      `${binary} ${args.join(" ")} failed:\n${err.stdout?.toString() ?? ""}${err.stderr?.toString() ?? ""}\n--- server log ---\n${log}`,
    );
  }
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "(no log)";
  }
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), "strata-pg-"));
  if (process.getuid?.() === 0) chownSync(dir, Number(execFileSync("id", ["-u", "postgres"]).toString()), 0);
  const data = join(dir, "data");
  const log = join(dir, "log");
  let stopped = false;
  const stopNow = () => {
    if (stopped) return;
    stopped = true;
    try {
      const cmd = asPostgres("pg_ctl", ["-D", data, "stop", "-m", "immediate", "-w"]);
      execFileSync(cmd.file, cmd.args, { stdio: "ignore" });
    } catch {
      // Not running (never started, or already stopped).
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", stopNow);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      stopNow();
      process.exit(128 + (signal === "SIGINT" ? 2 : 15));
    });
  }
  try {
    run("initdb", [
      "-D",
      data,
      "-A",
      "trust",
      "-U",
      SUPERUSER,
      "--no-sync",
      "-E",
      "UTF8",
      "--locale=C.UTF-8",
      "--locale-provider=icu",
      "--icu-locale=en-US",
    ]);
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const options = `-k ${dir} -p ${port} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
      try {
        run("pg_ctl", ["-D", data, "-l", log, "-o", options, "-w", "-t", "60", "start"], log);
        break;
      } catch (e) {
        // Another process may have taken the port between the probe and the start.
        if (attempt >= 3) throw e;
      }
    }
    startWatchdog(dir, data);
    const url = (database: string) => `postgres://${SUPERUSER}@127.0.0.1:${port}/${database}`;
    let n = 0;
    return {
      port,
      url,
      async createDatabase() {
        const name = `t${process.pid}_${++n}`;
        const admin = new pg.Client({ connectionString: url("postgres") });
        await admin.connect();
        try {
          await admin.query(`CREATE DATABASE ${name}`);
        } finally {
          await admin.end();
        }
        return url(name);
      },
      async stop() {
        stopNow();
      },
    };
  } catch (e) {
    stopNow();
    throw e;
  }
}

/** A detached shell that stops the cluster and removes its directory once this process is gone. */
function startWatchdog(dir: string, data: string): void {
  const ctl = asPostgres("pg_ctl", ["-D", data, "stop", "-m", "immediate"]);
  const stop = [ctl.file, ...ctl.args].map((a) => `'${a}'`).join(" ");
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; if [ -d '${data}' ]; then ${stop} >/dev/null 2>&1; rm -rf '${dir}'; fi`;
  const child = spawn("sh", ["-c", script], { detached: true, stdio: "ignore" });
  child.unref();
}
