import { StrataError } from "../../errors.ts";
import { BLOCK_SIZE, blockCount, GIB } from "../../storage/blocks.ts";
import type { BlockStore } from "../../storage/chunks/block-store.ts";
import type { MetadataStore, VolumeRecord, VolumeTracking } from "../../storage/metadata/metadata-store.ts";
import type { VolumeFile } from "../../storage/volume-files/volume-file.ts";
import { Bitset } from "../../util/bitset.ts";
import { mapConcurrent } from "../../util/concurrency.ts";
import { crashPoint } from "../../util/crash-points.ts";
import { KeyedLock } from "../../util/keyed-lock.ts";

/** A pending snapshot's copy-on-write hook: called with the block's lock held, before a write. */
export interface WriteHook {
  beforeWrite(block: number): Promise<void>;
}

// Blocks processed at once by one read call (bounds memory, keeps workers busy).
const READ_PARALLELISM = 32;

/**
 * An open volume: every read and write goes through here, so the engine always knows which
 * blocks changed (dirty, persisted before the write lands) and which still live only in the block
 * store (remote: restored from a snapshot, fetched on first read or by the hydrator).
 */
export class VolumeHandle {
  readonly id: string;
  readonly sizeGiB: number;
  readonly blocks: number;
  readonly dirty: Bitset;
  readonly remote: Bitset;
  readonly locks = new KeyedLock<number>();
  hook: WriteHook | null = null;
  readonly #file: VolumeFile;
  readonly #meta: MetadataStore;
  readonly #store: BlockStore;
  readonly #mapped: number;
  // Blocks that may hold data: the base map, and anything written since. The others are holes,
  // which reads answer with zeros without touching the disk.
  readonly #maybeData: Bitset;
  #writesInFlight = 0;
  #gate: Promise<void> | null = null;
  #drained: (() => void) | null = null;
  #closed = false;
  // Reads, writes and hydration in progress: close() waits for them, so nothing still writes to
  // the files once they are regrown or deleted. (Each I/O also pins its descriptor in the pool, so
  // no worker thread writes through a descriptor number the OS has since reused.)
  #ops = 0;
  #idle: (() => void) | null = null;

  constructor(
    record: VolumeRecord,
    file: VolumeFile,
    meta: MetadataStore,
    store: BlockStore,
    tracking: VolumeTracking,
  ) {
    this.id = record.id;
    this.sizeGiB = record.sizeGiB;
    this.blocks = blockCount(record.sizeGiB);
    this.#file = file;
    this.#meta = meta;
    this.#store = store;
    this.#mapped = tracking.mapped.length;
    this.dirty = new Bitset(this.blocks);
    this.remote = new Bitset(this.blocks);
    for (const b of tracking.dirty) this.dirty.add(b);
    for (const b of tracking.remote) this.remote.add(b);
    this.#maybeData = new Bitset(this.blocks);
    for (const b of [...tracking.mapped, ...tracking.dirty, ...(tracking.frozen?.blocks ?? [])])
      this.#maybeData.add(b);
  }

  get sizeBytes(): number {
    return this.sizeGiB * GIB;
  }

