// The base image's recipe: what goes into it (Debian packages, binaries, kernel modules, the boot
// scripts in ./guest) and the disk's layout. The cache is keyed by BASE_IMAGE_VERSION, and the
// manifest records recipeSha256() so a changed recipe without a version bump is noticed.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

/** Bump whenever the recipe (the builder's files in this directory or ./guest) changes: the cache is keyed by it. */
export const BASE_IMAGE_VERSION = "2026.12.4";

export const MiB = 1024 * 1024;
export const DISK_SIZE = 1024 * MiB;
export const BOOT_START = 1 * MiB;
export const BOOT_SIZE = 64 * MiB;
export const ROOT_START = BOOT_START + BOOT_SIZE;
export const ROOT_SIZE = DISK_SIZE - ROOT_START;
export const SECTOR = 512;
export const DISK_ID = "0x53545241"; // "STRA"
// cryptomgr.notests: skips the crypto self-tests Debian's kernel runs at every boot; under TCG on
// a loaded host one stalled in cryptomgr_test (a soft lockup) for a test's whole 420 s boot wait.
export const KERNEL_CMDLINE = "console=ttyS0 root=/dev/vda2 rw quiet panic=-1 cryptomgr.notests";
export const KERNEL_META_PACKAGE = "linux-image-cloud-amd64";
/** Guest packages besides the kernel; the shared libraries are found from the binaries' DT_NEEDED. */
export const PACKAGES = [
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
export const BINARIES: [string, string][] = [
  ["usr/sbin/dropbear", "usr/sbin/dropbear"],
  ["usr/bin/dropbearkey", "usr/bin/dropbearkey"],
  ["usr/bin/dropbearconvert", "usr/bin/dropbearconvert"],
  ["usr/bin/dbclient", "usr/bin/dbclient"],
  // dropbear runs the SFTP subsystem from here (OpenSSH's scp speaks SFTP since 9.0).
  ["usr/lib/openssh/sftp-server", "usr/lib/sftp-server"],
  ["sbin/resize2fs", "sbin/resize2fs"],
];
/** Kernel modules in the guest (with their dependencies); the initramfs loads INITRAMFS_MODULES. */
export const MODULES = ["virtio_pci", "virtio_blk", "virtio_net", "virtio_rng", "button", "evdev"];
export const INITRAMFS_MODULES = ["virtio_pci", "virtio_blk", "virtio_net"];
/** Repository files in ./guest: [file, path in the guest, mode]. `init` goes into the initramfs. */
export const GUEST_FILES: [string, string, number][] = [
  ["inittab", "etc/inittab", 0o644],
  ["rcS", "etc/init.d/rcS", 0o755],
  ["rcK", "etc/init.d/rcK", 0o755],
  ["imds", "usr/bin/imds", 0o755],
  ["udhcpc.script", "etc/udhcpc/default.script", 0o755],
  ["acpi-power", "etc/acpi/PWRF/00000080", 0o755],
  ["bash", "bin/bash", 0o755],
  ["profile", "etc/profile", 0o644],
];
export const GUEST_DIR = join(import.meta.dirname, "guest");

/** sha256 over the recipe constants above and the files in ./guest (`init` included). */
export async function recipeSha256(): Promise<string> {
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
