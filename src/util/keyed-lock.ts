/** FIFO async mutexes keyed by string or number; entries vanish when released. */
export class KeyedLock<K extends string | number = string> {
  readonly #tails = new Map<K, Promise<void>>();

  async acquire(key: K): Promise<() => void> {
    const prev = this.#tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const tail = prev ? prev.then(() => mine) : mine;
    this.#tails.set(key, tail);
    if (prev) await prev;
    return () => {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
  }

  /** Locks several keys in sorted order, so two callers with overlapping sets cannot deadlock. */
  async acquireAll(keys: Iterable<K>): Promise<() => void> {
    const sorted = [...new Set(keys)].sort();
    const releases: (() => void)[] = [];
    for (const k of sorted) releases.push(await this.acquire(k));
    return () => {
      for (const r of releases.reverse()) r();
    };
  }

  async with<T>(key: K, fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire(key);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  get size(): number {
    return this.#tails.size;
  }
}
