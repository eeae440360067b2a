/** Runs async tasks with at most `limit` in flight; the first failure is rethrown by add/drain. */
export class TaskPool {
  readonly #limit: number;
  readonly #running = new Set<Promise<void>>();
  #failure: { error: unknown } | undefined;

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`concurrency must be a positive integer`);
    this.#limit = limit;
  }

  /** Waits for a free slot, then starts the task (without waiting for it). */
  async add(task: () => Promise<void>): Promise<void> {
    this.#rethrow();
    while (this.#running.size >= this.#limit) {
      await Promise.race(this.#running);
      this.#rethrow();
    }
    const p: Promise<void> = task()
      .catch((error: unknown) => {
        this.#failure ??= { error };
      })
      .finally(() => this.#running.delete(p));
    this.#running.add(p);
  }

  /** Waits for every started task. */
  async drain(): Promise<void> {
    await Promise.all(this.#running);
    this.#rethrow();
  }

  /** Waits for every started task, failed or not (nothing of theirs runs after this). */
  async settle(): Promise<void> {
    await Promise.allSettled(this.#running);
  }

  #rethrow(): void {
    if (this.#failure) throw this.#failure.error;
  }
}
