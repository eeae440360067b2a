// Writes into the root file system's tree, each path with the mode the recipe chooses. mkdir and
// writeFile take their modes through the process umask, which is the daemon's 077 when it builds
// the image and a shell's 022 when `strata images build-base` does: every path is chmod'ed after
// it is made, so the modes in the image are the same either way.
import { chmod, copyFile, lstat, mkdir, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

/** A directory's mode unless the recipe says otherwise; also every parent these helpers create. */
export const DIR_MODE = 0o755;

/**
 * Makes the directory `rel` below `root` with `mode`, and its missing parents with DIR_MODE
 * (`root` itself included, when missing). Parents that exist keep their mode.
 */
export async function makeDir(root: string, rel: string, mode = DIR_MODE): Promise<void> {
  const path = join(root, rel);
  const missing: string[] = [];
  for (let p = path; !(await isPresent(p)); p = dirname(p)) missing.unshift(p);
  for (const p of missing) {
    await mkdir(p);
    await chmod(p, DIR_MODE);
  }
  await chmod(path, mode);
}

/** Writes the file `rel` below `root` with `mode` (parents as makeDir's). */
export async function writeTreeFile(
  root: string,
  rel: string,
  data: string | Buffer,
  mode: number,
): Promise<void> {
  await makeParents(root, rel);
  await writeFile(join(root, rel), data);
  await chmod(join(root, rel), mode);
}

/** Copies `src` to the file `rel` below `root` with `mode` (parents as makeDir's). */
export async function copyTreeFile(root: string, src: string, rel: string, mode: number): Promise<void> {
  await makeParents(root, rel);
  await copyFile(src, join(root, rel));
  await chmod(join(root, rel), mode);
}

/** The symlink `rel` below `root` to `target` (parents as makeDir's; a symlink's own mode is always 0777). */
export async function symlinkInTree(root: string, rel: string, target: string): Promise<void> {
  await makeParents(root, rel);
  await symlink(target, join(root, rel));
}

async function makeParents(root: string, rel: string): Promise<void> {
  if (!(await isPresent(join(root, dirname(rel))))) await makeDir(root, dirname(rel));
}

async function isPresent(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => null)) !== null;
}
