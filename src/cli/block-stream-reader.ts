// Reads the Strata-only block stream (src/server/block-stream.ts) of one request into the export's
// file: each piece of a block is hashed and written at its offset as it arrives (no copy into a
// block buffer: at ~1 GB that copy was a tenth of the CLI's CPU), and the block is checked against
// the checksum framed with it (and against the blocks the request asked for: the next one, or, when
// it let the server choose the order, one not yet received) once it is whole.
// A block that fails its check has already been written, so the caller must throw the file away
// on any error: the export writes a temporary file and renames it only once every block passed.
import { createHash, type Hash } from "node:crypto";
import { writeSync } from "node:fs";
import { BLOCK_FRAME_HEADER_BYTES } from "../server/block-stream.ts";

export class BlockStreamReader {
  readonly #fd: number;
  readonly #blockSize: number;
  readonly #expected: number[];
  /** Blocks still to come, when the server chooses their order (else null: `#expected`'s order). */
  readonly #pending: Set<number> | null;
  readonly #onBlock: (index: number) => void;
  readonly #header = Buffer.alloc(BLOCK_FRAME_HEADER_BYTES);
  #headerBytes = 0;
  #received = 0;
  #index = 0;
  #length = 0;
  #filled = 0;
  #hash: Hash | undefined;
  #ended = false;

  /**
   * The stream of the blocks `expected` (in that order, unless `anyOrder`), written into `fd` at
   * index * blockSize.
   */
  constructor(
    fd: number,
    blockSize: number,
    expected: number[],
    onBlock: (index: number) => void,
    o: { anyOrder?: boolean } = {},
  ) {
    this.#fd = fd;
    this.#blockSize = blockSize;
    this.#expected = expected;
    this.#pending = o.anyOrder ? new Set(expected) : null;
    this.#onBlock = onBlock;
  }

  /** The next bytes of the stream (the caller may reuse `piece` once this returns). */
  push(piece: Uint8Array): void {
    for (let i = 0; i < piece.byteLength; ) {
      if (this.#ended) throw new Error("the block stream went on after its end");
      if (!this.#hash) {
        const n = Math.min(BLOCK_FRAME_HEADER_BYTES - this.#headerBytes, piece.byteLength - i);
        this.#header.set(piece.subarray(i, i + n), this.#headerBytes);
        this.#headerBytes += n;
        i += n;
        if (this.#headerBytes === BLOCK_FRAME_HEADER_BYTES) this.#startFrame();
        continue;
      }
      const n = Math.min(this.#length - this.#filled, piece.byteLength - i);
      const part = piece.subarray(i, i + n);
      this.#hash.update(part);
      const at = this.#index * this.#blockSize + this.#filled;
      for (let done = 0; done < n; ) done += writeSync(this.#fd, part, done, n - done, at + done);
      this.#filled += n;
      i += n;
      if (this.#filled === this.#length) this.#endFrame();
    }
  }

  /** At the end of the stream: throws unless every block asked for came, and the end frame. */
  finish(): void {
    if (!this.#ended || this.#received !== this.#expected.length)
      throw new Error(
        `the block stream stopped after ${this.#received} of ${this.#expected.length} blocks (see the server's log)`,
      );
  }

  #startFrame(): void {
    this.#headerBytes = 0;
    this.#index = Number(this.#header.readBigUInt64BE(0));
    this.#length = this.#header.readUInt32BE(8);
    if (this.#length === 0) {
      this.#ended = true;
      return;
    }
    if (this.#pending) {
      if (!this.#pending.delete(this.#index))
        throw new Error(`the block stream sent block ${this.#index}, not asked for or sent before`);
    } else {
      const want = this.#expected[this.#received];
      if (this.#index !== want) throw new Error(`the block stream sent block ${this.#index}, not ${want}`);
    }
    if (this.#length !== this.#blockSize)
      throw new Error(`block ${this.#index}: ${this.#length} bytes, not ${this.#blockSize}`);
    this.#filled = 0;
    this.#hash = createHash("sha256");
  }

  #endFrame(): void {
    const sha256 = this.#hash!.digest();
    this.#hash = undefined;
    const expected = this.#header.subarray(12, 44);
    if (!sha256.equals(expected))
      throw new Error(
        `block ${this.#index}: checksum mismatch (sent ${expected.toString("base64")}, content ${sha256.toString("base64")})`,
      );
    this.#received++;
    this.#onBlock(this.#index);
  }
}
