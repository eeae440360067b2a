// Bytes received from a socket, taken off in exact-size pieces however the 'data' events chunk them.
// While nobody waits for bytes and enough are buffered, the socket is paused: when the request loop
// stops taking (too many requests in flight), the client is slowed down by TCP flow control.

interface Pausable {
  pause(): unknown;
  resume(): unknown;
}

interface Waiter {
  want: number;
  resolve(data: Buffer): void;
  reject(error: Error): void;
}

export class ByteQueue {
  readonly #source: Pausable;
  readonly #highWater: number;
  #chunks: Buffer[] = [];
  #length = 0;
  #waiter: Waiter | undefined;
  #ended: Error | undefined;
  #paused = false;

  constructor(source: Pausable, highWater = 1024 * 1024) {
    this.#source = source;
    this.#highWater = highWater;
  }

  get length(): number {
    return this.#length;
  }

  push(chunk: Buffer): void {
    if (this.#ended || chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    const waiter = this.#waiter;
    if (waiter && this.#length >= waiter.want) {
      this.#waiter = undefined;
      waiter.resolve(this.#shift(waiter.want));
    }
    this.#flow();
  }

  /** End of input: bytes already buffered can still be taken, then takes fail with `error`. */
  end(error: Error): void {
    if (this.#ended) return;
    this.#ended = error;
    this.#fail(error);
  }

  /** Stop now: buffered bytes are dropped, pending and later takes fail with `error`. */
  abort(error: Error): void {
    this.#chunks = [];
    this.#length = 0;
    this.end(error);
  }

  /** The next `n` bytes; only one take may be pending at a time. */
  take(n: number): Promise<Buffer> {
    if (this.#waiter) return Promise.reject(new Error("ByteQueue: concurrent take"));
    if (this.#length >= n) {
      const data = this.#shift(n);
      this.#flow();
      return Promise.resolve(data);
    }
    if (this.#ended) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => {
      this.#waiter = { want: n, resolve, reject };
      this.#flow();
    });
  }

  #fail(error: Error): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(error);
  }

  #flow(): void {
    const pause = !this.#ended && !this.#waiter && this.#length >= this.#highWater;
    if (pause === this.#paused || this.#ended) return;
    this.#paused = pause;
    if (pause) this.#source.pause();
    else this.#source.resume();
  }

  #shift(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    this.#length -= n;
    const first = this.#chunks[0];
    if (first.length >= n) {
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0];
      const k = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, k);
      if (k === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(k);
      filled += k;
    }
    return out;
  }
}
