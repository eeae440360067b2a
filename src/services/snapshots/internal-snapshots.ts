// Engine-internal snapshots: a volume's data put into the pack store for the engine's own use (a
// checkpoint bounding what a host's death loses, a volume moving to another host). They belong
// to INTERNAL_OWNER, which is no account's id (those are 12 digits) nor '' (engine-internal
// volumes' owner in embedded use), so no account sees or counts them. Only a volume's latest
// internal snapshot is kept: it is the volume's last snapshot, what a host taking it over
// restores and the parent of its next one.
import { StrataError } from "../../errors.ts";
import type { MetadataStore, SnapshotRecord } from "../../storage/metadata/metadata-store.ts";
import type { SnapshotService } from "./snapshot-service.ts";

export const INTERNAL_OWNER = "strata-internal";

/** A completed internal snapshot of the volume; the volume's earlier internal ones are deleted. */
export async function createInternal(
  snapshots: SnapshotService,
  volumeId: string,
  description: string,
): Promise<SnapshotRecord> {
  // One at a time per volume (a checkpoint and a move, say): one polling for its own snapshot
  // while the other's completed would delete the later one, the volume's last (what a takeover
  // restores), or have its own deleted under it.
  return snapshots.internalSnapshots.with(volumeId, () => createOne(snapshots, volumeId, description));
}

async function createOne(
  snapshots: SnapshotService,
  volumeId: string,
  description: string,
): Promise<SnapshotRecord> {
  const [started] = await snapshots.startInternal(volumeId, description);
  let done: SnapshotRecord;
  for (;;) {
    done = await snapshots.get(started.id);
    if (done.state === "completed") break;
    if (done.state === "error") {
      throw new StrataError(
        "InternalError",
        `The snapshot of ${volumeId} failed: ${done.stateMessage ?? ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const old of await snapshots.meta.listSnapshots()) {
    if (old.volumeId !== volumeId || old.ownerId !== INTERNAL_OWNER || old.id === done.id) continue;
    if (old.state !== "completed") continue;
    await snapshots.delete(old.id).catch((e: Error) => {
      console.error(`${snapshots.region}: the internal snapshot ${old.id} stays: ${e.message}`);
    });
  }
  return done;
}

/**
 * Waits while an internal snapshot of one of these volumes is pending: an account's snapshot,
 * delete or resize waits for a checkpoint instead of failing (none starts meanwhile: the caller
 * holds the volumes' lifecycle locks, which starting one takes).
 */
export async function internalDone(meta: MetadataStore, volumeIds: string[]): Promise<void> {
  for (;;) {
    const busy = (await meta.pendingSnapshots()).some(
      (s) => s.ownerId === INTERNAL_OWNER && s.volumeId !== null && volumeIds.includes(s.volumeId),
    );
    if (!busy) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