  /** Fraction of the restored content already copied to local disk (1 when nothing is remote). */
  get hydration(): { total: number; remaining: number } {
    return { total: this.#mapped, remaining: this.remote.count };
  }

  /** False for a hole: a block never written nor restored, which reads as zeros. */
  mayHoldData(block: number): boolean {
    return this.#maybeData.has(block);
  }

  /** When a reader or writer last used the volume (the hydrator yields to them). */
  lastAccess = 0;

  /**
   * The bytes of [offset, offset + length). `hydrate: false` serves still-remote blocks from the
   * block store without copying them to local disk (a one-pass stream of the volume: writing each
   * block locally on the way doubles its cost, and the background hydrator copies it anyway).
   */
  read(
    offset: number,
    length: number,
    o: { hydrate?: boolean; buffer?: SharedArrayBuffer } = {},
  ): Promise<Buffer> {
    this.lastAccess = Date.now();
    return this.#op(() => this.#read(offset, length, o.hydrate ?? true, o.buffer));
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    this.lastAccess = Date.now();
    return this.#op(() => this.#write(offset, data));
  }

  /** Hydrates the still-remote blocks among `blocks` (ascending; the background hydrator's step). */
  hydrate(blocks: number[]): Promise<void> {
    return this.#op(() => this.#withBlocks(blocks, async () => {}));
  }

  /** `buffer`: shared memory to read into (a caller's reused one), its first `length` bytes. */
  async #read(offset: number, length: number, hydrate: boolean, buffer?: SharedArrayBuffer): Promise<Buffer> {
    this.#checkRange(offset, length);
    // Shared memory, so the codec workers deliver restored blocks straight into the result.
    const shared = buffer ?? new SharedArrayBuffer(length);
    const out = Buffer.from(shared, 0, length);
    if (length === 0) return out;
    const first = Math.floor(offset / BLOCK_SIZE);
    const last = Math.floor((offset + length - 1) / BLOCK_SIZE);
    // A reused buffer holds old bytes where blocks without data (left alone below) read as zeros.
    if (buffer)
      for (let b = first; b <= last; b++)
        if (!this.#maybeData.has(b)) {
          const from = Math.max(offset, b * BLOCK_SIZE) - offset;
          out.fill(0, from, Math.min(length, (b + 1) * BLOCK_SIZE - offset));
        }
    const whole = (b: number) => b * BLOCK_SIZE >= offset && (b + 1) * BLOCK_SIZE <= offset + length;
    await this.#withBlocks(
      range(first, last).filter((b) => this.#maybeData.has(b)),
      async (b, fetched) => {
        const blockStart = b * BLOCK_SIZE;
        const from = Math.max(offset, blockStart);
        const to = Math.min(offset + length, blockStart + BLOCK_SIZE);
        if (fetched === "delivered") return;
        if (fetched) fetched.copy(out, from - offset, from - blockStart, to - blockStart);
        else await this.#file.readInto(b, from - blockStart, out.subarray(from - offset, to - offset));
      },
      (b) => (whole(b) ? { buffer: shared, offset: b * BLOCK_SIZE - offset } : undefined),
      hydrate,
    );
    return out;
  }

