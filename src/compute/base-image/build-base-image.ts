// Builds Strata's public base image: a 1 GiB raw disk with Debian bookworm's cloud kernel, a
// busybox initramfs, and an ext4 root file system holding busybox, dropbear, resize2fs and the boot
// scripts in ./guest (root partition and file system grown to fill a larger volume, network,
// metadata service, SSH keys, user data once per instance id, clean ACPI shutdown). Everything is
// done without privileges: packages come from `apt-get download` and `dpkg-deb -x`, the partitions
// are built as files (mkfs.vfat + syslinux + mtools, mkfs.ext4 -d) and copied into the disk, the
// initramfs is written here (cpio newc). The result is cached per BASE_IMAGE_VERSION and built in a
// temporary directory renamed into place, so crashed or concurrent builds never leave a half-made
// image behind.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import {
  chmod,
  copyFile,
  type FileHandle,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, posix, relative } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";

/** Bump whenever the recipe (this file or ./guest) changes: the cache is keyed by it. */
export const BASE_IMAGE_VERSION = "2026.11.2";

export interface BuiltBaseImage {
  path: string;
  sizeBytes: number;
  version: string;
  /** `strata-minimal-${version}-x86_64` */
  name: string;
  kernelVersion: string;
}

export interface BaseImageManifest {
  name: string;
  version: string;
  kernelVersion: string;
  kernelCmdline: string;
  sizeBytes: number;
  sha256: string;
  /** sha256 over ./guest and this file's recipe constants: tells a stale cache from a missed version bump. */
  recipeSha256: string;
  builtAt: string;
  packages: { name: string; version: string; architecture: string }[];
}

const MiB = 1024 * 1024;
const DISK_SIZE = 1024 * MiB;
const BOOT_START = 1 * MiB;
const BOOT_SIZE = 64 * MiB;
const ROOT_START = BOOT_START + BOOT_SIZE;
const ROOT_SIZE = DISK_SIZE - ROOT_START;
const SECTOR = 512;
const DISK_ID = "0x53545241"; // "STRA"
const KERNEL_CMDLINE = "console=ttyS0 root=/dev/vda2 rw quiet panic=-1";
const KERNEL_META_PACKAGE = "linux-image-cloud-amd64";
/** Guest packages besides the kernel; the shared libraries are found from the binaries' DT_NEEDED. */
const PACKAGES = [
  "busybox-static",
  "dropbear-bin",
  "openssh-sftp-server",
  "libc6",
  "libcrypt1",
  "libtomcrypt1",
  "libtommath1",
  "libgmp10",
  "zlib1g",
  "syslinux-common",
  // resize2fs, which grows the root file system when the volume is larger than the image
  "e2fsprogs",
  "libext2fs2",
  "libcom-err2",
];
/** Dynamic binaries copied into the root file system: [path in the packages, path in the guest]. */
const BINARIES: [string, string][] = [
  ["usr/sbin/dropbear", "usr/sbin/dropbear"],
  ["usr/bin/dropbearkey", "usr/bin/dropbearkey"],
  ["usr/bin/dropbearconvert", "usr/bin/dropbearconvert"],
  ["usr/bin/dbclient", "usr/bin/dbclient"],
  // dropbear runs the SFTP subsystem from here (OpenSSH's scp speaks SFTP since 9.0).
  ["usr/lib/openssh/sftp-server", "usr/lib/sftp-server"],
  ["sbin/resize2fs", "sbin/resize2fs"],
];
/** Kernel modules in the guest (with their dependencies); the initramfs loads INITRAMFS_MODULES. */
const MODULES = ["virtio_pci", "virtio_blk", "virtio_net", "virtio_rng", "button", "evdev"];
const INITRAMFS_MODULES = ["virtio_pci", "virtio_blk", "virtio_net"];
/** Repository files in ./guest: [file, path in the guest, mode]. `init` goes into the initramfs. */
const GUEST_FILES: [string, string, number][] = [
  ["inittab", "etc/inittab", 0o644],
  ["rcS", "etc/init.d/rcS", 0o755],
  ["rcK", "etc/init.d/rcK", 0o755],
  ["imds", "usr/bin/imds", 0o755],
  ["udhcpc.script", "etc/udhcpc/default.script", 0o755],
  ["acpi-power", "etc/acpi/PWRF/00000080", 0o755],
  ["bash", "bin/bash", 0o755],
  ["profile", "etc/profile", 0o644],
];
const GUEST_DIR = join(import.meta.dirname, "guest");
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

