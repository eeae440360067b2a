import { StrataError } from "../../errors.ts";
import type { SnapshotRecord } from "../../storage/metadata/metadata-store.ts";

/** EC2: a snapshot description is at most 255 characters. */
export function checkDescription(description: string): void {
  if ([...description].length > 255) {
    throw new StrataError("InvalidParameterValue", "Description exceeds 255 characters");
  }
}

/** A new pending snapshot's record, before its volume or source is filled in. */
export function blankSnapshot(
  id: string,
  ownerId: string,
  volumeSizeGiB: number,
  description: string,
): SnapshotRecord {
  return {
    id,
    ownerId,
    volumeId: null,
    volumeSizeGiB,
    state: "pending",
    progress: 0,
    parentSnapshotId: null,
    sourceRegion: null,
    sourceSnapshotId: null,
    description,
    startedAt: new Date().toISOString(),
    completedAt: null,
    stateMessage: null,
    blocksRead: 0,
    bytesStored: 0,
    bytesTransferred: 0,
    expiresAt: null,
    timeoutMinutes: null,
  };
}
