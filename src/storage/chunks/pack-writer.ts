// Gathers the chunks that concurrent writers (snapshot lanes, copies, EBS PutSnapshotBlock calls)
// store into one open pack, and seals it (one put) when it is full or when writers stop adding
// for a moment: a group commit, so each writer waits for one durable put shared with the others
// instead of one fsync per chunk, and packs stay large however the writers batch their chunks.
import { randomBytes } from "node:crypto";
import { crashPoint } from "../../util/crash-points.ts";
import type { ChunkLocation, PackIndex } from "../metadata/pack-index.ts";
import { buildPack } from "./pack-format.ts";
import type { PackStore } from "./pack-store.ts";

export interface PackWriterOptions {
  /** A pack is sealed once adding a chunk would take it past this size (default 16 MiB). */
  targetBytes?: number;
  /** Seal after this long without a new chunk (default 3 ms)... */
  lingerMs?: number;
  /** ...but never keep a writer waiting longer than this for more chunks (default 30 ms)... */
  maxDelayMs?: number;
  /**
   * ...unless more chunks are on their way (blocks being encoded): then a quiet moment does not
   * seal, and a writer waits up to `busyMaxDelayMs` (default 100 ms) for the pack to fill. Without
   * it, uploads through PutSnapshotBlock (a block every few ms) sealed a pack every few chunks:
   * ~1 MB packs, and a restore from a bucket paid one GET per chunk or two. A writer that someone
   * waits on (a guest write held until the old content is kept) adds with `prompt`: its pack
   * seals as it would without the hint.
   */
  busy?: () => boolean;
  busyMaxDelayMs?: number;
}

interface OpenPack {
  id: string;
  chunks: { hash: string; encoded: Uint8Array }[];
  bytes: number;
  openedAt: number;
  lastAddAt: number;
  timer: NodeJS.Timeout | null;
  /** A prompt writer is waiting: the busy hint does not hold this pack open. */
  prompt: boolean;
  sealed: Promise<Map<string, ChunkLocation>> | null;
  settle: { resolve(v: Map<string, ChunkLocation>): void; reject(e: unknown): void };
  done: Promise<Map<string, ChunkLocation>>;
}

export class PackWriter {
  readonly #store: PackStore;
  readonly #index: Pick<PackIndex, "beginPack" | "sealPack">;
  readonly #target: number;
  readonly #linger: number;
  readonly #maxDelay: number;
  readonly #busy: () => boolean;
  readonly #busyMaxDelay: number;
  #open: OpenPack | null = null;
  readonly #sealing = new Set<Promise<unknown>>();

  constructor(store: PackStore, index: Pick<PackIndex, "beginPack" | "sealPack">, o: PackWriterOptions = {}) {
    this.#store = store;
    this.#index = index;
    this.#target = o.targetBytes ?? 16 * 2 ** 20;
    this.#linger = o.lingerMs ?? 3;
    this.#maxDelay = o.maxDelayMs ?? 30;
    this.#busy = o.busy ?? (() => false);
    this.#busyMaxDelay = Math.max(this.#maxDelay, o.busyMaxDelayMs ?? 100);
  }

  /** Adds an encoded chunk; resolves with where it is once its pack is durable. */
  async add(hash: string, encoded: Uint8Array, o: { prompt?: boolean } = {}): Promise<ChunkLocation> {
    if (this.#open && this.#open.bytes + encoded.byteLength > this.#target) this.#seal(this.#open);
    this.#open ??= this.#newPack();
    const pack = this.#open;
    pack.chunks.push({ hash, encoded });
    pack.bytes += encoded.byteLength;
    pack.lastAddAt = Date.now();
    if (o.prompt) pack.prompt = true;
    pack.timer ??= setTimeout(() => this.#onTimer(pack), this.#linger);
    const where = (await pack.done).get(hash);
    if (!where) throw new Error(`chunk ${hash} lost from pack ${pack.id}`);
    return where;
  }

  /** Seals what is open and waits for every put in flight (shutdown, tests). */
  async flush(): Promise<void> {
    if (this.#open) this.#seal(this.#open);
    await Promise.allSettled([...this.#sealing]);
  }

  #newPack(): OpenPack {
    let settle!: OpenPack["settle"];
    const done = new Promise<Map<string, ChunkLocation>>((resolve, reject) => {
      settle = { resolve, reject };
    });
    // Awaited by each add; a failed put is reported to every one of them, never unhandled.
    done.catch(() => {});
    const now = Date.now();
    return {
      id: randomBytes(16).toString("hex"),
      chunks: [],
      bytes: 0,
      openedAt: now,
      lastAddAt: now,
      timer: null,
      prompt: false,
      sealed: null,
      settle,
      done,
    };
  }

  #onTimer(pack: OpenPack): void {
    pack.timer = null;
    if (pack !== this.#open) return;
    const now = Date.now();
    const quietFor = now - pack.lastAddAt;
    const age = now - pack.openedAt;
    const coming = !pack.prompt && this.#busy();
    const waitMore = coming ? age < this.#busyMaxDelay : quietFor < this.#linger && age < this.#maxDelay;
    if (waitMore) {
      const next = quietFor < this.#linger ? this.#linger - quietFor : this.#linger;
      pack.timer = setTimeout(() => this.#onTimer(pack), next);
      return;
    }
    this.#seal(pack);
  }

  #seal(pack: OpenPack): void {
    if (this.#open === pack) this.#open = null;
    if (pack.timer) clearTimeout(pack.timer);
    pack.timer = null;
    if (pack.sealed) return;
    const chunks = pack.chunks;
    pack.sealed = (async () => {
      // Several writers may have put the same content here at once (different snapshots, before
      // either recorded it): one copy is enough.
      const unique = [...new Map(chunks.map((c) => [c.hash, c])).values()];
      const { bytes, entries } = buildPack(unique);
      await this.#index.beginPack(pack.id, Date.now());
      await this.#store.put(pack.id, bytes);
      crashPoint("pack-writer.put-done");
      // Counted per add, not per distinct chunk: each add's writer records it once, and only when
      // all have may deletes that empty the pack remove it at once (see PackIndex).
      await this.#index.sealPack(pack.id, bytes.byteLength, chunks.length, Date.now());
      return new Map(entries.map((e) => [e.hash, { pack: pack.id, offset: e.offset, length: e.length }]));
    })();
    const tracked = pack.sealed.then(pack.settle.resolve, pack.settle.reject);
    this.#sealing.add(tracked);
    void tracked.finally(() => this.#sealing.delete(tracked));
  }
}
