import { mkdirSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { StrataError } from "../../errors.ts";
import { Semaphore } from "../../util/concurrency.ts";
import { crashPoint } from "../../util/crash-points.ts";
import type { ChunkStore } from "./chunk-store.ts";

const KEY = /^[0-9a-f]{64}$/;
// Chunk files open at once per store: snapshot and copy jobs (which an account can start many of)
// store and read whole batches of chunks concurrently, each a descriptor until it is done.
const FILES_OPEN = 32;

/** Chunks as files under `<root>/ab/cd/<key>`, written via temp file + fsync + rename. */
export class LocalChunkStore implements ChunkStore {
  readonly description: string;
  readonly #root: string;
  readonly #tmp: string;
  #tmpSeq = 0;
  readonly #files = new Semaphore(FILES_OPEN);

  constructor(root: string) {
    this.#root = root;
    this.#tmp = join(root, "tmp");
    this.description = `local:${root}`;
    mkdirSync(this.#tmp, { recursive: true });
  }

  localPath(key: string): string {
    return this.#path(key);
  }

  #path(key: string): string {
    if (!KEY.test(key)) throw new StrataError("InvalidParameterValue", `Invalid chunk key '${key}'`);
    return join(this.#root, key.slice(0, 2), key.slice(2, 4), key);
  }

  put(key: string, encoded: Uint8Array): Promise<void> {
    return this.#files.run(() => this.#put(key, encoded));
  }

  async #put(key: string, encoded: Uint8Array): Promise<void> {
    const final = this.#path(key);
    const tmp = join(this.#tmp, `${key}.${process.pid}.${this.#tmpSeq++}`);
    try {
      const fh = await open(tmp, "wx");
      try {
        await fh.writeFile(encoded);
        await fh.sync();
      } finally {
        await fh.close();
      }
      crashPoint("chunk-store.before-rename");
      try {
        await rename(tmp, final);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        await mkdir(join(final, ".."), { recursive: true });
        await rename(tmp, final);
      }
    } catch (e) {
      // A put cut short (the disk is full) gives its space back now, not at the next start.
      await rm(tmp, { force: true });
      throw fullStore(e, this.description);
    }
  }

  async get(key: string): Promise<Buffer> {
    const path = this.#path(key);
    try {
      return await this.#files.run(() => readFile(path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") {
        throw new StrataError("ChunkMissing", `Chunk ${key} is missing from ${this.description}`);
      }
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }

  async *keys(): AsyncIterable<string> {
    for (const a of await readdir(this.#root)) {
      if (!/^[0-9a-f]{2}$/.test(a)) continue;
      for (const b of await readdir(join(this.#root, a))) {
        for (const key of await readdir(join(this.#root, a, b))) if (KEY.test(key)) yield key;
      }
    }
  }

  async removeIncompletePuts(): Promise<number> {
    const names = await readdir(this.#tmp);
    await Promise.all(names.map((n) => unlink(join(this.#tmp, n))));
    return names.length;
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
