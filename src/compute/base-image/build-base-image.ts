// Builds Strata's public base image: a 1 GiB raw disk with Debian bookworm's cloud kernel, a
// busybox initramfs, and an ext4 root file system holding busybox, dropbear, resize2fs and the boot
// scripts in ./guest (root partition and file system grown to fill a larger volume, network,
// metadata service, SSH keys, user data once per instance id, clean ACPI shutdown). Everything is
// done without privileges: packages come from `apt-get download` and `dpkg-deb -x`, the partitions
// are built as files (mkfs.vfat + syslinux + mtools, mkfs.ext4 -d) and copied into the disk, the
// initramfs is written by our own cpio newc writer. The result is cached per BASE_IMAGE_VERSION
// and built in a temporary directory renamed into place, so crashed or concurrent builds never
// leave a half-made image behind.
//
// The steps live beside this file: recipe.ts (what goes in), debian-packages.ts,
// root-filesystem.ts (with elf-dependencies.ts and kernel-modules.ts), initramfs.ts (cpio-newc.ts)
// and disk-assembly.ts. This file caches and orchestrates them.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type DebianPackage, downloadAndExtractPackages } from "./debian-packages.ts";
import { assembleDisk, buildBootPartition, buildRootPartition } from "./disk-assembly.ts";
import { checkHostTools } from "./host-commands.ts";
import { buildInitramfs } from "./initramfs.ts";
import { BASE_IMAGE_VERSION, DISK_SIZE, GUEST_DIR, KERNEL_CMDLINE, MiB, recipeSha256 } from "./recipe.ts";
import { buildRootTree } from "./root-filesystem.ts";

export { cpioNewc } from "./cpio-newc.ts";
export { elfDependencies } from "./elf-dependencies.ts";
export { BASE_IMAGE_VERSION };

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
  /** recipeSha256() over ./guest and the constants in recipe.ts: tells a stale cache from a missed version bump. */
  recipeSha256: string;
  builtAt: string;
  packages: DebianPackage[];
}

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

async function buildInto(dir: string, log: (m: string) => void): Promise<void> {
  await checkHostTools();
  const work = join(dir, "work");
  const root = join(work, "root");

  const { pkgRoot, packages, kernelVersion: kver } = await downloadAndExtractPackages(work, log);
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
