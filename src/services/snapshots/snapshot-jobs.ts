import type { BlockStore } from "../../storage/chunks/block-store.ts";
import type { MetadataStore } from "../../storage/metadata/metadata-store.ts";
import { releaseChunks } from "../chunks/chunk-references.ts";
import { SnapshotCancelled, type SnapshotJob } from "./snapshot-job.ts";

/**
 * The snapshot jobs running in one region's SnapshotService: a job that fails (or is cancelled)
 * marks its snapshot error and releases its chunks; one stopped by close stays pending for the next
 * start to resume. Also counts the copies into other regions reading each snapshot.
 */
export class SnapshotJobs {
  readonly #meta: MetadataStore;
  readonly #blocks: BlockStore;
  readonly #jobs = new Map<string, { job: SnapshotJob; done: Promise<void> }>();
  // Snapshots being read by a copy into another region: deleting them must wait.
  readonly #readers = new Map<string, number>();
  #closing = false;

  constructor(meta: MetadataStore, blocks: BlockStore) {
    this.#meta = meta;
    this.#blocks = blocks;
  }

  launch(job: SnapshotJob, onFailure: () => Promise<void>, finallyFn: () => void = () => {}): void {
    const done = job
      .run()
      .catch(async (e: Error) => {
        // Shutting down: leave it pending; the next start resumes it.
        if (e instanceof SnapshotCancelled && this.#closing) return;
        const message = e instanceof SnapshotCancelled ? "cancelled" : `snapshot failed: ${e.message}`;
        if (!(e instanceof SnapshotCancelled)) console.error(`${job.snapshotId}: ${message}`);
        await onFailure();
        await releaseChunks(this.#meta, this.#blocks, await this.#meta.failSnapshot(job.snapshotId, message));
      })
      .catch((e: Error) => console.error(`${job.snapshotId}: cleanup failed: ${e.message}`))
      .finally(() => {
        this.#jobs.delete(job.snapshotId);
        finallyFn();
      });
    this.#jobs.set(job.snapshotId, { job, done });
  }

  /** The snapshot's running job, if any. */
  running(id: string): { job: SnapshotJob; done: Promise<void> } | undefined {
    return this.#jobs.get(id);
  }

  retain(id: string): void {
    this.#readers.set(id, (this.#readers.get(id) ?? 0) + 1);
  }

  unretain(id: string): void {
    const n = (this.#readers.get(id) ?? 1) - 1;
    if (n === 0) this.#readers.delete(id);
    else this.#readers.set(id, n);
  }

  /** Whether a copy into another region is reading the snapshot. */
  isRead(id: string): boolean {
    return this.#readers.has(id);
  }

  /** Lets running jobs stop at their next batch (a restart resumes them). */
  async close(): Promise<void> {
    this.#closing = true;
    const running = [...this.#jobs.values()];
    for (const r of running) r.job.cancel();
    await Promise.allSettled(running.map((r) => r.done));
  }
}