export function baseImageName(version = BASE_IMAGE_VERSION): string {
  return `strata-minimal-${version}-x86_64`;
}

/** Strata's cache directory (as the daemon's): $STRATA_CACHE_DIR or ~/.cache/strata. */
export function defaultBaseImageCacheDir(): string {
  return process.env.STRATA_CACHE_DIR ?? join(homedir(), ".cache", "strata");
}

const inFlight = new Map<string, Promise<BuiltBaseImage>>();

/**
 * Builds (or returns the cached) raw disk: `cacheDir/<version>/disk.raw` with its manifest.json
 * (cacheDir e.g. ~/.cache/strata). Keyed by BASE_IMAGE_VERSION, rebuilt only if absent; built in
 * `cacheDir/<version>.tmp-<pid>` and renamed into place, so concurrent builders and crashes never
 * leave a half image. Concurrent calls in one process share one build.
 */
export function buildBaseImage(options: {
  cacheDir: string;
  log?: (m: string) => void;
}): Promise<BuiltBaseImage> {
  const finalDir = join(options.cacheDir, BASE_IMAGE_VERSION);
  let p = inFlight.get(finalDir);
  if (!p) {
    p = buildOnce(options.cacheDir, finalDir, options.log ?? (() => {})).finally(() =>
      inFlight.delete(finalDir),
    );
    inFlight.set(finalDir, p);
  }
  return p;
}

