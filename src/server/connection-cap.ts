import { readFileSync } from "node:fs";

// Descriptors kept for all but HTTP connections and volume files: the metadata databases, worker
// threads, QEMU's pipes and NBD connections, chunk files being read or written, listeners.
const RESERVED = 256;
const MIN_CONNECTIONS = 64;

/**
 * How many HTTP connections the API server accepts at once, so that clients (idle keep-alive
 * sockets included) can never take the descriptors the storage needs: the process's descriptor
 * limit less the volume file pool and a reserve. Undefined when the limit cannot be read (no cap).
 */
export function httpConnectionCap(
  volumeFiles: number,
  limits: string | null = processLimits(),
): number | undefined {
  const m = /^Max open files\s+(\d+)/m.exec(limits ?? "");
  if (!m) return undefined;
  return Math.max(MIN_CONNECTIONS, Number(m[1]) - volumeFiles - RESERVED);
}

function processLimits(): string | null {
  try {
    return readFileSync("/proc/self/limits", "utf8");
  } catch {
    return null;
  }
}
