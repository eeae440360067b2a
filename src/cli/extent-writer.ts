// Writes the admin API's streamed volume read (frames of data, see src/server/volume-extents.ts)
// into a file of the range's length: each frame's bytes go to their offset as they arrive, from
// the caller's (reused) receive buffer, and holes stay sparse.
import { ftruncateSync, writeSync } from "node:fs";
import { FRAME_HEADER_BYTES } from "../server/volume-extents.ts";

export class ExtentWriter {
  readonly #fd: number;
  readonly #length: number;
  readonly #header = Buffer.alloc(FRAME_HEADER_BYTES);
  #headerBytes = 0;
  #at = 0;
  #frameLeft = 0;
  #ended = false;

  /** Makes the file at `fd` exactly `length` bytes long, all holes. */
  constructor(fd: number, length: number) {
    this.#fd = fd;
    this.#length = length;
    ftruncateSync(fd, 0);
    ftruncateSync(fd, length);
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** The next bytes of the stream: written before this returns (the caller may reuse `chunk`). */
  push(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.byteLength; ) {
      if (this.#ended) throw new Error("the volume read went on after its end");
      if (this.#frameLeft === 0) {
        const n = Math.min(FRAME_HEADER_BYTES - this.#headerBytes, chunk.byteLength - i);
        this.#header.set(chunk.subarray(i, i + n), this.#headerBytes);
        this.#headerBytes += n;
        i += n;
        if (this.#headerBytes < FRAME_HEADER_BYTES) break;
        this.#headerBytes = 0;
        this.#at = Number(this.#header.readBigUInt64BE(0));
        this.#frameLeft = this.#header.readUInt32BE(8);
        if (this.#frameLeft === 0) this.#ended = true;
        else if (this.#at + this.#frameLeft > this.#length)
          throw new Error(`the volume read sent data past ${this.#length} bytes`);
        continue;
      }
      const n = Math.min(this.#frameLeft, chunk.byteLength - i);
      for (let done = 0; done < n; ) done += writeSync(this.#fd, chunk, i + done, n - done, this.#at + done);
      this.#at += n;
      this.#frameLeft -= n;
      i += n;
    }
  }

  /** At the end of the stream: throws unless it ended with its end frame. */
  finish(): void {
    if (!this.#ended) throw new Error("the volume read stopped before its end (see the server's log)");
  }
}
