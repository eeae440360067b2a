// A minimal NBD client (fixed newstyle handshake, NBD_OPT_EXPORT_NAME, simple replies, READ and
// DISC only) for reading a disk image that qemu-nbd serves on a Unix socket. Reads are pipelined.
import { connect, type Socket } from "node:net";

const NBDMAGIC = 0x4e42444d41474943n;
const IHAVEOPT = 0x49484156454f5054n;
const OPT_EXPORT_NAME = 1;
const FLAG_FIXED_NEWSTYLE = 1;
const FLAG_NO_ZEROES = 2;
const REQUEST_MAGIC = 0x25609513;
const REPLY_MAGIC = 0x67446698;
const CMD_READ = 0;
const CMD_DISC = 2;

interface Pending {
  length: number;
  resolve(data: Buffer): void;
  reject(e: Error): void;
}

/** Buffers socket data and hands out exact byte counts. */
class ByteQueue {
  #chunks: Buffer[] = [];
  length = 0;

  push(b: Buffer): void {
    this.#chunks.push(b);
    this.length += b.byteLength;
  }

  take(n: number): Buffer {
    const out =
      this.#chunks[0].byteLength >= n ? this.#chunks[0].subarray(0, n) : Buffer.concat(this.#chunks, n);
    let left = n;
    while (left > 0) {
      const head = this.#chunks[0];
      if (head.byteLength <= left) {
        this.#chunks.shift();
        left -= head.byteLength;
      } else {
        this.#chunks[0] = head.subarray(left);
        left = 0;
      }
    }
    this.length -= n;
    return out;
  }
}

export class NbdClient {
  readonly size: number;
  readonly #socket: Socket;
  readonly #queue: ByteQueue;
  readonly #pending = new Map<bigint, Pending>();
  #nextHandle = 1n;
  #header: { handle: bigint; error: number } | null = null;
  #failure: Error | null = null;

  private constructor(socket: Socket, queue: ByteQueue, size: number) {
    this.#socket = socket;
    this.#queue = queue;
    this.size = size;
    socket.on("data", (d: Buffer) => {
      queue.push(d);
      this.#drain();
    });
    const fail = (e: Error) => {
      this.#failure ??= e;
      for (const p of this.#pending.values()) p.reject(this.#failure);
      this.#pending.clear();
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("the NBD server closed the connection")));
  }

  static async connect(path: string, exportName = ""): Promise<NbdClient> {
    const socket = connect({ path });
    const queue = new ByteQueue();
    const waiters: (() => void)[] = [];
    let failure: Error | null = null;
    const onData = (d: Buffer) => {
      queue.push(d);
      for (const w of waiters.splice(0)) w();
    };
    const onEnd = (e?: Error) => {
      failure = e ?? new Error("the NBD server closed the connection during the handshake");
      for (const w of waiters.splice(0)) w();
    };
    socket.on("data", onData);
    socket.once("error", onEnd);
    socket.once("close", () => onEnd());
    const read = async (n: number) => {
      while (queue.length < n) {
        if (failure) throw failure;
        await new Promise<void>((r) => waiters.push(r));
      }
      return queue.take(n);
    };
    const greeting = await read(18);
    if (greeting.readBigUInt64BE(0) !== NBDMAGIC || greeting.readBigUInt64BE(8) !== IHAVEOPT)
      throw new Error("not a newstyle NBD server");
    const serverFlags = greeting.readUInt16BE(16);
    const noZeroes = (serverFlags & FLAG_NO_ZEROES) !== 0;
    const clientFlags = Buffer.alloc(4);
    clientFlags.writeUInt32BE((serverFlags & FLAG_FIXED_NEWSTYLE) | (noZeroes ? FLAG_NO_ZEROES : 0));
    const name = Buffer.from(exportName);
    const option = Buffer.alloc(16);
    option.writeBigUInt64BE(IHAVEOPT, 0);
    option.writeUInt32BE(OPT_EXPORT_NAME, 8);
    option.writeUInt32BE(name.byteLength, 12);
    socket.write(Buffer.concat([clientFlags, option, name]));
    const reply = await read(noZeroes ? 10 : 134);
    socket.off("data", onData);
    socket.removeAllListeners("error");
    socket.removeAllListeners("close");
    return new NbdClient(socket, queue, Number(reply.readBigUInt64BE(0)));
  }

  read(offset: number, length: number): Promise<Buffer> {
    if (this.#failure) return Promise.reject(this.#failure);
    const handle = this.#nextHandle++;
    const request = Buffer.alloc(28);
    request.writeUInt32BE(REQUEST_MAGIC, 0);
    request.writeUInt16BE(CMD_READ, 6);
    request.writeBigUInt64BE(handle, 8);
    request.writeBigUInt64BE(BigInt(offset), 16);
    request.writeUInt32BE(length, 24);
    return new Promise((resolve, reject) => {
      this.#pending.set(handle, { length, resolve, reject });
      this.#socket.write(request);
    });
  }

  /** Sends NBD_CMD_DISC and closes the socket. */
  close(): void {
    if (!this.#socket.destroyed && !this.#failure) {
      const request = Buffer.alloc(28);
      request.writeUInt32BE(REQUEST_MAGIC, 0);
      request.writeUInt16BE(CMD_DISC, 6);
      this.#socket.end(request);
    }
    this.#failure ??= new Error("the NBD client is closed");
  }

  #drain(): void {
    for (;;) {
      if (!this.#header) {
        if (this.#queue.length < 16) return;
        const h = this.#queue.take(16);
        if (h.readUInt32BE(0) !== REPLY_MAGIC) {
          this.#socket.destroy(new Error("bad NBD reply magic"));
          return;
        }
        this.#header = { error: h.readUInt32BE(4), handle: h.readBigUInt64BE(8) };
      }
      const { handle, error } = this.#header;
      const pending = this.#pending.get(handle);
      if (!pending) {
        this.#socket.destroy(new Error(`NBD reply for an unknown handle ${handle}`));
        return;
      }
      if (error !== 0) {
        this.#header = null;
        this.#pending.delete(handle);
        pending.reject(new Error(`NBD read failed (error ${error})`));
        continue;
      }
      if (this.#queue.length < pending.length) return;
      this.#header = null;
      this.#pending.delete(handle);
      pending.resolve(this.#queue.take(pending.length));
    }
  }
}
