// A host's id, made once and kept in its data dir (`host-id`), so that it survives restarts and
// moves of the data dir; `strata server --host-id` may name it instead.
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const HOST_ID = /^[a-z0-9][a-z0-9.-]{0,62}$/;

export function checkHostId(id: string): string {
  if (!HOST_ID.test(id)) throw new Error(`host id '${id}': lowercase letters, digits, '.' and '-', up to 63`);
  return id;
}

export function hostIdOf(dataDir: string): string {
  const path = join(dataDir, "host-id");
  try {
    return checkHostId(readFileSync(path, "utf8").trim());
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const id = `h-${randomBytes(6).toString("hex")}`;
  // wx: two processes starting at once on one data dir keep the first one's id.
  try {
    writeFileSync(path, `${id}\n`, { flag: "wx", mode: 0o600 });
    return id;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    return checkHostId(readFileSync(path, "utf8").trim());
  }
}
