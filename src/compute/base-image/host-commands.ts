// Host commands the build runs (apt-get, dpkg-deb, sfdisk, mkfs.*, mtools, syslinux, debugfs,
// busybox from the packages), with the sbin directories on PATH, a C locale and umask 022.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { MiB } from "./recipe.ts";

const HOST_TOOLS: [string, string][] = [
  ["apt-get", "apt"],
  ["dpkg-deb", "dpkg"],
  ["sfdisk", "fdisk"],
  ["mkfs.vfat", "dosfstools"],
  ["mcopy", "mtools"],
  ["syslinux", "syslinux"],
  ["mkfs.ext4", "e2fsprogs"],
];
const TOOL_PATH = `${process.env.PATH ?? "/usr/bin:/bin"}:/usr/local/sbin:/usr/sbin:/sbin`;

/**
 * `cmd args` as run through sh with umask 022: what a child creates (dpkg-deb -x, busybox depmod)
 * must not take the daemon's umask 077. Node cannot set a child's umask, and process.umask() would
 * change it for the whole daemon, requests in flight included.
 */
function withUmask022(cmd: string, args: string[]): [string, string[]] {
  return ["/bin/sh", ["-c", 'umask 022 && exec "$@"', "sh", cmd, ...args]];
}

/** Runs a host command and resolves with its stdout; a failure's error carries its stderr. */
export function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; input?: string; timeoutMs?: number } = {},
) {
  return new Promise<string>((resolve, reject) => {
    const child = execFile(
      ...withUmask022(cmd, args),
      {
        cwd: options.cwd,
        encoding: "utf8",
        maxBuffer: 64 * MiB,
        timeout: options.timeoutMs ?? 600_000,
        env: { ...process.env, PATH: TOOL_PATH, LC_ALL: "C", MTOOLS_SKIP_CHECK: "1" },
      },
      (err, stdout, stderr) => {
        if (err) {
          const msg = `${cmd} ${args.join(" ")}: ${(stderr || err.message).trim()}`;
          reject(Object.assign(new Error(msg), { stderr }));
        } else resolve(stdout);
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Runs a command (as is, without TOOL_PATH) and resolves with its binary stdout. */
export function runBuffer(cmd: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      ...withUmask022(cmd, args),
      { encoding: "buffer", maxBuffer: 256 * MiB },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${cmd} ${args.join(" ")}: ${(stderr.toString() || err.message).trim()}`));
        else resolve(stdout);
      },
    );
  });
}

/** Fails early, naming the Debian packages to install, if a host tool is missing. */
export async function checkHostTools(): Promise<void> {
  const dirs = TOOL_PATH.split(":");
  const missing = HOST_TOOLS.filter(([tool]) => !dirs.some((d) => existsSync(join(d, tool))));
  if (process.getuid?.() !== 0 && !dirs.some((d) => existsSync(join(d, "debugfs")))) {
    missing.push(["debugfs", "e2fsprogs"]);
  }
  if (missing.length) {
    throw new Error(
      `base image: missing host tools ${missing.map((m) => m[0]).join(", ")} ` +
        `(apt-get install ${[...new Set(missing.map((m) => m[1]))].join(" ")})`,
    );
  }
}
