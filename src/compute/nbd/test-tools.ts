// Test support: a Buffer-backed export, the client tools, and a minimal raw NBD client.
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { NbdExport, NbdServerOptions } from "./nbd-export.ts";
import { NbdServer } from "./nbd-server.ts";

export const execFileAsync = promisify(execFile);

/** Runs a client tool; stdout on success, rejects with its stderr otherwise. */
export async function run(cmd: string, args: string[], timeout = 60_000): Promise<string> {
  const { stdout } = await execFileAsync(cmd, args, { timeout, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

export function hasTool(cmd: string): boolean {
  try {
    execFileSync("which", [cmd], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function nbdUri(socket: string, name: string): string {
  return `nbd+unix:///${encodeURIComponent(name)}?socket=${socket}`;
}

/** A server on a Unix socket in a fresh temp dir, with its log lines collected. */
export async function startServer(resolve: NbdServerOptions["resolve"]) {
  const dir = tempDir("strata-nbd-");
  const socket = join(dir.path, "nbd.sock");
  const logs: string[] = [];
  const server = new NbdServer({ resolve, log: (msg) => logs.push(msg) });
  await server.listen({ path: socket });
  const stop = async () => {
    await server.close();
    dir.remove();
  };
  return { server, socket, logs, dir: dir.path, stop };
}

export class MemoryExport implements NbdExport {
  readonly data: Buffer;
  readonly readOnly: boolean;
  flushes = 0;
  trims = 0;
  active = 0;
  maxActive = 0;
  /** Milliseconds each read waits before answering (to hold requests in flight). */
  readDelayMs = 0;
  failReads = false;

  constructor(size: number, options: { readOnly?: boolean; fill?: Buffer } = {}) {
    this.data = options.fill ? Buffer.from(options.fill) : Buffer.alloc(size);
    this.readOnly = options.readOnly ?? false;
  }

  get sizeBytes(): number {
    return this.data.length;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      if (this.readDelayMs) await new Promise((r) => setTimeout(r, this.readDelayMs));
      if (this.failReads) throw new Error("simulated disk failure");
      return Buffer.from(this.data.subarray(offset, offset + length));
    } finally {
      this.active--;
    }
  }

  async write(offset: number, data: Buffer): Promise<void> {
    data.copy(this.data, offset);
  }

  async flush(): Promise<void> {
    this.flushes++;
  }

  async trim(offset: number, length: number): Promise<void> {
    this.trims++;
    this.data.fill(0, offset, offset + length);
  }
}

/** A raw client speaking just enough NBD to test the server's edge cases byte by byte. */
export class RawClient {
  readonly socket: Socket;
  #buffer = Buffer.alloc(0);
  #waiter: (() => void) | undefined;
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (d: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, d]);
      this.#waiter?.();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
      this.#waiter?.();
    });
  }

  static connect(path: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(path, () => resolve(new RawClient(socket)));
      socket.once("error", reject);
    });
  }

  /** The next n bytes the server sends; rejects if the connection closes first. */
  async read(n: number): Promise<Buffer> {
    while (this.#buffer.length < n) {
      if (this.closed) throw new Error(`connection closed (wanted ${n}, have ${this.#buffer.length})`);
      await new Promise<void>((r) => {
        this.#waiter = r;
      });
    }
    const out = this.#buffer.subarray(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return out;
  }

  async untilClosed(): Promise<void> {
    while (!this.closed) await new Promise<void>((r) => (this.#waiter = r));
  }

  /** Reads the greeting and answers with the client flags; returns the server's handshake flags. */
  async hello(clientFlags = 3): Promise<number> {
    const greeting = await this.read(18);
    if (greeting.toString("latin1", 0, 16) !== "NBDMAGICIHAVEOPT") throw new Error("bad greeting");
    const flags = Buffer.alloc(4);
    flags.writeUInt32BE(clientFlags);
    this.socket.write(flags);
    return greeting.readUInt16BE(16);
  }

  sendOption(option: number, data: Buffer = Buffer.alloc(0)): void {
    const header = Buffer.alloc(16);
    header.write("IHAVEOPT", 0, "latin1");
    header.writeUInt32BE(option, 8);
    header.writeUInt32BE(data.length, 12);
    this.socket.write(Buffer.concat([header, data]));
  }

  async optionReply(): Promise<{ option: number; type: number; data: Buffer }> {
    const header = await this.read(20);
    if (header.readBigUInt64BE(0) !== 0x3e889045565a9n) throw new Error("bad option reply magic");
    const data = await this.read(header.readUInt32BE(16));
    return { option: header.readUInt32BE(8), type: header.readUInt32BE(12), data };
  }

  /** Handshake then NBD_OPT_GO; returns the export size and transmission flags. */
  async go(name: string): Promise<{ size: bigint; flags: number }> {
    await this.hello();
    this.sendOption(7, infoRequest(name));
    let exportInfo: { size: bigint; flags: number } | undefined;
    for (;;) {
      const { type, data } = await this.optionReply();
      if (type === 1 && exportInfo) return exportInfo;
      if (type !== 3) throw new Error(`NBD_OPT_GO failed: reply type 0x${type.toString(16)}`);
      if (data.readUInt16BE(0) === 0)
        exportInfo = { size: data.readBigUInt64BE(2), flags: data.readUInt16BE(10) };
    }
  }

  /** Sends a request (not waiting for the reply). */
  request(
    type: number,
    cookie: number,
    offset: number | bigint,
    length: number,
    flags = 0,
    payload?: Buffer,
  ): void {
    this.socket.write(encodeRequest(type, cookie, offset, length, flags, payload));
  }

  /** A simple reply; a successful read's data follows, of the length `dataLength` gives for its cookie. */
  async reply(
    dataLength: number | ((cookie: number) => number) = 0,
  ): Promise<{ error: number; cookie: number; data: Buffer }> {
    const header = await this.read(16);
    assertMagic(header.readUInt32BE(0));
    const error = header.readUInt32BE(4);
    const cookie = Number(header.readBigUInt64BE(8));
    const length = typeof dataLength === "number" ? dataLength : dataLength(cookie);
    const data = error === 0 ? await this.read(length) : Buffer.alloc(0);
    return { error, cookie, data };
  }
}

export function encodeRequest(
  type: number,
  cookie: number,
  offset: number | bigint,
  length: number,
  flags = 0,
  payload?: Buffer,
): Buffer {
  const header = Buffer.alloc(28);
  header.writeUInt32BE(0x25609513, 0);
  header.writeUInt16BE(flags, 4);
  header.writeUInt16BE(type, 6);
  header.writeBigUInt64BE(BigInt(cookie), 8);
  header.writeBigUInt64BE(BigInt(offset), 16);
  header.writeUInt32BE(length, 24);
  return payload ? Buffer.concat([header, payload]) : header;
}

/** The data of NBD_OPT_INFO/GO: the name and the given info requests. */
export function infoRequest(name: string, infos: number[] = []): Buffer {
  const nameBytes = Buffer.from(name);
  const data = Buffer.alloc(6 + nameBytes.length + 2 * infos.length);
  data.writeUInt32BE(nameBytes.length, 0);
  nameBytes.copy(data, 4);
  data.writeUInt16BE(infos.length, 4 + nameBytes.length);
  for (const [i, info] of infos.entries()) data.writeUInt16BE(info, 6 + nameBytes.length + 2 * i);
  return data;
}

function assertMagic(magic: number): void {
  if (magic !== 0x67446698) throw new Error(`bad reply magic 0x${magic.toString(16)}`);
}
