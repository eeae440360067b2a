import { StrataError } from "../../errors.ts";
import type { MetadataStore, SnapshotRecord } from "../../storage/metadata/metadata-store.ts";
import type { Sharing } from "../access/sharing.ts";

/** The EBS direct APIs' error for a bad request (ValidationException, with its reason). */
export function invalid(message: string, reason = "INVALID_PARAMETER_VALUE"): StrataError {
  return new StrataError("ValidationException", message, reason);
}

/**
 * Who may use a snapshot through the EBS direct APIs, and in which state: any snapshot the caller
 * may see (own or shared), one the owner may still write to (pending), one that may be read
 * (completed). A snapshot the caller may not see does not exist, as on EBS.
 */
export class DirectSnapshotAccess {
  readonly #meta: MetadataStore;
  readonly #sharing: Sharing;

  constructor(meta: MetadataStore, sharing: Sharing) {
    this.#meta = meta;
    this.#sharing = sharing;
  }

  async owned(ownerId: string, id: string): Promise<SnapshotRecord> {
    const snap = /^snap-[0-9a-f]{8,17}$/.test(id) ? await this.#meta.getSnapshot(id) : undefined;
    if (!snap || !(await this.#sharing.mayUse(snap, ownerId))) {
      throw new StrataError(
        "ResourceNotFoundException",
        `The snapshot ${id} does not exist`,
        "SNAPSHOT_NOT_FOUND",
      );
    }
    return snap;
  }

  async pending(ownerId: string, id: string): Promise<SnapshotRecord> {
    const snap = await this.owned(ownerId, id);
    if (snap.ownerId !== ownerId) {
      throw new StrataError(
        "AccessDeniedException",
        `Only the owner can write to ${id}`,
        "UNAUTHORIZED_ACCOUNT",
      );
    }
    if (snap.state !== "pending" || snap.expiresAt === null) {
      throw invalid(
        `Snapshot ${id} is ${snap.state}: blocks can only be written while it is pending`,
        "INVALID_SNAPSHOT_ID",
      );
    }
    return snap;
  }

  async completed(ownerId: string, id: string): Promise<SnapshotRecord> {
    const snap = await this.owned(ownerId, id);
    if (snap.state !== "completed")
      throw invalid(`Snapshot ${id} is ${snap.state}, not completed`, "INVALID_SNAPSHOT_ID");
    return snap;
  }
}
