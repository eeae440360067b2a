// The base image's modes come from its recipe, not from the umask of the process that builds it:
// the daemon builds it under umask 077 (its data dir is private), `strata images build-base` in a
// shell under 022. Two builds, one under each (set in this test's own process), must hold the same
// paths with the same modes, owners and sizes in the ext4 root and the same attributes in the FAT
// boot partition, and no mode the recipe did not choose. The disks' bytes are not compared:
// mkfs.ext4, mke2fs -d and mcopy stamp the time of the build, so no two builds are byte-equal.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type BuiltBaseImage, buildBaseImage } from "./build-base-image.ts";
import { BINARIES, BOOT_START, GUEST_FILES, ROOT_START } from "./recipe.ts";

const TOOLS = [
  "apt-get",
  "dpkg-deb",
  "sfdisk",
  "mkfs.vfat",
  "mcopy",
  "mattrib",
  "syslinux",
  "mkfs.ext4",
  "debugfs",
];
const missing = TOOLS.filter(
  (t) => spawnSync("sh", ["-c", `command -v ${t}`], { env: pathEnv() }).status !== 0,
);
const skip = missing.length ? `missing host tools: ${missing.join(", ")}` : false;

function pathEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` };
}

interface Ext4Entry {
  path: string;
  /** st_mode: type and permission bits. */
  mode: number;
  uid: number;
  gid: number;
  /** Empty for directories. */
  size: string;
}

/** Every inode reachable from the root of the disk's ext4 partition (debugfs `ls -p`, one level per run). */
function listExt4(disk: string): Ext4Entry[] {
  const image = `${disk}?offset=${ROOT_START}`;
  const entries: Ext4Entry[] = [];
  let dirs = ["/"];
  while (dirs.length) {
    const r = spawnSync("debugfs", ["-f", "-", image], {
      input: dirs.map((d) => `ls -p "${d}"\n`).join(""),
      encoding: "utf8",
      env: pathEnv(),
      maxBuffer: 64 * 1024 * 1024,
    });
    const errors = r.stderr.split("\n").filter((l) => l && !/^debugfs \d/.test(l));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(errors, [], "debugfs errors");
    const next: string[] = [];
    let dir: string | undefined;
    for (const line of r.stdout.split("\n")) {
      const header = /^debugfs: ls -p "(.*)"$/.exec(line);
      if (header) {
        dir = header[1];
        continue;
      }
      const m = /^\/(\d+)\/([0-7]+)\/(\d+)\/(\d+)\/([^/]*)\/(\d*)\/$/.exec(line);
      if (!m) continue;
      assert.ok(dir !== undefined, `debugfs output before a header: ${line}`);
      const [, inode, mode, uid, gid, name, size] = m;
      // Inode 0: an unused slot (lost+found has them from mke2fs).
      if (inode === "0" || name === ".." || (name === "." && dir !== "/")) continue;
      const path = name === "." ? "/" : dir === "/" ? `/${name}` : `${dir}/${name}`;
      entries.push({ path, mode: Number.parseInt(mode, 8), uid: Number(uid), gid: Number(gid), size });
      if ((Number.parseInt(mode, 8) & 0o170000) === 0o040000 && name !== ".") next.push(path);
    }
    dirs = next;
  }
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** `mattrib -/` of the FAT boot partition: each file's attributes (FAT's only permissions). */
function fatAttributes(disk: string): string {
  const r = spawnSync("mattrib", ["-i", `${disk}@@${BOOT_START}`, "-/", "::"], {
    encoding: "utf8",
    env: { ...pathEnv(), MTOOLS_SKIP_CHECK: "1" },
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
/** Directories whose mode is not 0755 (lost+found is mke2fs's). */
const DIR_MODES: Record<string, number> = {
  "/lost+found": 0o700,
  "/root": 0o700,
  "/tmp": 0o1777,
  "/var/tmp": 0o1777,
  "/proc": 0o555,
  "/sys": 0o555,
};
/** Regular files whose mode is not 0644. */
const FILE_MODES: Record<string, number> = {
  "/etc/shadow": 0o600,
  "/bin/busybox": 0o755,
  "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2": 0o755,
  ...Object.fromEntries(BINARIES.map(([, to]) => [`/${to}`, 0o755])),
  ...Object.fromEntries(GUEST_FILES.map(([, to, mode]) => [`/${to}`, mode])),
};

/** The paths whose type, mode or owner is not the recipe's, as "path: got 40700, want 40755". */
function modesNotChosen(entries: Ext4Entry[]): string[] {
  const wrong: string[] = [];
  for (const e of entries) {
    const type = e.mode & S_IFMT;
    const want =
      type === S_IFDIR
        ? S_IFDIR | (DIR_MODES[e.path] ?? 0o755)
        : type === S_IFREG
          ? S_IFREG | (FILE_MODES[e.path] ?? 0o644)
          : S_IFLNK | 0o777;
    if (e.mode !== want || e.uid !== 0 || e.gid !== 0) {
      wrong.push(`${e.path}: got ${e.mode.toString(8)} ${e.uid}:${e.gid}, want ${want.toString(8)} 0:0`);
    }
  }
  return wrong;
}

describe("base image modes whatever the umask", { skip, timeout: 600_000 }, () => {
  const dirs: string[] = [];
  const savedUmask = process.umask();

  after(() => {
    process.umask(savedUmask);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function buildUnder(umask: number): Promise<BuiltBaseImage> {
    const cacheDir = mkdtempSync(join(tmpdir(), `strata-base-image-umask-${umask.toString(8)}-`));
    dirs.push(cacheDir);
    process.umask(umask);
    try {
      return await buildBaseImage({ cacheDir });
    } finally {
      process.umask(savedUmask);
    }
  }

  it("builds under umask 077 and 022 hold the same paths, modes, owners and sizes, each chosen by the recipe", async (t) => {
    let started = Date.now();
    const private077 = await buildUnder(0o077);
    t.diagnostic(`build under umask 077: ${(Date.now() - started) / 1000} s`);
    started = Date.now();
    const shell022 = await buildUnder(0o022);
    t.diagnostic(`build under umask 022: ${(Date.now() - started) / 1000} s`);

    // The umask was in force: the cache's own files follow it (they are outside the image).
    assert.equal(statSync(private077.path).mode & 0o777, 0o600);
    assert.equal(statSync(shell022.path).mode & 0o777, 0o644);

    const listed077 = listExt4(private077.path);
    const listed022 = listExt4(shell022.path);
    // Not vacuous: the listing reaches the deepest directories, the modules and depmod's index.
    const modules = `/lib/modules/${private077.kernelVersion}`;
    for (const p of [
      "/",
      "/etc/shadow",
      "/usr/sbin/dropbear",
      `${modules}/kernel/drivers/block/virtio_blk.ko`,
      `${modules}/modules.dep`,
      `${modules}/modules.order`,
    ]) {
      assert.ok(
        listed077.some((e) => e.path === p),
        `${p} in the image`,
      );
    }
    assert.ok(listed077.length > 300, `${listed077.length} paths`);

    assert.deepEqual(modesNotChosen(listed077), [], "modes in the image built under umask 077");
    assert.deepEqual(modesNotChosen(listed022), [], "modes in the image built under umask 022");
    assert.deepEqual(listed077, listed022);
    const fat = fatAttributes(private077.path);
    assert.match(fat, /::\/vmlinuz$/m);
    assert.equal(fat, fatAttributes(shell022.path));
  });
});
