import type { VolumeHandle } from "./volume-handle.ts";

const BATCH = 64;
// While the volume is in use (a guest booting from it), hydrate at a trickle: a batch of 64 would
// queue ahead of the guest's own reads in the codec workers and slow its boot several times.
const BUSY_WINDOW_MS = 5000;
const BUSY_BATCH = 2;
const BUSY_PAUSE_MS = 100;

/**
 * Copies a restored volume's remaining blocks from the block store to local disk in the
 * background, as EBS does after "lazy loading" a volume from a snapshot. Reads of blocks it has
 * not reached yet fetch them on demand, so the volume is usable from the start.
 */
export class Hydrator {
  readonly #volume: VolumeHandle;
  #stopped = false;
  #running: Promise<void> = Promise.resolve();
  error: Error | null = null;

  constructor(volume: VolumeHandle) {
    this.#volume = volume;
  }

  /** The handle it hydrates. */
  get volume(): VolumeHandle {
    return this.#volume;
  }

  #startedAt = 0;
  #remainingAtStart = 0;

  start(): void {
    this.#startedAt = Date.now();
    this.#remainingAtStart = this.#volume.remote.count;
    this.#running = this.#run().catch((e: Error) => {
      this.error = e;
      console.error(`hydration of ${this.#volume.id} stopped: ${e.message}`);
    });
  }

  /** Resolves once every block is local (or hydration stopped). */
  get done(): Promise<void> {
    return this.#running;
  }

  /** Seconds until every block is local at the rate so far (undefined before any progress). */
  get secondsLeft(): number | undefined {
    const remaining = this.#volume.remote.count;
    const done = this.#remainingAtStart - remaining;
    if (remaining === 0) return 0;
    if (done <= 0) return undefined;
    return Math.ceil((((Date.now() - this.#startedAt) / done) * remaining) / 1000);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }

  async #run(): Promise<void> {
    while (!this.#stopped && this.#volume.remote.count > 0) {
      const busy = Date.now() - this.#volume.lastAccess < BUSY_WINDOW_MS;
      const size = busy ? BUSY_BATCH : BATCH;
      const batch: number[] = [];
      for (const b of this.#volume.remote) {
        batch.push(b);
        if (batch.length === size) break;
      }
      await this.#volume.hydrate(batch);
      if (busy) await new Promise((r) => setTimeout(r, BUSY_PAUSE_MS));
    }
  }
}