async function buildOnce(
  cacheDir: string,
  finalDir: string,
  log: (m: string) => void,
): Promise<BuiltBaseImage> {
  const cached = await readCached(finalDir, log);
  if (cached) return cached;
  await mkdir(cacheDir, { recursive: true });
  await removeStaleBuilds(cacheDir);
  const tmp = `${finalDir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);
  const started = Date.now();
  try {
    await buildInto(tmp, log);
    try {
      await rename(tmp, finalDir);
    } catch (e) {
      // Another builder finished first: theirs is as good as ours.
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw e;
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const built = await readCached(finalDir, log);
  if (!built) throw new Error(`base image: ${finalDir} is incomplete after the build`);
  log(
    `built ${built.name} (${built.kernelVersion}) in ${((Date.now() - started) / 1000).toFixed(1)} s: ${built.path}`,
  );
  return built;
}

async function readCached(dir: string, log: (m: string) => void): Promise<BuiltBaseImage | null> {
  let manifest: BaseImageManifest;
  try {
    manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as BaseImageManifest;
  } catch {
    return null;
  }
  const path = join(dir, "disk.raw");
  const st = await stat(path).catch(() => null);
  if (!st || st.size !== manifest.sizeBytes) return null;
  if (manifest.recipeSha256 !== (await recipeSha256())) {
    log(`the recipe in ${GUEST_DIR} changed since ${manifest.version} was built: bump BASE_IMAGE_VERSION`);
  }
  return {
    path,
    sizeBytes: manifest.sizeBytes,
    version: manifest.version,
    name: manifest.name,
    kernelVersion: manifest.kernelVersion,
  };
}

/** Removes `<version>.tmp-<pid>` directories whose builder process is gone. */
async function removeStaleBuilds(cacheDir: string): Promise<void> {
  for (const entry of await readdir(cacheDir)) {
    const m = /^[0-9][0-9.]*\.tmp-(\d+)$/.exec(entry);
    if (!m) continue;
    const pid = Number(m[1]);
    let alive = pid === process.pid;
    if (!alive) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (e) {
        alive = (e as NodeJS.ErrnoException).code === "EPERM";
      }
    }
    if (!alive) await rm(join(cacheDir, entry), { recursive: true, force: true });
  }
}

async function recipeSha256(): Promise<string> {
  const h = createHash("sha256");
  h.update(
    JSON.stringify({
      KERNEL_CMDLINE,
      PACKAGES,
      BINARIES,
      MODULES,
      INITRAMFS_MODULES,
      GUEST_FILES,
      DISK_SIZE,
    }),
  );
  for (const f of [...GUEST_FILES.map((g) => g[0]), "init"].sort()) {
    h.update(f);
    h.update(await readFile(join(GUEST_DIR, f)));
  }
  return h.digest("hex");
}

async function buildInto(dir: string, log: (m: string) => void): Promise<void> {
  await checkHostTools();
  const work = join(dir, "work");
  const debs = join(work, "debs");
  const pkgRoot = join(work, "packages");
  const root = join(work, "root");
  await mkdir(debs, { recursive: true });

  log("downloading Debian packages");
  await aptDownload(debs, [KERNEL_META_PACKAGE], log);
  const meta = (await readdir(debs)).find((f) => f.startsWith(`${KERNEL_META_PACKAGE}_`));
  if (!meta) throw new Error(`apt-get download ${KERNEL_META_PACKAGE} left no .deb`);
  const depends = (await run("dpkg-deb", ["-f", join(debs, meta), "Depends"])).trim();
  const kernelPackage = /(linux-image-\d[^\s,(]*)/.exec(depends)?.[1];
  if (!kernelPackage) throw new Error(`${KERNEL_META_PACKAGE} depends on no kernel image: ${depends}`);
  await aptDownload(debs, [kernelPackage, ...PACKAGES], log);

  log("extracting packages");
  const packages: BaseImageManifest["packages"] = [];
  for (const f of (await readdir(debs)).filter((f) => f.endsWith(".deb")).sort()) {
    const [name, version, architecture] = (
      await run("dpkg-deb", ["-f", join(debs, f), "Package", "Version", "Architecture"])
    )
      .trim()
      .split("\n")
      .map((l) => l.replace(/^[^:]+:\s*/, ""));
    packages.push({ name, version, architecture });
    if (name !== KERNEL_META_PACKAGE) await run("dpkg-deb", ["-x", join(debs, f), pkgRoot]);
  }
  const kernelVersions = await readdir(join(pkgRoot, "lib/modules")).catch(() => []);
  if (kernelVersions.length !== 1)
    throw new Error(`expected one kernel in ${kernelPackage}, found ${kernelVersions}`);
  const kver = kernelVersions[0];
  const busybox = join(pkgRoot, "bin/busybox");

  log(`building the root file system (kernel ${kver})`);
  await buildRootTree(pkgRoot, root, kver, busybox);
  const initrd = await buildInitramfs(root, kver, busybox);
  log(`initramfs ${(initrd.length / MiB).toFixed(1)} MiB`);

  log("writing the disk");
  const bootImg = join(work, "boot.img");
  await buildBootPartition(bootImg, join(pkgRoot, `boot/vmlinuz-${kver}`), initrd, work);
  const rootImg = join(work, "root.img");
  await buildRootPartition(rootImg, root, work);
  const disk = join(dir, "disk.raw");
  await assembleDisk(disk, await readFile(join(pkgRoot, "usr/lib/syslinux/mbr/mbr.bin")), bootImg, rootImg);

  log("hashing the disk");
  const manifest: BaseImageManifest = {
    name: baseImageName(),
    version: BASE_IMAGE_VERSION,
    kernelVersion: kver,
    kernelCmdline: KERNEL_CMDLINE,
    sizeBytes: DISK_SIZE,
    sha256: await sha256File(disk),
    recipeSha256: await recipeSha256(),
    builtAt: new Date().toISOString(),
    packages,
  };
  await rm(work, { recursive: true, force: true });
  await writeFile(join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
}

// ---------------------------------------------------------------------------------------------
// Host commands

function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; input?: string; timeoutMs?: number } = {},
) {
  return new Promise<string>((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
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

function runBuffer(cmd: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: "buffer", maxBuffer: 256 * MiB }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(" ")}: ${(stderr.toString() || err.message).trim()}`));
      else resolve(stdout);
    });
  });
}

async function checkHostTools(): Promise<void> {
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

async function aptDownload(dir: string, packages: string[], log: (m: string) => void): Promise<void> {
  // As root, apt drops to _apt for downloads, which cannot write into our directory.
  const args = [
    ...(process.getuid?.() === 0 ? ["-o", "APT::Sandbox::User=root"] : []),
    "download",
    ...packages,
  ];
  try {
    await run("apt-get", args, { cwd: dir });
  } catch (e) {
    const stderr = String((e as { stderr?: string }).stderr ?? "");
    if (
      !/Unable to locate package|no installation candidate|Can't select|not found|Failed to fetch/.test(
        stderr,
      )
    ) {
      throw e;
    }
    log("apt-get download failed, running apt-get update");
    await run("apt-get", ["update"], { cwd: dir });
    await run("apt-get", args, { cwd: dir });
  }
}

