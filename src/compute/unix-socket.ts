// Unix socket paths of the daemon's run dir (NBD, QMP, each instance's metadata service).
import { lstatSync, unlinkSync } from "node:fs";

/** Linux keeps a socket's path in sun_path: 108 bytes, the terminating NUL included. */
export const MAX_UNIX_SOCKET_PATH_BYTES = 107;

/**
 * Throws if `path` cannot be bound as a unix socket: the kernel refuses a longer one (Node says
 * only EINVAL), and some programs silently cut it short and bind somewhere else.
 */
export function checkUnixSocketPath(path: string): void {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_UNIX_SOCKET_PATH_BYTES) {
    throw new Error(
      `The unix socket path ${path} is ${bytes} bytes, more than the ${MAX_UNIX_SOCKET_PATH_BYTES} Linux allows: ` +
        "use a data directory with a shorter path.",
    );
  }
}

/** Removes a socket a killed process left behind; refuses to remove anything that is not a socket. */
export function removeStaleSocket(path: string): void {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  if (!isSocket) throw new Error(`${path} exists and is not a unix socket; not removing it`);
  unlinkSync(path);
}
