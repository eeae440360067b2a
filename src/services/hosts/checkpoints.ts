// Checkpoints bound what a host's death loses. Every interval, each volume on this host written
// since its last snapshot is snapshotted into the pack store as an engine-internal snapshot (no
// account sees or counts it; the one before it goes): a host that takes the volume over after a
// loss restores the latest. Off unless configured (`--checkpoint-interval`): with one host and
// its own disk there is no one to take over, and each checkpoint costs a snapshot's reads.
import { createInternal } from "../snapshots/internal-snapshots.ts";
import type { SnapshotService } from "../snapshots/snapshot-service.ts";
import type { VolumeService } from "../volumes/volume-service.ts";

export class Checkpoints {
  readonly #region: string;
  readonly #volumes: VolumeService;
  readonly #snapshots: SnapshotService;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(region: string, volumes: VolumeService, snapshots: SnapshotService, intervalMs: number) {
    this.#region = region;
    this.#volumes = volumes;
    this.#snapshots = snapshots;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    if (this.#intervalMs <= 0) return;
    this.#timer = setInterval(() => {
      this.#running ??= this.runOnce().finally(() => {
        this.#running = undefined;
      });
    }, this.#intervalMs);
    this.#timer.unref();
  }

  /** One round: a checkpoint of each of this host's volumes written since its last snapshot. */
  async runOnce(): Promise<void> {
    for (const v of await this.#volumes.list()) {
      if (this.#closed) return;
      if (v.host !== this.#volumes.hostId || !(await this.#volumes.written(v.id))) continue;
      try {
        await createInternal(this.#snapshots, v.id, `Strata checkpoint of ${v.id}`);
      } catch (e) {
        // Deleted, resized or snapshotted meanwhile: the next round tries again.
        console.error(`${this.#region}: checkpoint of ${v.id}: ${(e as Error).message}`);
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#running;
  }
}
