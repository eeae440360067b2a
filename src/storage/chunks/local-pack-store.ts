import { mkdirSync } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { StrataError } from "../../errors.ts";
import { crashPoint } from "../../util/crash-points.ts";
import { PACK_ID, type PackInfo, type PackStore } from "./pack-store.ts";

/** Packs as files under `<root>/packs/ab/<id>`, written via temp file + fsync + rename. */
export class LocalPackStore implements PackStore {
  readonly description: string;
  readonly #packs: string;
  readonly #tmp: string;
  #tmpSeq = 0;

  constructor(root: string) {
    this.#packs = join(root, "packs");
    this.#tmp = join(root, "tmp");
    this.description = `local:${root}`;
    mkdirSync(this.#tmp, { recursive: true });
  }

  localPath(id: string): string {
    if (!PACK_ID.test(id)) throw new StrataError("InvalidParameterValue", `Invalid pack id '${id}'`);
    return join(this.#packs, id.slice(0, 2), id);
  }

  async put(id: string, bytes: Uint8Array): Promise<void> {
    const final = this.localPath(id);
    const tmp = join(this.#tmp, `${id}.${process.pid}.${this.#tmpSeq++}`);
    try {
      const fh = await open(tmp, "wx");
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      crashPoint("pack-store.before-rename");
      await mkdir(join(final, ".."), { recursive: true });
      await rename(tmp, final);
    } catch (e) {
      // A put cut short (the disk is full) gives its space back now, not at the next start.
      await rm(tmp, { force: true });
      throw fullStore(e, this.description);
    }
  }

  async read(id: string, offset: number, length: number, into?: Buffer): Promise<Buffer> {
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(this.localPath(id), "r");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") {
        throw new StrataError("ChunkMissing", `Pack ${id} is missing from ${this.description}`);
      }
      throw e;
    }
    try {
      const out = into ?? Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(out, done, length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      if (done !== length) {
        throw new StrataError("ChunkCorrupt", `Pack ${id} in ${this.description} is shorter than its index`);
      }
      return out;
    } finally {
      await fh.close();
    }
  }

  async delete(id: string): Promise<void> {
    await rm(this.localPath(id), { force: true });
  }

  async *list(): AsyncIterable<PackInfo> {
    let dirs: string[];
    try {
      dirs = await readdir(this.#packs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    for (const d of dirs) {
      if (!/^[0-9a-f]{2}$/.test(d)) continue;
      for (const id of await readdir(join(this.#packs, d))) {
        if (!PACK_ID.test(id)) continue;
        const s = await stat(join(this.#packs, d, id)).catch(() => undefined);
        if (s) yield { id, bytes: s.size, modifiedAt: s.mtime };
      }
    }
  }

  async removeIncompletePuts(olderThanMs: number): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.#tmp)) {
      const path = join(this.#tmp, name);
      const s = await stat(path).catch(() => undefined);
      if (!s || Date.now() - s.mtimeMs < olderThanMs) continue;
      await rm(path, { force: true });
      removed++;
    }
    return removed;
  }
}

/** ENOSPC and EDQUOT as an error that says what is full (the snapshot's StateMessage shows it). */
function fullStore(e: unknown, where: string): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code !== "ENOSPC" && code !== "EDQUOT") return e;
  return new StrataError(
    "InsufficientVolumeCapacity",
    `No space left in the block store (${where}): ${code}`,
  );
}
