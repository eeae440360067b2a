// The admin API's only door: a unix socket in the data dir's run directory. Reaching it takes the
// operator's own file permissions (run dir 0700, socket 0600), not a network address a web page
// or another machine could send requests to.
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import type { RequestListener, Server } from "node:http";
import { createServer } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";

export function adminSocketPath(dataDir: string): string {
  return join(dataDir, "run", "admin.sock");
}

/**
 * Fails when the data dir's path is too long for a unix socket, or when a server is already
 * serving the data dir (its admin socket answers): two servers on one data dir would each
 * recover, collect garbage and resume jobs under the other's feet. Call before opening anything.
 */
export async function assertDataDirFree(dataDir: string): Promise<void> {
  const path = adminSocketPath(dataDir);
  // Linux's sockaddr_un holds 108 bytes with the terminating NUL; node would say only EINVAL.
  if (Buffer.byteLength(path) > 107) {
    throw new Error(`the data dir's path is too long for its admin socket ${path} (at most 107 bytes)`);
  }
  const answers = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
  if (answers) throw new Error(`another strata server is already serving this data dir (${path} answers)`);
}

/** Listens on `<dataDir>/run/admin.sock` (a stale one from a killed server is replaced). */
export async function listenAdminSocket(dataDir: string, handler: RequestListener): Promise<Server> {
  const path = adminSocketPath(dataDir);
  const runDir = join(dataDir, "run");
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  chmodSync(runDir, 0o700);
  rmSync(path, { force: true });
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, resolve);
  });
  chmodSync(path, 0o600);
  return server;
}
