// The instance metadata service (IMDS), as EC2 serves it at 169.254.169.254 and as cloud-init and
// the base image's `imds` client read it. One HTTP server per instance on its own unix socket in
// the daemon's run dir (mode 0700, the socket 0600): QEMU's guestfwd runs `nc -U <socket>` for each
// guest connection to 169.254.169.254:80. No TCP port: nothing else on the host (another guest, a
// local user) can ask for an instance's metadata, and the socket identifies the instance.
//
// IMDSv2 sessions: `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds` (1-21600)
// returns an opaque token; GETs carrying an invalid or expired token get 401. GETs without a token
// are allowed (EC2's default HttpTokens=optional). The same tree is served under `latest` and every
// dated version. The tree is in metadata-tree.ts, the sessions in imds-sessions.ts.
import { chmodSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { dirname } from "node:path";
import { checkUnixSocketPath, removeStaleSocket } from "../unix-socket.ts";
import { error, type Reply } from "./imds-replies.ts";
import { ImdsSessions, TOKEN_HEADER } from "./imds-sessions.ts";
import { type InstanceMetadata, listing, nodeAt } from "./metadata-tree.ts";

export {
  IMDS_VERSIONS,
  type InstanceMetadata,
  identityDocument,
  metadataTree,
} from "./metadata-tree.ts";

// Connections one guest may hold open at once: each is a descriptor of the daemon's (and a
// forwarding process on the host). EC2 too limits simultaneous connections from an instance to
// its IMDS.
export const MAX_IMDS_CONNECTIONS = 32;

export class MetadataService {
  readonly socketPath: string;
  readonly #server: Server;
  readonly #getMetadata: () => InstanceMetadata;
  readonly #sessions = new ImdsSessions();

  private constructor(server: Server, socketPath: string, getMetadata: () => InstanceMetadata) {
    this.#server = server;
    this.socketPath = socketPath;
    this.#getMetadata = getMetadata;
  }

  /**
   * Serves on a unix socket at `socketPath`, in a directory only this user may enter (a socket left
   * there by a killed daemon is replaced).
   */
  static async start(getMetadata: () => InstanceMetadata, socketPath: string): Promise<MetadataService> {
    checkUnixSocketPath(socketPath);
    assertPrivateDir(dirname(socketPath));
    removeStaleSocket(socketPath);
    const server = createServer();
    server.keepAliveTimeout = 5_000;
    server.headersTimeout = 10_000;
    server.requestTimeout = 10_000;
    server.maxConnections = MAX_IMDS_CONNECTIONS;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ path: socketPath }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    try {
      chmodSync(socketPath, 0o600);
    } catch (e) {
      await new Promise((r) => server.close(r));
      throw e;
    }
    const service = new MetadataService(server, socketPath, getMetadata);
    server.on("request", (req, res) => service.#handle(req, res));
    return service;
  }

  /** Stops serving; the socket file goes with it (libuv unlinks a listening socket on close). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    // Bodies are never used; drain them so the connection stays usable.
    req.resume();
    let reply: Reply;
    try {
      reply = this.#reply(req);
    } catch (e) {
      console.error(`metadata service: ${(e as Error).stack ?? e}`);
      reply = error(500, "Internal Server Error");
    }
    const data = typeof reply.body === "string" ? Buffer.from(reply.body) : reply.body;
    res.statusCode = reply.status;
    res.setHeader("Server", "EC2ws");
    res.setHeader("Content-Type", reply.type);
    res.setHeader("Content-Length", data.length);
    for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
    res.end(req.method === "HEAD" ? undefined : data);
  }

  #reply(req: IncomingMessage): Reply {
    const path = normalize(req.url ?? "/");
    const method = req.method ?? "GET";
    if (path === "/latest/api/token") return this.#sessions.token(req, method);
    if (method !== "GET" && method !== "HEAD") {
      return { ...error(405, "Method Not Allowed"), headers: { Allow: "OPTIONS, GET, HEAD" } };
    }
    const token = req.headers[TOKEN_HEADER];
    if (token !== undefined && !this.#sessions.valid(String(token))) return error(401, "Unauthorized");
    const node = nodeAt(path, () => this.#getMetadata());
    if (node === undefined) return error(404, "Not Found");
    if (typeof node === "string") return { status: 200, body: node, type: "text/plain" };
    if (Buffer.isBuffer(node)) return { status: 200, body: node, type: "application/octet-stream" };
    // EC2 lists /<version>/ without the trailing slashes it shows on every other directory.
    const slashes = path.split("/").filter(Boolean).length > 1;
    return { status: 200, body: listing(node, slashes), type: "text/plain" };
  }
}

/** The directory must be this user's and closed to everyone else (0700): it guards the sockets in it. */
function assertPrivateDir(dir: string): void {
  const st = statSync(dir);
  const mode = st.mode & 0o777;
  if (!st.isDirectory() || (st.mode & 0o077) !== 0 || st.uid !== process.getuid?.()) {
    throw new Error(
      `metadata service: ${dir} must be a directory of this user with mode 0700 (it is ${mode.toString(8).padStart(4, "0")})`,
    );
  }
}

/** Collapses repeated slashes and drops the query; "/latest/meta-data/" and "/latest/meta-data" are the same. */
function normalize(url: string): string {
  const path = url.split("?")[0].split("#")[0];
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // keep it as sent
  }
  return `/${decoded.split("/").filter(Boolean).join("/")}`;
}
