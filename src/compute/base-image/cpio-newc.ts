// A writer of uncompressed "newc" (SVR4, no CRC) cpio archives, the format the kernel unpacks as
// an initramfs.

export interface CpioEntry {
  path: string;
  /** File type and permission bits (st_mode). */
  mode: number;
  data?: Buffer;
  rdev?: [number, number];
}

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;
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
