import { open } from "node:fs/promises";
import { Agent, type ClientRequest, request } from "node:http";
import { ExtentWriter } from "./extent-writer.ts";
import { rawRequest } from "./raw-http.ts";

// Kept-alive connections to the socket (free ones do not keep the process alive).
const agent = new Agent({ keepAlive: true });

interface StaleConnection {
  staleConnection?: boolean;
}

interface Answer {
  status: number;
  body: Buffer;
}

/**
 * Client for the server's JSON admin API on its data dir's unix socket (CLI, tests, benchmarks),
 * acting as `account` (an account id, owner alias or name). Errors carry the server's code.
 */
export class AdminClient {
  readonly #socketPath: string;
  readonly #base: string;
  readonly #account: string;

  constructor(socketPath: string, region: string, account: string) {
    this.#socketPath = socketPath;
    this.#base = `/strata/v1/${region}`;
    this.#account = account;
  }

  async #send(method: string, path: string, body?: Uint8Array, contentType?: string): Promise<Answer> {
    try {
      return await this.#sendOnce(method, path, body, contentType);
    } catch (e) {
      // A kept-alive connection the server closed meanwhile: the request never reached it (node's
      // documented case for a retry), so it is sent once more on a new connection.
      if ((e as StaleConnection).staleConnection) return this.#sendOnce(method, path, body, contentType);
      throw e;
    }
  }

  #sendOnce(method: string, path: string, body?: Uint8Array, contentType?: string): Promise<Answer> {
    const headers: Record<string, string> = { "x-strata-account": this.#account };
    if (contentType) headers["content-type"] = contentType;
    return new Promise((resolve, reject) => {
      const req = request(
        { socketPath: this.#socketPath, agent, method, path: this.#base + path, headers },
        (res) => {
          const parts: Buffer[] = [];
          res.on("data", (d: Buffer) => parts.push(d));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
          res.on("error", reject);
        },
      );
      req.on("error", (e) => reject(this.#connectionError(req, e)));
      req.end(body);
    });
  }

  /** A request's error, marked stale when a kept-alive connection was gone; or no server at all. */
  #connectionError(req: ClientRequest, e: NodeJS.ErrnoException & StaleConnection): Error {
    if (req.reusedSocket && (e.code === "ECONNRESET" || e.code === "EPIPE")) e.staleConnection = true;
    return e.code === "ENOENT" || e.code === "ECONNREFUSED" ? this.#noServer(e.code) : e;
  }

  #noServer(code: string): Error {
    return new Error(
      `no strata server is serving ${this.#socketPath} (${code}); start one with strata server`,
    );
  }

  async #call(method: string, path: string, body?: unknown): Promise<unknown> {
    const json = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const res = await this.#send(method, path, json, json && "application/json");
    const result = JSON.parse(res.body.toString("utf8"));
    if (res.status >= 400) throw new ApiError(res.status, result.error?.code, result.error?.message);
    return result;
  }

  createVolume(input: { sizeGiB?: number; snapshotId?: string }) {
    return this.#call("POST", "/volumes", input);
  }
  getVolume(id: string) {
    return this.#call("GET", `/volumes/${id}`);
  }
  listVolumes() {
    return this.#call("GET", "/volumes");
  }
  deleteVolume(id: string) {
    return this.#call("DELETE", `/volumes/${id}`);
  }
  createSnapshot(volumeId: string, description = "") {
    return this.#call("POST", "/snapshots", { volumeId, description });
  }
  getSnapshot(id: string, wait = false) {
    return this.#call("GET", `/snapshots/${id}${wait ? "?wait=true" : ""}`);
  }
  listSnapshots() {
    return this.#call("GET", "/snapshots");
  }
  deleteSnapshot(id: string) {
    return this.#call("DELETE", `/snapshots/${id}`);
  }
  copySnapshot(id: string, toRegion: string) {
    return this.#call("POST", `/snapshots/${id}/copy`, { toRegion });
  }

  async write(id: string, offset: number, data: Uint8Array): Promise<void> {
    const res = await this.#send("PUT", `/volumes/${id}/data?offset=${offset}`, data);
    if (res.status >= 400) throw apiError(res);
  }

  async read(id: string, offset: number, length: number): Promise<Buffer> {
    const res = await this.#send("GET", `/volumes/${id}/data?offset=${offset}&length=${length}`);
    if (res.status >= 400) throw apiError(res);
    return res.body;
  }

  /**
   * Writes a range of the volume into a file, which it makes exactly `length` bytes long: one
   * streamed request of the range's data (holes stay sparse in the file).
   */
  async readTo(id: string, offset: number, length: number, path: string): Promise<void> {
    const fh = await open(path, "w");
    try {
      const out = new ExtentWriter(fh.fd, length);
      const res = await rawRequest(
        { socketPath: this.#socketPath },
        {
          method: "GET",
          path: `${this.#base}/volumes/${id}/extents?offset=${offset}&length=${length}`,
          headers: { "x-strata-account": this.#account },
        },
        (piece) => out.push(piece),
      ).catch((e: NodeJS.ErrnoException) => {
        throw e.code === "ENOENT" || e.code === "ECONNREFUSED" ? this.#noServer(e.code) : e;
      });
      if (res.errorBody) throw apiError({ status: res.status, body: res.errorBody });
      out.finish();
    } finally {
      await fh.close();
    }
  }
}

function apiError(res: Answer): ApiError {
  const result = JSON.parse(res.body.toString("utf8"));
  return new ApiError(res.status, result.error?.code, result.error?.message);
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(`${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}