// ---------------------------------------------------------------------------------------------
// Root file system tree

async function buildRootTree(pkgRoot: string, root: string, kver: string, busybox: string): Promise<void> {
  const dirs: [string, number][] = [
    ["bin", 0o755],
    ["sbin", 0o755],
    ["usr/bin", 0o755],
    ["usr/sbin", 0o755],
    ["usr/lib", 0o755],
    ["lib/x86_64-linux-gnu", 0o755],
    ["lib64", 0o755],
    ["etc/init.d", 0o755],
    ["etc/dropbear", 0o755],
    ["etc/acpi/PWRF", 0o755],
    ["etc/udhcpc", 0o755],
    ["dev", 0o755],
    ["proc", 0o555],
    ["sys", 0o555],
    ["run", 0o755],
    ["tmp", 0o1777],
    ["var/log", 0o755],
    ["var/lib/strata", 0o755],
    ["var/tmp", 0o1777],
    ["var/spool/cron/crontabs", 0o755],
    ["root", 0o700],
    ["home", 0o755],
    ["mnt", 0o755],
    ["opt", 0o755],
    ["srv", 0o755],
  ];
  for (const [d, mode] of dirs) {
    await mkdir(join(root, d), { recursive: true });
    await chmod(join(root, d), mode);
  }
  await symlink("/run", join(root, "var/run"));
  await symlink("/run/lock", join(root, "var/lock"));
  await symlink("/proc/self/mounts", join(root, "etc/mtab"));

  // busybox and its applets
  await copyFile(busybox, join(root, "bin/busybox"));
  await chmod(join(root, "bin/busybox"), 0o755);
  for (const applet of (await run(busybox, ["--list-full"])).split("\n").filter((l) => l.includes("/"))) {
    if (applet === "bin/busybox" || existsSync(join(root, applet))) continue;
    await mkdir(dirname(join(root, applet)), { recursive: true });
    await symlink("/bin/busybox", join(root, applet));
  }

  // dropbear, sftp-server and their shared libraries
  const libs = new Set<string>();
  const queue: string[] = [];
  for (const [from, to] of BINARIES) {
    const src = join(pkgRoot, from);
    await mkdir(dirname(join(root, to)), { recursive: true });
    await copyFile(src, join(root, to));
    await chmod(join(root, to), 0o755);
    queue.push(src);
  }
  while (queue.length) {
    const elf = elfDependencies(await readFile(queue.shift()!));
    if (!elf) continue;
    if (elf.interp && !libs.has(elf.interp)) {
      libs.add(elf.interp);
      const real = await resolveIn(pkgRoot, elf.interp);
      const name = posix.basename(real);
      await copyFile(join(pkgRoot, real), join(root, "lib/x86_64-linux-gnu", name));
      await chmod(join(root, "lib/x86_64-linux-gnu", name), 0o755);
      if (elf.interp !== `/lib/x86_64-linux-gnu/${name}`) {
        await mkdir(dirname(join(root, elf.interp)), { recursive: true });
        await symlink(`/lib/x86_64-linux-gnu/${name}`, join(root, elf.interp));
      }
    }
    for (const lib of elf.needed) {
      if (libs.has(lib)) continue;
      libs.add(lib);
      const real = await findLibrary(pkgRoot, lib);
      await copyFile(join(pkgRoot, real), join(root, "lib/x86_64-linux-gnu", lib));
      // The dynamic loader (libc needs it too) must stay executable: the kernel runs it.
      await chmod(join(root, "lib/x86_64-linux-gnu", lib), lib.startsWith("ld-linux") ? 0o755 : 0o644);
      queue.push(join(pkgRoot, real));
    }
  }

  await installModules(pkgRoot, root, kver, busybox);

  for (const [file, to, mode] of GUEST_FILES) {
    await mkdir(dirname(join(root, to)), { recursive: true });
    await copyFile(join(GUEST_DIR, file), join(root, to));
    await chmod(join(root, to), mode);
  }
  const files: [string, string, number][] = [
    [
      "etc/passwd",
      "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/sbin/nologin\n" +
        "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n",
      0o644,
    ],
    ["etc/group", "root:x:0:\ndaemon:x:1:\ntty:x:5:\ndisk:x:6:\nnogroup:x:65534:\n", 0o644],
    // "*": no password can match, yet the account is not locked ("!"), which dropbear would refuse
    // even for key logins.
    [
      "etc/shadow",
      "root:*:20000:0:99999:7:::\ndaemon:*:20000:0:99999:7:::\nnobody:*:20000:0:99999:7:::\n",
      0o600,
    ],
    ["etc/shells", "/bin/sh\n/bin/ash\n/bin/bash\n", 0o644],
    ["etc/nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n", 0o644],
    ["etc/hostname", "localhost\n", 0o644],
    ["etc/hosts", "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n", 0o644],
    ["etc/fstab", "LABEL=root / ext4 rw,relatime 0 1\n", 0o644],
    [
      "etc/os-release",
      `PRETTY_NAME="Strata minimal ${BASE_IMAGE_VERSION}"\nNAME="Strata minimal"\nID=strata-minimal\n` +
        `VERSION_ID="${BASE_IMAGE_VERSION}"\nVERSION="${BASE_IMAGE_VERSION} (Debian bookworm kernel ${kver})"\n`,
      0o644,
    ],
    ["etc/motd", `Strata minimal ${BASE_IMAGE_VERSION}: busybox, dropbear, Debian kernel ${kver}.\n`, 0o644],
  ];
  for (const [path, content, mode] of files) {
    await writeFile(join(root, path), content);
    await chmod(join(root, path), mode);
  }
}

