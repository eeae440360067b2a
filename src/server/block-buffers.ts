// Block-sized shared buffers that GetSnapshotBlock answers are built in (the codec worker delivers
// the block straight into one) and lent to the socket until the response closes. A fresh 512 KiB
// buffer per block made the main thread run several major GCs a second during an export.

export class BlockBuffers {
  readonly size: number;
  readonly #keep: number;
  readonly #free: SharedArrayBuffer[] = [];

  /** Buffers of `size` bytes; at most `keep` idle ones are kept for reuse. */
  constructor(size: number, keep: number) {
    this.size = size;
    this.#keep = keep;
  }

  take(): SharedArrayBuffer {
    return this.#free.pop() ?? new SharedArrayBuffer(this.size);
  }

  /** Back to the pool: the caller must not use it afterwards. */
  give(buffer: SharedArrayBuffer): void {
    if (this.#free.length < this.#keep && buffer.byteLength === this.size) this.#free.push(buffer);
  }
}
