import { createHash } from "node:crypto";
import { isStrataError, StrataError } from "../../errors.ts";
import { newId } from "../../ids.ts";
import { BLOCK_SIZE, blockCount, MAX_VOLUME_GIB, zeroBlock } from "../../storage/blocks.ts";
import type { BlockStore } from "../../storage/chunks/block-store.ts";
import type { CatalogStore, Tag } from "../../storage/metadata/catalog-store.ts";
import type { BlockRef, MetadataStore, SnapshotRecord } from "../../storage/metadata/metadata-store.ts";
import { crashPoint } from "../../util/crash-points.ts";
import { idempotent } from "../access/idempotency.ts";
import { recordBlocks, releaseChunks } from "../chunks/chunk-references.ts";
import type { RegionQuotas } from "../quotas/region-quotas.ts";
import { validateTags } from "../tags/tag-rules.ts";
import { type DirectSnapshotAccess, invalid } from "./direct-snapshot-access.ts";

const ZERO_HASH = createHash("sha256").update(zeroBlock()).digest("hex");

export interface StartInput {
  volumeSizeGiB: number;
  parentSnapshotId?: string;
  description?: string;
  tags?: Tag[];
  /** Minutes a pending snapshot may go without a block written before it is cancelled (EBS: 10-4320, default 60). */
  timeoutMinutes?: number;
  clientToken?: string;
}

/**
 * Writing snapshots through the EBS direct APIs: StartSnapshot, PutSnapshotBlock and
 * CompleteSnapshot, and the Timeout that cancels a pending snapshot left unfinished.
 */
export class DirectSnapshotWrites {
  readonly #region: string;
  readonly #meta: MetadataStore;
  readonly #catalog: CatalogStore;
  readonly #blocks: BlockStore;
  readonly #quotas: RegionQuotas;
  readonly #access: DirectSnapshotAccess;

  constructor(
    region: string,
    meta: MetadataStore,
    catalog: CatalogStore,
    blocks: BlockStore,
    quotas: RegionQuotas,
    access: DirectSnapshotAccess,
  ) {
    this.#region = region;
    this.#meta = meta;
    this.#catalog = catalog;
    this.#blocks = blocks;
    this.#quotas = quotas;
    this.#access = access;
  }

  /** StartSnapshot; idempotent per ClientToken (a retry gets the same snapshot). */
  async start(ownerId: string, input: StartInput): Promise<SnapshotRecord> {
    const { clientToken, ...request } = input;
    return idempotent(
      {
        catalog: this.#catalog,
        locks: this.#quotas.locks,
        scope: this.#region,
        ownerId,
        token: clientToken,
        action: "StartSnapshot",
        request,
        mismatch: () =>
          new StrataError("ConflictException", "The ClientToken was already used with other parameters", ""),
        malformed: (message) => invalid(message),
      },
      (id) => this.#access.owned(ownerId, id),
      async () => {
        const record = await this.#start(ownerId, input);
        return { resourceId: record.id, result: record };
      },
    );
  }

  async #start(ownerId: string, input: StartInput): Promise<SnapshotRecord> {
    const size = input.volumeSizeGiB;
    if (!Number.isInteger(size) || size < 1 || size > MAX_VOLUME_GIB) {
      throw invalid(`VolumeSize must be 1 to ${MAX_VOLUME_GIB} GiB`, "INVALID_VOLUME_SIZE");
    }
    if (input.description !== undefined && [...input.description].length > 255) {
      throw invalid("Description exceeds 255 characters");
    }
    try {
      validateTags(input.tags ?? []);
    } catch (e) {
      throw invalid((e as Error).message, "INVALID_TAG");
    }
    const timeout = input.timeoutMinutes ?? 60;
    if (!Number.isInteger(timeout) || timeout < 10 || timeout > 4320)
      throw invalid("Timeout must be 10 to 4320 minutes");
    if (input.parentSnapshotId !== undefined) {
      const parent = await this.#access.owned(ownerId, input.parentSnapshotId);
      // A child inherits its parent's blocks when it completes: only the caller's own snapshot
      // may be a parent, or a grantee could start a child while shared and complete it after the
      // owner revoked the share (as for RegisterImage, a shared snapshot is copied first).
      if (parent.ownerId !== ownerId) {
        throw new StrataError(
          "AccessDeniedException",
          `The parent snapshot ${parent.id} is not yours: copy it to your account first (CopySnapshot)`,
          "UNAUTHORIZED_ACCOUNT",
        );
      }
      if (parent.state !== "completed")
        throw invalid(`Parent snapshot ${parent.id} is not completed`, "INVALID_SNAPSHOT_ID");
      if (parent.volumeSizeGiB > size)
        throw invalid("VolumeSize is smaller than the parent snapshot's", "INVALID_VOLUME_SIZE");
    }
    const now = new Date();
    const record: SnapshotRecord = {
      id: newId("snap"),
      ownerId,
      volumeId: null,
      volumeSizeGiB: size,
      state: "pending",
      progress: 0,
      parentSnapshotId: input.parentSnapshotId ?? null,
      sourceRegion: null,
      sourceSnapshotId: null,
      description: input.description ?? "",
      startedAt: now.toISOString(),
      completedAt: null,
      stateMessage: null,
      blocksRead: 0,
      bytesStored: 0,
      bytesTransferred: 0,
      expiresAt: new Date(now.getTime() + timeout * 60_000).toISOString(),
      timeoutMinutes: timeout,
    };
    // The EBS API's own error for a quota (HTTP 402), not EC2's SnapshotLimitExceeded.
    await this.#quotas
      .reserve(ownerId, { snapshots: 1 }, () => this.#meta.insertSnapshot(record, input.tags))
      .catch((e) => {
        if (!isStrataError(e, "SnapshotLimitExceeded")) throw e;
        throw new StrataError(
          "ServiceQuotaExceededException",
          e.message,
          "DEPENDENCY_SERVICE_QUOTA_EXCEEDED",
        );
      });
    return record;
  }