  /**
   * Runs fn for each block (ascending) under its lock, after fetching it from the block
   * store if it is still remote (fn then gets the fetched bytes, already written locally).
   * Metadata is read once for the range and the blocks made local are recorded in one
   * transaction, before their remote bits clear (so a write can never land on a block that a
   * restart would hydrate again). Without `hydrate`, remote blocks are fetched for fn only and
   * stay remote.
   */
  async #withBlocks(
    blocks: number[],
    fn: (block: number, fetched: Buffer | null | "delivered") => Promise<void>,
    into?: (block: number) => { buffer: SharedArrayBuffer; offset: number } | undefined,
    hydrate = true,
  ): Promise<void> {
    if (blocks.length === 0) return;
    const hashes =
      this.remote.count > 0
        ? await this.#meta.remoteBlockHashes(this.id, blocks[0], blocks[blocks.length - 1])
        : null;
    const hydrated: number[] = [];
    await mapConcurrent(blocks, READ_PARALLELISM, async (b) => {
      const release = await this.locks.acquire(b);
      try {
        if (!this.remote.has(b)) return await fn(b, null);
        const data = await this.#fetch(b, hashes?.get(b), into?.(b), hydrate);
        if (hydrate) hydrated.push(b);
        await fn(b, data ?? "delivered");
      } finally {
        release();
      }
    });
    if (hydrated.length) {
      crashPoint("volume.fetched");
      await this.#markLocal(hydrated);
    }
  }

  /** Copies a remote block from the block store (verified) into the local file (and `into`). */
  async #fetch(
    block: number,
    hash?: string,
    into?: { buffer: SharedArrayBuffer; offset: number },
    writeLocal = true,
  ): Promise<Buffer | null> {
    const h = hash ?? (await this.#meta.remoteBlockHashes(this.id, block, block)).get(block);
    // No remote row: the block is local already, its bytes in the file. The hydrator records a
    // batch local in the database before it clears the batch's remote bits, outside the block
    // locks; a partial write or a capture in between found no hash here (and wrote zeros over the
    // block: the snapshot's bytes around the write were lost).
    if (!h) return this.#file.readBlock(block);
    if (!writeLocal) return this.#store.fetch(h, { into });
    return this.#file.withTarget(block, (writeTo) => this.#store.fetch(h, { writeTo, into }));
  }

  async #write(offset: number, data: Uint8Array): Promise<void> {
    this.#checkRange(offset, data.byteLength);
    while (this.#gate) await this.#gate;
    this.#writesInFlight++;
    try {
      let pos = 0;
      while (pos < data.byteLength) {
        const block = Math.floor((offset + pos) / BLOCK_SIZE);
        const inBlock = (offset + pos) % BLOCK_SIZE;
        const n = Math.min(BLOCK_SIZE - inBlock, data.byteLength - pos);
        await this.#writeBlock(block, inBlock, data.subarray(pos, pos + n));
        pos += n;
      }
    } finally {
      if (--this.#writesInFlight === 0) this.#drained?.();
    }
  }

  async #writeBlock(block: number, inBlock: number, data: Uint8Array): Promise<void> {
    const release = await this.locks.acquire(block);
    try {
      if (this.hook) await this.hook.beforeWrite(block);
      this.#maybeData.add(block);
      if (!this.dirty.has(block)) {
        await this.#meta.markDirty(this.id, [block]);
        this.dirty.add(block);
        crashPoint("volume.dirty-marked");
      }
      // A still-remote block: a partial write needs the rest of it first. It becomes local only
      // once the new bytes are down and before the write is acknowledged: a crash before that
      // leaves it remote, and recovery restores the snapshot's content (the write never
      // happened); a crash after leaves the new bytes, which nothing then hydrates over.
      const remote = this.remote.has(block);
      if (remote && data.byteLength < BLOCK_SIZE) await this.#fetch(block);
      await this.#file.write(block, inBlock, data);
      if (remote) await this.#markLocal([block]);
    } finally {
      release();
    }
  }

  /**
   * A block's bytes for a snapshot capture (caller holds its lock). A changed block is normally
   * local; after a crash mid-write it can still be remote, and is hydrated first.
   */
  async readForCapture(block: number): Promise<Buffer> {
    if (!this.remote.has(block)) return this.#file.readBlock(block);
    const data = (await this.#fetch(block))!;
    await this.#markLocal([block]);
    return data;
  }

  async #markLocal(blocks: number[]): Promise<void> {
    await this.#meta.markLocal(this.id, blocks);
    for (const b of blocks) this.remote.delete(b);
  }

  /**
   * Runs fn with writes held at the gate and none in flight: the instant a snapshot freezes
   * the dirty set and installs its hook must not interleave with a write.
   */
  async withWritesPaused<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#gate) await this.#gate;
    let open!: () => void;
    this.#gate = new Promise((r) => {
      open = r;
    });
    try {
      if (this.#writesInFlight > 0) {
        await new Promise<void>((r) => {
          this.#drained = r;
        });
        this.#drained = null;
      }
      return await fn();
    } finally {
      this.#gate = null;
      open();
    }
  }

  flush(): Promise<void> {
    return this.#file.sync();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#ops > 0) {
      await new Promise<void>((r) => {
        this.#idle = r;
      });
    }
    await this.#file.close();
  }

  /** Counts an operation for close(); refuses new ones once the volume is closing. */
  async #op<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new StrataError("IncorrectState", `Volume ${this.id} is being closed`);
    this.#ops++;
    try {
      return await fn();
    } finally {
      if (--this.#ops === 0) this.#idle?.();
    }
  }

  #checkRange(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new StrataError("InvalidParameterValue", "Offset and length must be non-negative integers");
    }
    if (offset + length > this.sizeBytes) {
      throw new StrataError(
        "InvalidParameterValue",
        `Range ${offset}+${length} is beyond the end of ${this.id} (${this.sizeBytes} bytes)`,
      );
    }
  }
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}
