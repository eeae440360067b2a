// One client connection: handshake, then requests read in order and run concurrently, each answered
// with one simple reply as soon as it completes.
import type { Socket } from "node:net";
import { ByteQueue } from "./byte-queue.ts";
import { execute, type NbdRequest, type NbdResult, parseRequest } from "./nbd-commands.ts";
import type { NbdExport } from "./nbd-export.ts";
import { negotiate } from "./nbd-handshake.ts";
import {
  NBD_CMD_DISC,
  NBD_CMD_READ,
  NBD_CMD_WRITE,
  NBD_MAX_PAYLOAD,
  NBD_REQUEST_SIZE,
  NBD_SIMPLE_REPLY_MAGIC,
  NBD_SIMPLE_REPLY_SIZE,
  NbdProtocolError,
} from "./nbd-protocol.ts";

const MAX_IN_FLIGHT = 64;
/** Payload bytes of in-flight READ/WRITE requests (one request may always run, whatever its size). */
const MAX_IN_FLIGHT_BYTES = 128 * 1024 * 1024;
/** Replies queued in the socket but not yet taken by the kernel (a client that doesn't read). */
const MAX_UNSENT_BYTES = 64 * 1024 * 1024;
/** How long a closing connection may take to flush its last replies. */
const CLOSE_GRACE_MS = 5_000;

class Stopped extends Error {}
class EndOfInput extends Error {}

export interface ConnectionOptions {
  resolve(name: string): Promise<NbdExport | undefined>;
  log(msg: string): void;
}

export class NbdConnection {
  readonly #socket: Socket;
  readonly #queue: ByteQueue;
  readonly #options: ConnectionOptions;
  readonly #closed: Promise<void>;
  readonly #peer: string;
  #exportName: string | undefined;
  #inFlight = 0;
  #inFlightBytes = 0;
  #stopping = false;
  #wake: (() => void) | undefined;
  /** Settles once the socket is closed and no request is running any more. */
  readonly done: Promise<void>;

  constructor(socket: Socket, options: ConnectionOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#peer = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : "unix";
    this.#queue = new ByteQueue(socket);
    this.#closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.#queue.push(chunk));
    socket.on("end", () => this.#queue.end(new EndOfInput("client closed the connection")));
    socket.on("error", (e: NodeJS.ErrnoException) => {
      // A client hanging up without waiting for our last reply is routine, not worth a log line.
      if (e.code !== "EPIPE" && e.code !== "ECONNRESET") this.#log(`socket error: ${e.message}`);
      this.#queue.abort(e);
    });
    socket.on("close", () => {
      this.#queue.abort(new EndOfInput("connection closed"));
      this.#notify();
    });
    socket.on("drain", () => this.#notify());
    this.done = this.#run();
  }

  /** The export chosen by the client, once in the transmission phase. */
  get exportName(): string | undefined {
    return this.#exportName;
  }

  /** Takes no more requests, lets those in flight finish and be answered, then closes. */
  shutdown(): Promise<void> {
    this.#stopping = true;
    this.#queue.abort(new Stopped("server is disconnecting this client"));
    this.#notify();
    return this.done;
  }

  async #run(): Promise<void> {
    try {
      const negotiated = await negotiate({
        queue: this.#queue,
        write: (data) => this.#write(data),
        resolve: (name) => this.#options.resolve(name),
      });
      if (negotiated && !this.#stopping) {
        this.#exportName = negotiated.name;
        await this.#serve(negotiated.export);
      }
    } catch (e) {
      if (e instanceof NbdProtocolError) {
        this.#log(`closing: ${e.message}`);
        this.#socket.destroy();
      } else if (!(e instanceof Stopped || e instanceof EndOfInput || this.#socket.destroyed)) {
        this.#log(`closing: ${e instanceof Error ? e.message : String(e)}`);
        this.#socket.destroy();
      }
    }
    while (this.#inFlight > 0) await this.#changed();
    await this.#close();
  }

  async #serve(exp: NbdExport): Promise<void> {
    for (;;) {
      while (this.#busy()) await this.#changed();
      if (this.#stopping || this.#socket.destroyed) return;
      const req = parseRequest(await this.#queue.take(NBD_REQUEST_SIZE));
      if (req.type === NBD_CMD_DISC) return;
      let payload: Buffer | undefined;
      if (req.type === NBD_CMD_WRITE) {
        // The payload can't be skipped without reading it; beyond the maximum, hang up instead.
        if (req.length > NBD_MAX_PAYLOAD) throw new NbdProtocolError(`WRITE of ${req.length} bytes`);
        payload = await this.#queue.take(req.length);
      }
      this.#start(exp, req, payload);
    }
  }

  #busy(): boolean {
    if (this.#stopping || this.#socket.destroyed) return false;
    return (
      this.#inFlight >= MAX_IN_FLIGHT ||
      (this.#inFlight > 0 && this.#inFlightBytes >= MAX_IN_FLIGHT_BYTES) ||
      this.#socket.writableLength >= MAX_UNSENT_BYTES
    );
  }

  #start(exp: NbdExport, req: NbdRequest, payload: Buffer | undefined): void {
    const bytes = req.type === NBD_CMD_READ || req.type === NBD_CMD_WRITE ? req.length : 0;
    this.#inFlight++;
    this.#inFlightBytes += bytes;
    const log = (msg: string) => this.#log(msg);
    execute(exp, req, payload, log)
      .then((result) => this.#reply(req, result))
      .catch((e) => this.#log(`reply failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => {
        this.#inFlight--;
        this.#inFlightBytes -= bytes;
        this.#notify();
      });
  }

  #reply(req: NbdRequest, result: NbdResult): void {
    if (!this.#socket.writable) return;
    const header = Buffer.alloc(NBD_SIMPLE_REPLY_SIZE);
    header.writeUInt32BE(NBD_SIMPLE_REPLY_MAGIC, 0);
    header.writeUInt32BE(result.error, 4);
    req.cookie.copy(header, 8);
    if (result.error || !result.data?.length) {
      this.#socket.write(header);
      return;
    }
    // Two writes in one synchronous step can't interleave with other replies; cork makes them one writev.
    this.#socket.cork();
    this.#socket.write(header);
    this.#socket.write(result.data);
    this.#socket.uncork();
  }

  #write(data: Buffer): void {
    if (this.#socket.writable) this.#socket.write(data);
  }

  async #close(): Promise<void> {
    const socket = this.#socket;
    if (!socket.destroyed) {
      const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
      socket.once("close", () => clearTimeout(timer));
      socket.end(() => socket.destroy());
    }
    await this.#closed;
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #log(msg: string): void {
    const name = this.#exportName === undefined ? "" : ` ${JSON.stringify(this.#exportName)}`;
    this.#options.log(`nbd ${this.#peer}${name}: ${msg}`);
  }
}