  /** PutSnapshotBlock: the block must hash to the client's checksum; nothing is stored otherwise. */
  async putBlock(
    ownerId: string,
    snapshotId: string,
    block: number,
    data: Buffer,
    checksumB64: string,
    progress?: number,
  ) {
    const snap = await this.#access.pending(ownerId, snapshotId);
    if (!Number.isInteger(block) || block < 0 || block >= blockCount(snap.volumeSizeGiB)) {
      throw invalid(
        `Block index ${block} is beyond the snapshot's ${snap.volumeSizeGiB} GiB`,
        "INVALID_BLOCK",
      );
    }
    if (data.byteLength !== BLOCK_SIZE)
      throw invalid(`A block is ${BLOCK_SIZE} bytes, not ${data.byteLength}`, "INVALID_BLOCK");
    const key = Buffer.from(checksumB64, "base64").toString("hex");
    if (key.length !== 64) throw invalid("x-amz-Checksum must be a base64 SHA-256", "INVALID_BLOCK");
    const { match, encoded } = await this.#blocks.codec.encodeChecked(data, key);
    if (!match) throw invalid(`The checksum does not match block ${block}'s data`, "INVALID_BLOCK");
    const ref: BlockRef = { block, hash: encoded ? key : null };
    const before = (await this.#meta.snapshotBlocks(snapshotId, block - 1, 1)).find(
      (r) => r.block === block,
    )?.hash;
    let stored: number;
    try {
      stored = await recordBlocks(this.#meta, this.#blocks, snapshotId, [ref], async () => encoded!);
    } catch (e) {
      // Not written (the block store is full, say): its reference goes, so a chunk that never
      // became live neither counts in CompleteSnapshot nor blocks it; what it replaced is garbage.
      await this.#meta.forgetUnstoredBlocks(snapshotId, [block]);
      if (before && before !== ref.hash) await releaseChunks(this.#meta, this.#blocks, [before]);
      throw e;
    }
    crashPoint("direct.block-recorded");
    // A block written again replaces its reference; the old chunk may now be garbage.
    if (before && before !== ref.hash) await releaseChunks(this.#meta, this.#blocks, [before]);
    const pct =
      progress !== undefined && Number.isFinite(progress)
        ? Math.max(0, Math.min(99, Math.floor(progress)))
        : snap.progress;
    await this.#meta.setSnapshotProgress(snapshotId, pct, { blocksRead: 1, bytesStored: stored });
    // As on EBS, the Timeout counts from the last block written.
    await this.#meta.extendSnapshot(
      snapshotId,
      new Date(Date.now() + (snap.timeoutMinutes ?? 60) * 60_000).toISOString(),
    );
  }

  /**
   * CompleteSnapshot: the number of blocks written must match, and so must the LINEAR aggregate
   * checksum when given (SHA-256 over the blocks' raw SHA-256 digests in block order).
   */
  async complete(
    ownerId: string,
    snapshotId: string,
    changedBlocksCount: number,
    checksum?: { value: string; algorithm?: string; aggregation?: string },
  ): Promise<void> {
    const snap = await this.#access.pending(ownerId, snapshotId);
    const refs = await this.#meta.recordedRefs(snapshotId);
    if (changedBlocksCount !== refs.length) {
      throw invalid(`ChangedBlocksCount is ${changedBlocksCount} but ${refs.length} blocks were written`);
    }
    if (checksum) {
      if ((checksum.algorithm ?? "SHA256") !== "SHA256" || (checksum.aggregation ?? "LINEAR") !== "LINEAR") {
        throw invalid("Only SHA256 checksums aggregated LINEAR are supported");
      }
      const linear = createHash("sha256");
      for (const r of refs) linear.update(Buffer.from(r.hash ?? ZERO_HASH, "hex"));
      if (linear.digest("base64") !== checksum.value)
        throw invalid("The aggregated checksum does not match the blocks");
    }
    await this.#meta.completeDirectSnapshot(snap.id);
  }

  /** Pending snapshots past their Timeout turn to error and release their blocks. */
  async expire(now = new Date()): Promise<string[]> {
    const expired = await this.#meta.expiredSnapshots(now.toISOString());
    for (const id of expired) {
      await releaseChunks(
        this.#meta,
        this.#blocks,
        await this.#meta.failSnapshot(id, "timed out before CompleteSnapshot"),
      );
    }
    return expired;
  }
}
