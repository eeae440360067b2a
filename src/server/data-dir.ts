// Data at rest is private to the daemon's user: region metadata holds every instance's user data,
// volumes and chunks hold the disks, instance dirs the console logs.
import { chmodSync, lstatSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";

/**
 * Makes everything the process creates from now on 0700/0600 (its children, QEMU included,
 * inherit the umask), then takes group and other access away from the data dir and what sits
 * directly in it (deeper files become unreachable through their 0700 parents). Returns the one
 * line to log when something was tightened.
 */
export function makeDataDirPrivate(dataDir: string): string | undefined {
  process.umask(0o077);
  mkdirSync(dataDir, { recursive: true });
  const changed: string[] = [];
  const tighten = (path: string, label: string) => {
    const s = lstatSync(path);
    // A symlink's own mode means nothing, and chmod would change its target (maybe not ours).
    if (s.isSymbolicLink()) return;
    const mode = s.mode & 0o7777;
    const tight = mode & ~0o077;
    if (mode === tight) return;
    chmodSync(path, tight);
    changed.push(`${label} ${octal(mode)} -> ${octal(tight)}`);
  };
  tighten(dataDir, dataDir);
  for (const name of readdirSync(dataDir)) tighten(join(dataDir, name), name);
  return changed.length
    ? `data dir ${dataDir}: tightened ${changed.join(", ")} (no access for group and others)`
    : undefined;
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, "0");
}
