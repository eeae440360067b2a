// The root file system's tree, later written into the ext4 partition: the directory skeleton,
// busybox and its applets, the dynamic binaries with their libraries, the kernel modules, the
// boot scripts from ./guest, and the few /etc files a busybox system needs.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { installBinariesWithLibraries } from "./elf-dependencies.ts";
import { run } from "./host-commands.ts";
import { installModules } from "./kernel-modules.ts";
import { BASE_IMAGE_VERSION, GUEST_DIR, GUEST_FILES } from "./recipe.ts";
import { copyTreeFile, DIR_MODE, makeDir, symlinkInTree, writeTreeFile } from "./tree-writes.ts";

/**
 * Builds the guest's tree in `root` (which must not exist) from the extracted packages in `pkgRoot`
 * (busybox: its binary there). Every directory and file gets its mode here (tree-writes.ts), none
 * from the umask: directories DIR_MODE unless listed below.
 */
export async function buildRootTree(
  pkgRoot: string,
  root: string,
  kver: string,
  busybox: string,
): Promise<void> {
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
  // The tree's top directory becomes the file system's root directory.
  await makeDir(root, "", DIR_MODE);
  for (const [d, mode] of dirs) await makeDir(root, d, mode);
  await symlinkInTree(root, "var/run", "/run");
  await symlinkInTree(root, "var/lock", "/run/lock");
  await symlinkInTree(root, "etc/mtab", "/proc/self/mounts");

  // busybox and its applets
  await copyTreeFile(root, busybox, "bin/busybox", 0o755);
  for (const applet of (await run(busybox, ["--list-full"])).split("\n").filter((l) => l.includes("/"))) {
    if (applet === "bin/busybox" || existsSync(join(root, applet))) continue;
    await symlinkInTree(root, applet, "/bin/busybox");
  }

  // dropbear, sftp-server and their shared libraries
  await installBinariesWithLibraries(pkgRoot, root);

  await installModules(pkgRoot, root, kver, busybox);

  for (const [file, to, mode] of GUEST_FILES) await copyTreeFile(root, join(GUEST_DIR, file), to, mode);
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
  for (const [path, content, mode] of files) await writeTreeFile(root, path, content, mode);
}
