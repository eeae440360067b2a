// The initramfs: busybox, the `init` script from ./guest, /etc/modules naming INITRAMFS_MODULES,
// and the root file system's kernel modules, as a gzipped newc cpio archive.
import { readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { type CpioEntry, cpioNewc, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG } from "./cpio-newc.ts";
import { walk } from "./file-tree.ts";
import { run } from "./host-commands.ts";
import { GUEST_DIR, INITRAMFS_MODULES } from "./recipe.ts";

/** The gzipped initramfs, its modules taken from the root file system tree in `root`. */
export async function buildInitramfs(root: string, kver: string, busybox: string): Promise<Buffer> {
  const entries: CpioEntry[] = [];
  const dir = (path: string) => entries.push({ path, mode: S_IFDIR | 0o755 });
  for (const d of ["bin", "dev", "etc", "lib", "lib/modules", "newroot", "proc", "sys", "tmp"]) dir(d);
  entries.push({ path: "dev/console", mode: S_IFCHR | 0o600, rdev: [5, 1] });
  entries.push({ path: "dev/null", mode: S_IFCHR | 0o666, rdev: [1, 3] });
  entries.push({ path: "init", mode: S_IFREG | 0o755, data: await readFile(join(GUEST_DIR, "init")) });
  entries.push({ path: "bin/busybox", mode: S_IFREG | 0o755, data: await readFile(busybox) });
  for (const applet of (await run(busybox, ["--list"])).split("\n").filter(Boolean)) {
    if (applet !== "busybox")
      entries.push({ path: `bin/${applet}`, mode: S_IFLNK | 0o777, data: Buffer.from("busybox") });
  }
  entries.push({
    path: "etc/modules",
    mode: S_IFREG | 0o644,
    data: Buffer.from(`${INITRAMFS_MODULES.join("\n")}\n`),
  });
  // The same modules as the root file system (a few hundred KiB), with its modules.dep.
  const modRoot = join(root, "lib/modules", kver);
  const seen = new Set<string>();
  for (const f of (await walk(modRoot)).sort()) {
    const rel = relative(root, f);
    const parents = rel.split("/").slice(0, -1);
    for (let i = 2; i <= parents.length; i++) {
      const p = parents.slice(0, i).join("/");
      if (!seen.has(p)) {
        seen.add(p);
        dir(p);
      }
    }
    entries.push({ path: rel, mode: S_IFREG | 0o644, data: await readFile(f) });
  }
  return gzipSync(cpioNewc(entries), { level: 9 });
}
