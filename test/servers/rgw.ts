// A real S3-compatible server for tests: a throw-away single-node Ceph RGW (1 monitor, 1 memstore
// OSD, 1 radosgw) started by ../shared/tools/ceph-rgw/start-rgw.sh on free loopback ports with its
// state in a fresh temp dir, and stopped at the end even when the test process dies.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";

const REPO_ROOT = join(import.meta.dirname, "..", "..");
/** Beside the repository (CI clones it with ../shared next to it); read-only there. */
export const RGW_TOOLS = join(REPO_ROOT, "..", "shared", "tools", "ceph-rgw");

export interface Rgw {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** How long start-rgw.sh took, in milliseconds. */
  startMs: number;
  /** An S3 client for this server (path-style, static credentials). */
  client(): S3Client;
  createBucket(name: string): Promise<void>;
  /** Runs a Ceph tool (`radosgw-admin`, `rados`, `ceph`) against this cluster; its stdout. */
  cephTool(command: "radosgw-admin" | "rados" | "ceph", ...args: string[]): Promise<string>;
  /** CPU-seconds used so far by this cluster's daemons (radosgw, OSD, monitor), for benchmarks. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export interface RgwOptions {
  /**
   * Memstore capacity (RAM, used as data is written). Ceph blocks writes instead of failing them
   * when it is full, so size it well above what the test writes; deleted objects' tails are only
   * freed by RGW's garbage collector hours later, so deletes do not give space back.
   */
  memBytes?: number;
}

export async function startRgw(options: RgwOptions = {}): Promise<Rgw> {
  if (!existsSync(join(RGW_TOOLS, "start-rgw.sh"))) {
    throw new Error(`No ${RGW_TOOLS}/start-rgw.sh: the tests expect ../shared beside the repository`);
  }
  const tools = ["ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "monmaptool", "uuidgen", "curl"];
  const missing = tools.filter((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0);
  if (missing.length > 0) {
    throw new Error(`The test RGW needs ${missing.join(", ")}: run scripts/setup.sh --test`);
  }
  // A port found free can be taken by another test file before the daemons bind it: try again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
}

async function startOnce(options: RgwOptions): Promise<Rgw> {
  const dir = mkdtempSync(join(tmpdir(), "strata-rgw-"));
  const [rgwPort, monV1Port, monV2Port] = await freePorts(3);
  const env = {
    ...process.env,
    CEPH_PROBE_DIR: dir,
    RGW_PORT: String(rgwPort),
    MON_V1_PORT: String(monV1Port),
    MON_V2_PORT: String(monV2Port),
    OSD_STORE: "memstore",
    OSD_MEM_BYTES: String(options.memBytes ?? 1024 ** 3),
    // Throw-away data: no grace for a clean shutdown (radosgw takes ~4 s), SIGKILL after SIGTERM.
    STOP_GRACE: "0",
  };
  // Cleanup that works from a synchronous exit handler too.
  let stopped = false;
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    spawnSync(join(RGW_TOOLS, "stop-rgw.sh"), { env, stdio: "ignore", timeout: 30_000 });
    rmSync(dir, { recursive: true, force: true });
  };
  const onExit = () => stopSync();
  const onSignal = (signal: NodeJS.Signals) => {
    stopSync();
    process.kill(process.pid, signal);
  };
  process.once("exit", onExit);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  // The daemons detach from us, so a SIGKILLed test process would leave them running: a watchdog
  // stops them once this process is gone.
  const watchdog = spawn(
    "sh",
    ["-c", 'while kill -0 "$WATCH_PID" 2>/dev/null; do sleep 1; done; "$STOP"; rm -rf "$CEPH_PROBE_DIR"'],
    {
      env: { ...env, WATCH_PID: String(process.pid), STOP: join(RGW_TOOLS, "stop-rgw.sh") },
      detached: true,
      stdio: "ignore",
    },
  );
  watchdog.unref();
  const forget = () => {
    process.off("exit", onExit);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (watchdog.exitCode === null) watchdog.kill("SIGKILL");
  };

  const t0 = performance.now();
  let out: string;
  try {
    out = await runScript(join(RGW_TOOLS, "start-rgw.sh"), env, 120_000);
  } catch (e) {
    stopSync();
    forget();
    throw e;
  }
  const startMs = performance.now() - t0;
  const value = (name: string) => {
    const m = new RegExp(`^${name}=(.*)$`, "m").exec(out);
    if (!m) throw new Error(`start-rgw.sh printed no ${name}=:\n${out}`);
    return m[1].trim();
  };
  const endpoint = value("S3_ENDPOINT");
  const accessKeyId = value("AWS_ACCESS_KEY_ID");
  const secretAccessKey = value("AWS_SECRET_ACCESS_KEY");
  const client = () =>
    new S3Client({
      endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId, secretAccessKey },
    });
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    startMs,
    client,
    async createBucket(name) {
      const s3 = client();
      try {
        await s3.send(new CreateBucketCommand({ Bucket: name }));
      } finally {
        s3.destroy();
      }
    },
    cephTool(command, ...args) {
      return runCommand(command, args, { ...env, CEPH_CONF: value("CEPH_CONF") }, 60_000);
    },
    cpuSeconds() {
      // start-rgw.sh has each daemon write its pid to run/<name>.pid.
      const run = join(dir, "run");
      let ticks = 0;
      for (const f of readdirSync(run).filter((n) => n.endsWith(".pid"))) {
        try {
          const stat = readFileSync(`/proc/${readFileSync(join(run, f), "utf8").trim()}/stat`, "utf8");
          const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
          ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
        } catch {
          // A daemon that has gone: its time is not counted.
        }
      }
      return ticks / 100;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await runScript(join(RGW_TOOLS, "stop-rgw.sh"), env, 60_000).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      forget();
    },
  };
}

function runScript(path: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return runCommand(path, [], env, timeoutMs);
}

/** Runs a command to its end; rejects with its output when it fails or outlives `timeoutMs`. */
function runCommand(
  path: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(path, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`${path} could not run: ${e.message}`));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${path} failed (${signal ?? `exit ${code}`}):\n${stdout}${stderr}`));
    });
  });
}

/** Distinct free loopback TCP ports (all held open at once, so they differ). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once("error", reject);
          s.listen(0, "127.0.0.1", () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
