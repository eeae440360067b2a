// Reads of chunks that sit next to each other in one pack, asked for in the same turn of the event
// loop (a restore reading 16 MiB, a hydrator's batch), become one ranged read: a remote store pays
// per request (an S3 GET costs far more than its bytes), and a snapshot's chunks are packed in
// block order, so a restore's neighbours are mostly the pack's neighbours.

/** Ranges closer than this are read together, the gap included... */
const MAX_GAP = 64 * 1024;
/**
 * ...up to this much per read: Ceph RGW (4 MiB stripes) answered 2 MiB ranges at ~780 MB/s and
 * 8 MiB ones at ~180 MB/s on loopback (bench/s3-read.bench.ts); more, smaller GETs run in parallel.
 */
const MAX_SPAN = 2 * 1024 * 1024;
/** Span buffers kept for reuse: fresh memory costs a page fault per 4 KiB, more than the bytes. */
const KEPT_SPANS = 32;

/** Bytes lent out of a reused buffer: valid until release() (call it exactly once). */
export interface Leased {
  bytes: Buffer;
  release(): void;
}

type Read = (pack: string, offset: number, length: number, into?: Buffer) => Promise<Buffer>;

interface Want {
  offset: number;
  length: number;
  leased: boolean;
  resolve(b: Buffer, release: () => void): void;
  reject(e: unknown): void;
}

export class RangeCoalescer {
  readonly #read: Read;
  readonly #spans: SharedArrayBuffer[] = [];
  #pending = new Map<string, Want[]>();
  #scheduled = false;

  constructor(read: Read) {
    this.#read = read;
  }

  /** The bytes, in memory of the caller's own. */
  read(pack: string, offset: number, length: number): Promise<Buffer> {
    return new Promise((resolve, reject) =>
      this.#want(pack, { offset, length, leased: false, resolve, reject }),
    );
  }

  /** The bytes in shared memory reused once every range read with them is released. */
  lease(pack: string, offset: number, length: number): Promise<Leased> {
    return new Promise((resolve, reject) =>
      this.#want(pack, {
        offset,
        length,
        leased: true,
        resolve: (bytes, release) => resolve({ bytes, release }),
        reject,
      }),
    );
  }

  #want(pack: string, w: Want): void {
    const wants = this.#pending.get(pack) ?? [];
    wants.push(w);
    this.#pending.set(pack, wants);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    const pending = this.#pending;
    this.#pending = new Map();
    this.#scheduled = false;
    for (const [pack, wants] of pending) {
      wants.sort((a, b) => a.offset - b.offset);
      let group: Want[] = [];
      for (const w of wants) {
        const start = group[0]?.offset;
        const end = group.length ? Math.max(...group.map((g) => g.offset + g.length)) : 0;
        if (group.length && (w.offset - end > MAX_GAP || w.offset + w.length - (start ?? 0) > MAX_SPAN)) {
          this.#readGroup(pack, group);
          group = [];
        }
        group.push(w);
      }
      if (group.length) this.#readGroup(pack, group);
    }
  }

  #readGroup(pack: string, group: Want[]): void {
    const start = group[0].offset;
    const end = Math.max(...group.map((g) => g.offset + g.length));
    // Reused memory only when every range of the group gives it back.
    const span =
      end - start <= MAX_SPAN && group.every((g) => g.leased)
        ? (this.#spans.pop() ?? new SharedArrayBuffer(MAX_SPAN))
        : undefined;
    const giveBack = () => {
      if (span && this.#spans.length < KEPT_SPANS) this.#spans.push(span);
    };
    let left = group.length;
    const release = span
      ? () => {
          if (--left === 0) giveBack();
        }
      : () => {};
    const into = span ? Buffer.from(span, 0, end - start) : undefined;
    this.#read(pack, start, end - start, into).then(
      (bytes) => {
        for (const g of group)
          g.resolve(bytes.subarray(g.offset - start, g.offset - start + g.length), release);
      },
      (e) => {
        giveBack();
        for (const g of group) g.reject(e);
      },
    );
  }
}
