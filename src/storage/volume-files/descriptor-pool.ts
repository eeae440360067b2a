import { type FileHandle, open } from "node:fs/promises";

/**
 * Volume segment files open at once in the whole daemon, by default: well under the usual limit of
 * 1,024 descriptors, which the HTTP and NBD connections and the metadata databases share.
 */
export const DEFAULT_MAX_OPEN_VOLUME_FILES = 128;

/** An open descriptor, pinned (never closed) until release(). */
export interface Lease {
  readonly fh: FileHandle;
  /** The descriptor number, for a worker thread: valid only until release(). */
  readonly fd: number;
  release(): void;
}

interface Entry {
  readonly path: string;
  fh: FileHandle | null;
  ready: Promise<void>;
  pins: number;
  /** Close at the last release (its file is going away). */
  doomed: boolean;
  lastUse: number;
}

export type OpenFile = (path: string) => Promise<FileHandle>;

/**
 * A daemon-wide LRU pool of read-write descriptors to volume segment files: at most `limit` open
 * (or opening, or closing) at any moment, however many volumes exist. A file is opened on first
 * use; when the pool is full, the least recently used idle descriptor is closed to make room, and
 * when every descriptor is pinned by I/O in flight, new users wait. A pinned descriptor is never
 * closed, so a worker thread never writes through a number the OS has since given to another file.
 *
 * A user pins one descriptor at a time and never waits for another while holding it, so waiting
 * for room cannot deadlock.
 */
export class DescriptorPool {
  readonly limit: number;
  readonly #open: OpenFile;
  readonly #entries = new Map<string, Entry>();
  // Ticks at each use: the idle entry with the smallest lastUse is the least recently used.
  #clock = 0;
  // Descriptors held: in #entries, plus those being closed.
  #held = 0;
  #closing = 0;
  // Users waiting for a free slot: each needs one eviction, and no more (an extra one would close
  // a descriptor for nothing).
  #wantRoom = 0;
  #waiters: (() => void)[] = [];
  // Files written since their last datasync, open or not (a closed descriptor's writes are still
  // only in the page cache until some descriptor of the file is synced).
  readonly #unsynced = new Set<string>();

