/** A pending snapshot's work: a volume snapshot or a copy. run() completes it in metadata. */
export interface SnapshotJob {
  readonly snapshotId: string;
  run(): Promise<void>;
  /** Stops at the next batch boundary; run() then rejects with SnapshotCancelled. */
  cancel(): void;
}

export class SnapshotCancelled extends Error {
  constructor(id: string) {
    super(`Snapshot ${id} was cancelled`);
  }
}

export function progressPercent(done: number, total: number): number {
  // 100 is reserved for "completed": EC2 never shows a pending snapshot at 100%.
  return total === 0 ? 99 : Math.min(99, Math.floor((done * 100) / total));
}
