// Recursive directory listings of the trees the build assembles.
import { readdir } from "node:fs/promises";
import { join } from "node:path";

/** Every non-directory below `dir`. */
export async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

/** Every entry below `dir`, directories included (each before its contents). */
export async function walkAll(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...(await walkAll(p)));
  }
  return out;
}
