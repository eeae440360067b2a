// Kernel modules of the guest: MODULES and their dependencies (from each module's `depends=`
// modinfo), copied uncompressed from the kernel package and indexed with busybox depmod.
import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { walk } from "./file-tree.ts";
import { run, runBuffer } from "./host-commands.ts";
import { MODULES } from "./recipe.ts";

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
    const dest = join(root, "lib/modules", kver, rel.replace(/\.xz$/, ""));
    await mkdir(dirname(dest), { recursive: true });
    await writeFile(dest, data);
    const at = data.indexOf("\0depends=");
    if (at >= 0) {
      const deps = data.toString("latin1", at + 9, data.indexOf(0, at + 9));
      for (const d of deps.split(",").filter(Boolean)) wanted.push(d);
    }
  }
  for (const f of ["modules.builtin", "modules.order"]) {
    if (existsSync(join(modDir, f))) await copyFile(join(modDir, f), join(root, "lib/modules", kver, f));
  }
  await run(busybox, ["depmod", "-b", root, kver]);
}
