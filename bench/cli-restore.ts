// Strata's full restore to a file as a user runs it (bin/strata against a live daemon), for the
// storage benchmark: `strata snapshot export` (EBS direct APIs) and `strata volume read` of a
// freshly created, lazily restored volume (admin socket). Each output is checked by SHA-256.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startBenchDaemon } from "./daemon.ts";
import { assertSameContent, settleWrites, timeCommand } from "./reference-tools.ts";

const STRATA = join(import.meta.dirname, "..", "bin", "strata");

export interface CliRestores {
  /** `strata snapshot import` of the raw file (how the snapshot got there; context). */
  importSeconds: number;
  exportRuns: number[];
  volumeReadRuns: number[];
  /** CPU-seconds of each run, the daemon's (all its threads) and the CLI's. */
  exportCpu: RunCpu[];
  volumeReadCpu: RunCpu[];
}

export interface RunCpu {
  daemon: number;
  cli: number;
}

/** CPU-seconds so far of a process (`self`: its waited-for children instead, as the CLI runs are). */
function cpuSeconds(pid: number | "self"): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces): utime is the 14th, cutime the 16th.
  const f = stat
    .slice(stat.lastIndexOf(")") + 2)
    .split(" ")
    .map(Number);
  const ticks = pid === "self" ? f[13] + f[14] : f[11] + f[12];
  return ticks / 100;
}

/** The seconds `run` took, and the CPU the daemon and the waited-for CLI used meanwhile. */
function measured(daemonPid: number, run: () => number, cpu: RunCpu[]): number {
  const [d0, c0] = [cpuSeconds(daemonPid), cpuSeconds("self")];
  const seconds = run();
  cpu.push({ daemon: cpuSeconds(daemonPid) - d0, cli: cpuSeconds("self") - c0 });
  return seconds;
}

/** The environment without AWS settings, so the data dir's credentials file is what is used. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AWS_")));
}

export async function cliRestores(
  dir: string,
  raw: string,
  repeats: number,
  expected: string,
  log: (step: string) => void,
): Promise<CliRestores> {
  const dataDir = join(dir, "daemon");
  const out = join(dir, "restored.raw");
  const daemon = await startBenchDaemon(dataDir, ["--regions", "us-east-1", "--no-base-image"]);
  const env = cleanEnv();
  const api = ["--data-dir", dataDir, "--endpoint", daemon.url];
  const admin = ["--data-dir", dataDir];
  const strata = (args: string[]) =>
    execFileSync(STRATA, args, { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  try {
    log("strata snapshot import (the snapshot the CLI restores)");
    const started = performance.now();
    const imported = JSON.parse(strata(["snapshot", "import", raw, ...api, "--json"])) as {
      SnapshotId: string;
    };
    const importSeconds = (performance.now() - started) / 1000;
    const snapshotId = imported.SnapshotId;

    log(`strata snapshot export x${repeats}`);
    const exportRuns: number[] = [];
    const exportCpu: RunCpu[] = [];
    for (let i = 0; i < repeats; i++) {
      rmSync(out, { force: true });
      settleWrites();
      const run = () => timeCommand(STRATA, ["snapshot", "export", snapshotId, out, ...api], { env });
      exportRuns.push(measured(daemon.pid, run, exportCpu));
      await assertSameContent(out, expected, "strata snapshot export");
    }

    log(`strata volume read of a fresh restored volume x${repeats}`);
    const volumeReadRuns: number[] = [];
    const volumeReadCpu: RunCpu[] = [];
    for (let i = 0; i < repeats; i++) {
      rmSync(out, { force: true });
      // Before the volume exists: its background hydration must not get a head start.
      settleWrites();
      const vol = JSON.parse(strata(["volume", "create", "--snapshot", snapshotId, ...admin])) as {
        id: string;
      };
      const run = () => timeCommand(STRATA, ["volume", "read", vol.id, "--out", out, ...admin], { env });
      volumeReadRuns.push(measured(daemon.pid, run, volumeReadCpu));
      await assertSameContent(out, expected, "strata volume read");
      strata(["volume", "delete", vol.id, ...admin]);
    }
    rmSync(out, { force: true });
    return { importSeconds, exportRuns, volumeReadRuns, exportCpu, volumeReadCpu };
  } finally {
    await daemon.stop();
  }
}
