// The dynamic binaries of the guest (dropbear, sftp-server, resize2fs) and the closure of their
// shared libraries, found from each ELF file's PT_INTERP and DT_NEEDED entries rather than from
// package dependencies, so only the libraries actually loaded go into the image.
import { existsSync } from "node:fs";
import { lstat, readFile, readlink } from "node:fs/promises";
import { join, posix } from "node:path";
import { BINARIES, PACKAGES } from "./recipe.ts";
import { copyTreeFile, symlinkInTree } from "./tree-writes.ts";

/** Copies BINARIES from the extracted packages into `root`, with their libraries in lib/x86_64-linux-gnu. */
export async function installBinariesWithLibraries(pkgRoot: string, root: string): Promise<void> {
  const libs = new Set<string>();
  const queue: string[] = [];
  for (const [from, to] of BINARIES) {
    const src = join(pkgRoot, from);
    await copyTreeFile(root, src, to, 0o755);
    queue.push(src);
  }
  while (queue.length) {
    const elf = elfDependencies(await readFile(queue.shift()!));
    if (!elf) continue;
    if (elf.interp && !libs.has(elf.interp)) {
      libs.add(elf.interp);
      const real = await resolveIn(pkgRoot, elf.interp);
      const name = posix.basename(real);
      await copyTreeFile(root, join(pkgRoot, real), `lib/x86_64-linux-gnu/${name}`, 0o755);
      if (elf.interp !== `/lib/x86_64-linux-gnu/${name}`) {
        await symlinkInTree(root, elf.interp.slice(1), `/lib/x86_64-linux-gnu/${name}`);
      }
    }
    for (const lib of elf.needed) {
      if (libs.has(lib)) continue;
      libs.add(lib);
      const real = await findLibrary(pkgRoot, lib);
      // The dynamic loader (libc needs it too) must stay executable: the kernel runs it.
      const mode = lib.startsWith("ld-linux") ? 0o755 : 0o644;
      await copyTreeFile(root, join(pkgRoot, real), `lib/x86_64-linux-gnu/${lib}`, mode);
      queue.push(join(pkgRoot, real));
    }
  }
}

/** Follows symlinks of `path` inside `root` (absolute targets are taken relative to it). */
async function resolveIn(root: string, path: string, depth = 0): Promise<string> {
  if (depth > 20) throw new Error(`too many symlinks at ${path}`);
  const parts = path.split("/").filter(Boolean);
  let cur = "";
  for (let i = 0; i < parts.length; i++) {
    const next = `${cur}/${parts[i]}`;
    const st = await lstat(join(root, next)).catch(() => null);
    if (!st) throw new Error(`${path} is not in the packages`);
    if (st.isSymbolicLink()) {
      const target = await readlink(join(root, next));
      const base = target.startsWith("/") ? target : posix.join(cur || "/", target);
      return resolveIn(root, posix.join(base, ...parts.slice(i + 1)), depth + 1);
    }
    cur = next;
  }
  return cur;
}

async function findLibrary(pkgRoot: string, name: string): Promise<string> {
  for (const d of [
    "lib/x86_64-linux-gnu",
    "usr/lib/x86_64-linux-gnu",
    "lib64",
    "usr/lib64",
    "lib",
    "usr/lib",
  ]) {
    if (existsSync(join(pkgRoot, d, name))) return resolveIn(pkgRoot, `/${d}/${name}`);
  }
  throw new Error(`shared library ${name} is in none of the downloaded packages (${PACKAGES.join(", ")})`);
}

/** PT_INTERP and DT_NEEDED of a 64-bit little-endian ELF file; null if it is not ELF. */
export function elfDependencies(buf: Buffer): { interp?: string; needed: string[] } | null {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) return null;
  if (buf[4] !== 2 || buf[5] !== 1) throw new Error("only 64-bit little-endian ELF is supported");
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  const loads: { vaddr: number; offset: number; size: number }[] = [];
  let dynamic: { offset: number; size: number } | undefined;
  let interp: string | undefined;
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    const type = buf.readUInt32LE(o);
    const offset = Number(buf.readBigUInt64LE(o + 8));
    const vaddr = Number(buf.readBigUInt64LE(o + 16));
    const size = Number(buf.readBigUInt64LE(o + 32));
    if (type === 1) loads.push({ vaddr, offset, size });
    else if (type === 2) dynamic = { offset, size };
    else if (type === 3) interp = buf.toString("latin1", offset, buf.indexOf(0, offset));
  }
  const needed: string[] = [];
  if (!dynamic) return { interp, needed };
  const neededOffsets: number[] = [];
  let strtab = -1;
  for (let o = dynamic.offset; o + 16 <= dynamic.offset + dynamic.size; o += 16) {
    const tag = Number(buf.readBigInt64LE(o));
    const val = Number(buf.readBigUInt64LE(o + 8));
    if (tag === 0) break;
    if (tag === 1) neededOffsets.push(val);
    else if (tag === 5) strtab = val;
  }
  const load = loads.find((l) => strtab >= l.vaddr && strtab < l.vaddr + l.size);
  if (!load) throw new Error("ELF: DT_STRTAB is outside the loaded segments");
  const strOff = strtab - load.vaddr + load.offset;
  for (const n of neededOffsets) needed.push(buf.toString("latin1", strOff + n, buf.indexOf(0, strOff + n)));
  return { interp, needed };
}
