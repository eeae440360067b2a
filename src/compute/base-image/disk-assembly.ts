// The raw disk, built without privileges: each partition is made as a file (FAT16 boot partition
// with mkfs.vfat, syslinux and mcopy; ext4 root partition with mkfs.ext4 -d and, unless root, a
// debugfs pass making everything root's), then the MBR partition table (sfdisk), syslinux's MBR
// boot code and the partition images are written into a sparse file at their offsets.
import { type FileHandle, open, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { walkAll } from "./file-tree.ts";
import { run } from "./host-commands.ts";
import {
  BOOT_SIZE,
  BOOT_START,
  DISK_ID,
  DISK_SIZE,
  KERNEL_CMDLINE,
  MiB,
  ROOT_SIZE,
  ROOT_START,
  SECTOR,
} from "./recipe.ts";

/** The FAT16 boot partition image: syslinux, its config (KERNEL_CMDLINE), the kernel and the initramfs. */
export async function buildBootPartition(
  img: string,
  vmlinuz: string,
  initrd: Buffer,
  work: string,
): Promise<void> {
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

/** The ext4 root partition image holding `tree`, everything owned by root. */
export async function buildRootPartition(img: string, tree: string, work: string): Promise<void> {
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

async function truncateFile(path: string, size: number): Promise<void> {
  const f = await open(path, "w");
  try {
    await f.truncate(size);
  } finally {
    await f.close();
  }
}

/** The raw disk: partition table, MBR boot code (`mbr`, syslinux's mbr.bin) and both partition images. */
export async function assembleDisk(
  disk: string,
  mbr: Buffer,
  bootImg: string,
  rootImg: string,
): Promise<void> {
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
