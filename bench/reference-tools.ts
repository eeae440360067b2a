// The storage benchmark's reference tools, run on the same bytes as Strata in the same run:
// sha256sum, zstd and cp for a snapshot's work, and two deduplicating backup programs (restic and
// borg, Debian packages) for backup, incremental backup and full restore to a file.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, createReadStream, mkdirSync, openSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

const MiB = 1024 * 1024;

/** Seconds one command takes; stdout goes to /dev/null unless a file descriptor is given. */
export function timeCommand(
  cmd: string,
  args: string[],
  o: { stdout?: "ignore" | number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): number {
  const start = performance.now();
  const r = spawnSync(cmd, args, { stdio: ["ignore", o.stdout ?? "ignore", "pipe"], env: o.env, cwd: o.cwd });
  const seconds = (performance.now() - start) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return seconds;
}

/** The best of `repeats` runs of fn, and every run. */
export function bestOf(repeats: number, fn: () => number): { best: number; runs: number[] } {
  const runs = Array.from({ length: repeats }, fn);
  return { best: Math.min(...runs), runs };
}

/** Writes the page cache holds to disk, so that one timed run does not pay for the last one's. */
export function settleWrites(): void {
  timeCommand("sync", []);
}

export function warmPageCache(file: string): void {
  timeCommand("cat", [file]);
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 8 * MiB })) hash.update(chunk);
  return hash.digest("hex");
}

/** Throws unless `file` has the SHA-256 `expected` (the source's). */
export async function assertSameContent(file: string, expected: string, what: string): Promise<void> {
  const actual = await sha256File(file);
  if (actual !== expected) throw new Error(`${what}: ${file} has SHA-256 ${actual}, expected ${expected}`);
}

// --- sha256sum, zstd, cp -------------------------------------------------------------------------

export interface SnapshotReferences {
  sha256sum: number;
  zstd: number;
  cp: number;
  zstdBytes: number;
  sparseBytes: number;
}

export function snapshotReferences(raw: string, repeats: number): SnapshotReferences {
  warmPageCache(raw);
  const copy = `${raw}.copy`;
  const cp = bestOf(repeats, () => {
    rmSync(copy, { force: true });
    return timeCommand("cp", ["--sparse=always", raw, copy]);
  }).best;
  const sparseBytes = statSync(copy).blocks * 512;
  rmSync(copy);
  return {
    sha256sum: bestOf(repeats, () => timeCommand("sha256sum", [raw])).best,
    zstd: bestOf(repeats, () => timeCommand("zstd", ["-1", "-T0", "-c", raw])).best,
    cp,
    zstdBytes: compress(raw),
    sparseBytes,
  };
}

/** Writes `<raw>.zst` (zstd -1 -T0) and returns its size. */
function compress(raw: string): number {
  const fd = openSync(`${raw}.zst`, "w");
  try {
    timeCommand("zstd", ["-1", "-T0", "-c", raw], { stdout: fd });
  } finally {
    closeSync(fd);
  }
  return statSync(`${raw}.zst`).size;
}

/** `zstd -d` of the compressed raw file (to /dev/null): the in-memory restore reference. */
export function zstdDecompressReference(raw: string, repeats: number): number {
  const zst = `${raw}.zst`;
  compress(raw);
  warmPageCache(zst);
  const seconds = bestOf(repeats, () => timeCommand("zstd", ["-d", "-c", zst])).best;
  rmSync(zst);
  return seconds;
}

// --- Backup programs ----------------------------------------------------------------------------

/**
 * A deduplicating backup program driven on one raw file: backups into one repository, each a
 * new archive/snapshot of the file as it is then, and a full restore of the latest to a file.
 */
export interface BackupTool {
  /** Name and version, e.g. "restic 0.14.0". */
  readonly label: string;
  /** Starts over with a new, empty repository. */
  init(): void;
  /** Seconds to back up the file. */
  backup(raw: string): number;
  /** Seconds to restore the latest backup into the empty directory `into`; and the file's path. */
  restore(raw: string, into: string): { seconds: number; file: string };
}

/** The version line of a program, or undefined when it is not installed. */
function version(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
}