  constructor(limit = DEFAULT_MAX_OPEN_VOLUME_FILES, openFile: OpenFile = (p) => open(p, "r+")) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new Error(`The volume file descriptor limit must be a positive integer (got ${limit})`);
    }
    this.limit = limit;
    this.#open = openFile;
  }

  /** Descriptors held right now (for tests and diagnostics). */
  get held(): number {
    return this.#held;
  }

  /** Paths with an open descriptor, least recently used first. */
  get openPaths(): string[] {
    return [...this.#entries.values()].sort((a, b) => a.lastUse - b.lastUse).map((e) => e.path);
  }

  /** Runs fn with the file's descriptor pinned; `write` records that the file needs a sync. */
  use<T>(path: string, fn: (fh: FileHandle) => Promise<T>, write = false): Promise<T> {
    const open = this.#entries.get(path);
    // The common case, the descriptor is open: pinned at once, nothing to wait for.
    if (open?.fh && !open.doomed) {
      open.pins++;
      open.lastUse = ++this.#clock;
      return this.#run(open, fn, write);
    }
    return this.#pin(path).then((e) => this.#run(e, fn, write));
  }

  async #run<T>(entry: Entry, fn: (fh: FileHandle) => Promise<T>, write: boolean): Promise<T> {
    try {
      return await fn(entry.fh!);
    } finally {
      // Marked after the write is done: a sync that started before it completes must not clear it.
      if (write) this.#unsynced.add(entry.path);
      this.#unpin(entry);
    }
  }

  async acquire(path: string, write = false): Promise<Lease> {
    const entry = await this.#pin(path);
    const fh = entry.fh!;
    let released = false;
    return {
      fh,
      fd: fh.fd,
      release: () => {
        if (released) return;
        released = true;
        if (write) this.#unsynced.add(path);
        this.#unpin(entry);
      },
    };
  }

  /**
   * datasync of each file written since its last sync, reopened if its descriptor was closed
   * meanwhile: Linux syncs the file (its inode), whichever descriptor wrote, and reports a
   * writeback error no one has seen yet to the new descriptor too.
   */
  async sync(paths: string[]): Promise<void> {
    await Promise.all(
      paths
        .filter((p) => this.#unsynced.has(p))
        .map(async (p) => {
          this.#unsynced.delete(p);
          try {
            await this.use(p, (fh) => fh.datasync());
          } catch (e) {
            // Still to sync next time, unless the file is gone (its volume deleted meanwhile).
            if ((e as NodeJS.ErrnoException).code !== "ENOENT") this.#unsynced.add(p);
            throw e;
          }
        }),
    );
  }

  /** Closes the files' descriptors (at once if idle, else at their last release). */
  async close(paths: string[]): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const p of paths) {
      const e = this.#entries.get(p);
      if (!e) continue;
      if (e.pins === 0) closing.push(this.#evict(e));
      else e.doomed = true;
    }
    await Promise.all(closing);
  }

  /** Forgets the unsynced writes of files under dir (a removed volume directory). */
  discardUnder(dir: string): void {
    for (const p of this.#unsynced) if (p.startsWith(`${dir}/`)) this.#unsynced.delete(p);
  }

  /** Closes every idle descriptor; pinned ones close at their last release. */
  async closeAll(): Promise<void> {
    await this.close([...this.#entries.keys()]);
  }

  async #pin(path: string): Promise<Entry> {
    for (;;) {
      const existing = this.#entries.get(path);
      if (existing && !existing.doomed) {
        existing.pins++;
        existing.lastUse = ++this.#clock;
        try {
          await existing.ready;
        } catch (e) {
          existing.pins--;
          throw e;
        }
        return existing;
      }
      if (existing) {
        // Its descriptor closes at its last release (the file is going away or being reopened).
        await this.#waitForChange();
        continue;
      }
      if (this.#held < this.limit) return this.#openEntry(path);
      this.#wantRoom++;
      try {
        const idle = this.#closing < this.#wantRoom ? this.#leastRecentlyUsedIdle() : undefined;
        if (idle) void this.#evict(idle);
        await this.#waitForChange();
      } finally {
        this.#wantRoom--;
      }
    }
  }

  async #openEntry(path: string): Promise<Entry> {
    this.#held++;
    const entry: Entry = {
      path,
      fh: null,
      ready: Promise.resolve(),
      pins: 1,
      doomed: false,
      lastUse: ++this.#clock,
    };
    this.#entries.set(path, entry);
    entry.ready = this.#openWithRoom(path).then(
      (fh) => {
        entry.fh = fh;
      },
      (e: Error) => {
        if (this.#entries.get(path) === entry) this.#entries.delete(path);
        this.#held--;
        this.#wake();
        throw e;
      },
    );
    try {
      await entry.ready;
    } catch (e) {
      entry.pins--;
      throw e;
    }
    return entry;
  }

  /** Opens the file; if the process is out of descriptors (other sinks), gives up idle ones first. */
  async #openWithRoom(path: string): Promise<FileHandle> {
    for (;;) {
      try {
        return await this.#open(path);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const idle = this.#leastRecentlyUsedIdle();
        if ((code !== "EMFILE" && code !== "ENFILE") || !idle) throw e;
        await this.#evict(idle);
      }
    }
  }

  #leastRecentlyUsedIdle(): Entry | undefined {
    let lru: Entry | undefined;
    for (const e of this.#entries.values()) if (e.pins === 0 && (!lru || e.lastUse < lru.lastUse)) lru = e;
    return lru;
  }

  /** Closes an idle entry; its slot counts as held until the descriptor is really closed. */
  async #evict(entry: Entry): Promise<void> {
    if (this.#entries.get(entry.path) === entry) this.#entries.delete(entry.path);
    this.#closing++;
    try {
      await entry.fh?.close();
    } catch (e) {
      // close(2) releases the descriptor even when it reports an error (e.g. EIO on NFS); the
      // data's fate is the next datasync's to report.
      console.error(`closing ${entry.path}: ${(e as Error).message}`);
    } finally {
      this.#closing--;
      this.#held--;
      this.#wake();
    }
  }

  #unpin(entry: Entry): void {
    if (--entry.pins > 0) return;
    if (entry.doomed || this.#entries.get(entry.path) !== entry) void this.#evict(entry);
    else this.#wake();
  }

  /** Resolves at the next release, close or failed open. */
  #waitForChange(): Promise<void> {
    return new Promise((r) => this.#waiters.push(r));
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}
