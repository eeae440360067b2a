// Kernel modules of the guest: MODULES and their dependencies (from each module's `depends=`
// modinfo), copied uncompressed from the kernel package and indexed with busybox depmod. All 0644
// in 0755 directories.
import { existsSync } from "node:fs";
import { chmod, readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { walk } from "./file-tree.ts";
import { run, runBuffer } from "./host-commands.ts";
import { MODULES } from "./recipe.ts";
import { copyTreeFile, writeTreeFile } from "./tree-writes.ts";

/** Copies the wanted modules and their dependencies (uncompressed) and runs depmod for modprobe. */
export async function installModules(
  pkgRoot: string,
  root: string,
  kver: string,
  busybox: string,
): Promise<void> {
  const modDir = join(pkgRoot, "lib/modules", kver);
  const index = new Map<string, string>();
  for (const f of await walk(join(modDir, "kernel"))) {
    const m = /([^/]+)\.ko(\.xz)?$/.exec(f);
    if (m) index.set(m[1].replaceAll("-", "_"), relative(modDir, f));
  }
  const wanted = [...MODULES];
  const done = new Set<string>();
  while (wanted.length) {
    const name = wanted.shift()!.replaceAll("-", "_");
    if (done.has(name)) continue;
    done.add(name);
    const rel = index.get(name);
    if (!rel) throw new Error(`kernel ${kver} has no module ${name}`);
    const data: Buffer = rel.endsWith(".xz")
      ? await runBuffer(busybox, ["xzcat", join(modDir, rel)])
      : await readFile(join(modDir, rel));
    await writeTreeFile(root, join("lib/modules", kver, rel.replace(/\.xz$/, "")), data, 0o644);
    const at = data.indexOf("\0depends=");
    if (at >= 0) {
      const deps = data.toString("latin1", at + 9, data.indexOf(0, at + 9));
      for (const d of deps.split(",").filter(Boolean)) wanted.push(d);
    }
  }
  for (const f of ["modules.builtin", "modules.order"]) {
    if (existsSync(join(modDir, f)))
      await copyTreeFile(root, join(modDir, f), join("lib/modules", kver, f), 0o644);
  }
  await run(busybox, ["depmod", "-b", root, kver]);
  // depmod's indexes (modules.dep, modules.alias, ...) get their modes here, not from its umask.
  const dir = join(root, "lib/modules", kver);
  for (const e of await readdir(dir, { withFileTypes: true }))
    if (e.isFile()) await chmod(join(dir, e.name), 0o644);
}