/** An S3 bucket (path style) for a backup program's repository. */
export interface S3Repository {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** A new, empty bucket for each repository; restic creates it. */
  bucketName(n: number): string;
}

/**
 * restic: a password-protected repository (in the work dir, or in an S3 bucket: the like-for-like
 * reference when Strata's packs are in one too), its cache in the work dir.
 */
export function restic(work: string, s3?: S3Repository): BackupTool | undefined {
  const v = /restic (\S+)/.exec(version("restic", ["version"]) ?? "")?.[1];
  if (!v) return undefined;
  let repositories = 0;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RESTIC_PASSWORD: "strata-bench",
    RESTIC_CACHE_DIR: join(work, "cache"),
    ...(s3 && { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey }),
  };
  const restic = (args: string[], cwd?: string) => timeCommand("restic", ["--quiet", ...args], { env, cwd });
  return {
    label: s3 ? `restic ${v} (repository in the same RGW)` : `restic ${v}`,
    init() {
      rmSync(work, { recursive: true, force: true });
      mkdirSync(work, { recursive: true });
      env.RESTIC_REPOSITORY = s3 ? `s3:${s3.endpoint}/${s3.bucketName(++repositories)}` : join(work, "repo");
      restic(["init"]);
    },
    backup: (raw) => restic(["backup", raw]),
    restore(raw, into) {
      // restic restores a file under the target at its full original path.
      return { seconds: restic(["restore", "latest", "--target", into]), file: join(into, raw) };
    },
  };
}

/** borg: an unencrypted repository (-e none), its cache, config and keys in the work dir too. */
function borg(work: string): BackupTool | undefined {
  const v = /borg (\S+)/.exec(version("borg", ["--version"]) ?? "")?.[1];
  if (!v) return undefined;
  const repo = join(work, "repo");
  const env = {
    ...process.env,
    BORG_BASE_DIR: join(work, "base"),
    BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: "yes",
    BORG_RELOCATED_REPO_ACCESS_IS_OK: "yes",
  };
  let archives = 0;
  const borg = (args: string[], cwd?: string) => timeCommand("borg", args, { env, cwd });
  return {
    label: `borg ${v}`,
    init() {
      rmSync(work, { recursive: true, force: true });
      mkdirSync(work, { recursive: true });
      archives = 0;
      borg(["init", "-e", "none", repo]);
    },
    backup: (raw) => borg(["create", `${repo}::b${++archives}`, raw]),
    restore(raw, into) {
      // borg extracts into the working directory, at the path stored (without its leading slash).
      const seconds = borg(["extract", `${repo}::b${archives}`], into);
      return { seconds, file: join(into, raw) };
    },
  };
}

/** The backup programs installed here; a line on stderr for each one that is not. */
export function backupTools(dir: string): BackupTool[] {
  const tools: BackupTool[] = [];
  for (const [name, pkg, make] of [
    ["restic", "restic", restic],
    ["borg", "borgbackup", borg],
  ] as const) {
    const tool = make(join(dir, name));
    if (tool) tools.push(tool);
    else
      process.stderr.write(
        `[bench] ${name} is not installed: skipped (apt-get install ${pkg}, or scripts/setup.sh --test)\n`,
      );
  }
  return tools;
}

export interface BackupFigures {
  label: string;
  firstRuns: number[];
  incremental: number;
  restoreRuns: number[];
}

/**
 * The first backup `repeats` times, each into an empty repository (the last one is kept for the
 * incremental); returns the runs.
 */
export function firstBackups(tool: BackupTool, raw: string, repeats: number): number[] {
  return Array.from({ length: repeats }, () => {
    tool.init();
    return tool.backup(raw);
  });
}

/** Full restores of the latest backup, `repeats` times, each checked against the source's SHA-256. */
export async function restores(
  tool: BackupTool,
  raw: string,
  dir: string,
  repeats: number,
  expected: string,
): Promise<number[]> {
  const runs: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const into = join(dir, "restore");
    rmSync(into, { recursive: true, force: true });
    mkdirSync(into);
    settleWrites();
    const { seconds, file } = tool.restore(raw, into);
    await assertSameContent(file, expected, `${tool.label} restore`);
    rmSync(into, { recursive: true, force: true });
    runs.push(seconds);
  }
  return runs;
}
