// A small file system (tmpfs) mounted at one directory, visible only to the processes that enter
// its private mount namespace: the namespace is held by a `sleep` that dies with the test
// process (parent-death signal), taking the mount with it, so nothing is left mounted on the host.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { statfsSync } from "node:fs";

export interface SmallFilesystem {
  /** A command prefix that runs a program inside the namespace (see DaemonOptions.wrap). */
  wrap: string[];
  /** A path as the processes inside the namespace see it, for the test's own reads. */
  inside(path: string): string;
  /** Bytes free on the small file system (what `df` reports as available). */
  free(): number;
  close(): Promise<void>;
}

/** Whether this process may mount a tmpfs in a private mount namespace (root, or CAP_SYS_ADMIN). */
export function canMountTmpfs(): string | null {
  try {
    execFileSync(
      "unshare",
      ["-m", "--propagation", "private", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
      {
        stdio: "pipe",
      },
    );
    return null;
  } catch (e) {
    return `cannot mount a tmpfs in a private mount namespace here (${(e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message})`;
  }
}

export async function mountSmallFilesystem(dir: string, sizeMiB: number): Promise<SmallFilesystem> {
  const holder: ChildProcess = spawn(
    "setpriv",
    [
      "--pdeathsig",
      "KILL",
      "--",
      "unshare",
      "-m",
      "--propagation",
      "private",
      "sh",
      "-c",
      `mkdir -p '${dir}' && mount -t tmpfs -o size=${sizeMiB}m tmpfs '${dir}' && echo mounted && exec sleep infinity`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const exited = new Promise<void>((r) => holder.once("exit", () => r()));
  await new Promise<void>((resolve, reject) => {
    let out = "";
    holder.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("mounted")) resolve();
    });
    let err = "";
    holder.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
    });
    void exited.then(() => reject(new Error(`could not mount a tmpfs at ${dir}: ${err}`)));
  });
  const inside = (path: string) => `/proc/${holder.pid}/root${path}`;
  return {
    wrap: ["nsenter", `--mount=/proc/${holder.pid}/ns/mnt`, "--"],
    inside,
    free: () => {
      const s = statfsSync(inside(dir));
      return s.bavail * s.bsize;
    },
    async close() {
      holder.kill("SIGKILL");
      await exited;
    },
  };
}