/** Copies the wanted modules and their dependencies (uncompressed) and runs depmod for modprobe. */
async function installModules(pkgRoot: string, root: string, kver: string, busybox: string): Promise<void> {
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

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// initramfs

interface CpioEntry {
  path: string;
  /** File type and permission bits (st_mode). */
  mode: number;
  data?: Buffer;
  rdev?: [number, number];
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const CPIO_MTIME = 1_767_225_600; // 2026-01-01: fixed, so the same inputs give the same archive

/** An uncompressed "newc" cpio archive, everything owned by root. */
export function cpioNewc(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  const pad = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  const header = (ino: number, e: CpioEntry) => {
    const data = e.data ?? Buffer.alloc(0);
    const name = Buffer.from(`${e.path}\0`);
    const fields = [
      ino,
      e.mode,
      0,
      0,
      (e.mode & 0o170000) === S_IFDIR ? 2 : 1,
      CPIO_MTIME,
      data.length,
      0,
      0,
      e.rdev?.[0] ?? 0,
      e.rdev?.[1] ?? 0,
      name.length,
      0,
    ];
    const h = Buffer.from(`070701${fields.map((f) => f.toString(16).padStart(8, "0")).join("")}`);
    parts.push(h, name, pad(h.length + name.length), data, pad(data.length));
  };
  for (const [i, e] of entries.entries()) header(i + 1, e);
  header(0, { path: "TRAILER!!!", mode: 0 });
  return Buffer.concat(parts);
}

async function buildInitramfs(root: string, kver: string, busybox: string): Promise<Buffer> {
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

// ---------------------------------------------------------------------------------------------
// Partitions and disk

async function buildBootPartition(img: string, vmlinuz: string, initrd: Buffer, work: string): Promise<void> {
  await truncateFile(img, BOOT_SIZE);
  await run("mkfs.vfat", [
    "-F",
    "16",
    "-n",
    "STRATA-BOOT",
    "-i",
    "53545241",
    "-h",
    String(BOOT_START / SECTOR),
    img,
  ]);
  await run("syslinux", ["--install", img]);
  const cfg = join(work, "syslinux.cfg");
  await writeFile(
    cfg,
    [
      "SERIAL 0 115200",
      "DEFAULT strata",
      "PROMPT 0",
      "TIMEOUT 0",
      "LABEL strata",
      "  LINUX /vmlinuz",
      "  INITRD /initrd.img",
      `  APPEND ${KERNEL_CMDLINE}`,
      "",
    ].join("\n"),
  );
  const initrdFile = join(work, "initrd.img");
  await writeFile(initrdFile, initrd);
  await run("mcopy", ["-i", img, cfg, "::syslinux.cfg"]);
  await run("mcopy", ["-i", img, vmlinuz, "::vmlinuz"]);
  await run("mcopy", ["-i", img, initrdFile, "::initrd.img"]);
}

async function buildRootPartition(img: string, tree: string, work: string): Promise<void> {
  await truncateFile(img, ROOT_SIZE);
  const uuid = "5354524a-0000-4000-8000-000000000002";
  await run("mkfs.ext4", [
    "-F",
    "-q",
    "-L",
    "root",
    "-U",
    uuid,
    "-m",
    "1",
    "-E",
    `hash_seed=${uuid}`,
    "-d",
    tree,
    img,
  ]);
  if (process.getuid?.() !== 0) {
    // mke2fs -d copies the owners of the tree, which is ours: make everything root's.
    const cmds: string[] = [];
    for (const f of ["", ...(await walkAll(tree)).map((p) => relative(tree, p))]) {
      cmds.push(`sif "/${f}" uid 0`, `sif "/${f}" gid 0`);
    }
    const script = join(work, "debugfs.cmds");
    await writeFile(script, `${cmds.join("\n")}\n`);
    await run("debugfs", ["-w", "-f", script, img]);
  }
}

async function walkAll(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...(await walkAll(p)));
  }
  return out;
}

async function truncateFile(path: string, size: number): Promise<void> {
  const f = await open(path, "w");
  try {
    await f.truncate(size);
  } finally {
    await f.close();
  }
}

async function assembleDisk(disk: string, mbr: Buffer, bootImg: string, rootImg: string): Promise<void> {
  await truncateFile(disk, DISK_SIZE);
  const s = (bytes: number) => bytes / SECTOR;
  await run("sfdisk", ["--no-reread", "--no-tell-kernel", "-q", disk], {
    input: [
      "label: dos",
      `label-id: ${DISK_ID}`,
      "unit: sectors",
      "",
      `start=${s(BOOT_START)}, size=${s(BOOT_SIZE)}, type=6, bootable`,
      `start=${s(ROOT_START)}, size=${s(ROOT_SIZE)}, type=83`,
      "",
    ].join("\n"),
  });
  const f = await open(disk, "r+");
  try {
    await f.write(mbr.subarray(0, 440), 0, 440, 0);
    await copyNonZero(bootImg, f, BOOT_START);
    await copyNonZero(rootImg, f, ROOT_START);
  } finally {
    await f.close();
  }
}

/** Copies a partition image into the disk at `offset`, skipping all-zero 4 KiB blocks (the disk stays sparse). */
async function copyNonZero(src: string, dst: FileHandle, offset: number): Promise<void> {
  const block = 4096;
  const zero = Buffer.alloc(block);
  const buf = Buffer.alloc(4 * MiB);
  const f = await open(src, "r");
  try {
    for (let pos = 0; ; ) {
      const { bytesRead } = await f.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      let runStart = -1;
      for (let b = 0; b < bytesRead; b += block) {
        const end = Math.min(b + block, bytesRead);
        const isData = !buf.subarray(b, end).equals(zero.subarray(0, end - b));
        if (isData && runStart < 0) runStart = b;
        if (!isData && runStart >= 0) {
          await dst.write(buf, runStart, b - runStart, offset + pos + runStart);
          runStart = -1;
        }
      }
      if (runStart >= 0) await dst.write(buf, runStart, bytesRead - runStart, offset + pos + runStart);
      pos += bytesRead;
    }
  } finally {
    await f.close();
  }
}

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) h.update(chunk as Buffer);
  return h.digest("hex");
}

// bin/node src/compute/base-image/build-base-image.ts [--cache DIR]: builds (or finds) the image
// and prints the disk's path.
if (import.meta.main) {
  const { values } = parseArgs({ options: { cache: { type: "string" }, json: { type: "boolean" } } });
  const built = await buildBaseImage({
    cacheDir: values.cache ?? defaultBaseImageCacheDir(),
    log: (m) => console.error(`base image: ${m}`),
  });
  console.log(values.json ? JSON.stringify(built, null, 2) : built.path);
}
