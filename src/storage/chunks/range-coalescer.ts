// Reads of chunks that sit next to each other in one pack, asked for in the same turn of the event
// loop (a restore reading 16 MiB, a hydrator's batch), become one ranged read: a remote store pays
// per request (an S3 GET costs far more than its bytes), and a snapshot's chunks are packed in
// block order, so a restore's neighbours are mostly the pack's neighbours.

/** Ranges closer than this are read together, the gap included... */
const MAX_GAP = 64 * 1024;
/** ...up to this much per read. */
const MAX_SPAN = 8 * 1024 * 1024;

interface Want {
  offset: number;
  length: number;
  resolve(b: Buffer): void;
  reject(e: unknown): void;
}

export class RangeCoalescer {
  readonly #read: (pack: string, offset: number, length: number) => Promise<Buffer>;
  #pending = new Map<string, Want[]>();
  #scheduled = false;

  constructor(read: (pack: string, offset: number, length: number) => Promise<Buffer>) {
    this.#read = read;
  }

  read(pack: string, offset: number, length: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const wants = this.#pending.get(pack) ?? [];
      wants.push({ offset, length, resolve, reject });
      this.#pending.set(pack, wants);
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
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
    this.#read(pack, start, end - start).then(
      (bytes) => {
        for (const g of group) g.resolve(bytes.subarray(g.offset - start, g.offset - start + g.length));
      },
      (e) => {
        for (const g of group) g.reject(e);
      },
    );
  }
}
