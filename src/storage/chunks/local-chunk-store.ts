import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { StrataError } from "../../errors.ts";
import type { LegacyChunkFiles } from "./chunk-store.ts";

const KEY = /^[0-9a-f]{64}$/;

/** Chunk files under `<root>/ab/cd/<key>`, as Strata stored them before packs. */
export class LocalChunkStore implements LegacyChunkFiles {
  readonly description: string;
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
    this.description = `local:${root}`;
  }

  localPath(key: string): string {
    if (!KEY.test(key)) throw new StrataError("InvalidParameterValue", `Invalid chunk key '${key}'`);
    return join(this.#root, key.slice(0, 2), key.slice(2, 4), key);
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await readFile(this.localPath(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") {
        throw new StrataError("ChunkMissing", `Chunk ${key} is missing from ${this.description}`);
      }
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.localPath(key), { force: true });
  }

  async *keys(): AsyncIterable<string> {
    for (const a of await readdir(this.#root)) {
      if (!/^[0-9a-f]{2}$/.test(a)) continue;
      for (const b of await readdir(join(this.#root, a))) {
        for (const key of await readdir(join(this.#root, a, b))) if (KEY.test(key)) yield key;
      }
    }
  }
}
