import { open } from "node:fs/promises";

/** Client for the server's JSON admin API (CLI, tests, benchmarks). Errors carry the server's code. */
export class AdminClient {
  readonly #base: string;

  constructor(endpoint: string, region: string) {
    this.#base = `${endpoint.replace(/\/$/, "")}/strata/v1/${region}`;
  }

  async #call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(this.#base + path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const result = await res.json();
    if (!res.ok) throw new ApiError(res.status, result.error?.code, result.error?.message);
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
    const res = await fetch(`${this.#base}/volumes/${id}/data?offset=${offset}`, {
      method: "PUT",
      body: data as Uint8Array<ArrayBuffer>,
    });
    const result = await res.json();
    if (!res.ok) throw new ApiError(res.status, result.error?.code, result.error?.message);
  }

  async read(id: string, offset: number, length: number): Promise<Buffer> {
    const res = await fetch(`${this.#base}/volumes/${id}/data?offset=${offset}&length=${length}`);
    if (!res.ok) {
      const result = await res.json();
      throw new ApiError(res.status, result.error?.code, result.error?.message);
    }
    return Buffer.from(await res.arrayBuffer());
  }

  /** Streams a range of the volume into a file, 16 MiB at a time. */
  async readTo(id: string, offset: number, length: number, path: string): Promise<void> {
    const fh = await open(path, "r+");
    try {
      for (let done = 0; done < length; ) {
        const n = Math.min(16 * 1024 * 1024, length - done);
        const data = await this.read(id, offset + done, n);
        await fh.write(data, 0, data.byteLength, done);
        done += n;
      }
    } finally {
      await fh.close();
    }
  }
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
