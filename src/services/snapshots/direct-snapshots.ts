import { createHash } from "node:crypto";
import { isStrataError, StrataError } from "../../errors.ts";
import { newId } from "../../ids.ts";
import { BLOCK_SIZE, blockCount, MAX_VOLUME_GIB, zeroBlock } from "../../storage/blocks.ts";
import type { BlockStore } from "../../storage/chunks/block-store.ts";
import type { CatalogStore, Tag } from "../../storage/metadata/catalog-store.ts";
import type { BlockRef, MetadataStore, SnapshotRecord } from "../../storage/metadata/metadata-store.ts";
import { crashPoint } from "../../util/crash-points.ts";
import { idempotent } from "../access/idempotency.ts";
import type { Sharing } from "../access/sharing.ts";
import { recordBlocks, releaseChunks } from "../chunks/chunk-references.ts";
import { RegionQuotas } from "../quotas/region-quotas.ts";
import { validateTags } from "../tags/tag-rules.ts";
import type { BlockTokens } from "./block-tokens.ts";

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

// A completed snapshot's blocks never change, so GetSnapshotBlock finds a block's chunk in a cached
// window of the map (one query per 1,024 blocks, not one per block: an export asks for every
// block in turn, 64 at a time). At most this many windows (~100 KB each) are kept.
const MAP_WINDOW = 1024;
const CACHED_WINDOWS = 64;

function invalid(message: string, reason = "INVALID_PARAMETER_VALUE"): StrataError {
  return new StrataError("ValidationException", message, reason);
}

/**
 * Snapshots written block by block (the EBS direct APIs): a client starts one (optionally on a
 * parent, whose blocks it inherits), puts 512 KiB blocks with their SHA-256, and completes it.
 * Blocks go through the same reference protocol as every other snapshot, so they deduplicate and
 * are safe against concurrent deletes; the verified client checksum is the chunk key.
 */
export class DirectSnapshots {
  readonly #meta: MetadataStore;
  readonly #catalog: CatalogStore;
  readonly #blocks: BlockStore;
  readonly tokens: BlockTokens;
  readonly #sharing: Sharing;
  readonly #region: string;
  readonly #quotas: RegionQuotas;
  readonly #windows = new Map<string, Promise<Map<number, string>>>();

  constructor(
    region: string,
    meta: MetadataStore,
    catalog: CatalogStore,
    blocks: BlockStore,
    tokens: BlockTokens,
    sharing: Sharing,
    quotas = RegionQuotas.none(region),
  ) {
    this.#quotas = quotas;
    this.#region = region;
    this.#sharing = sharing;
    this.#meta = meta;
    this.#catalog = catalog;
    this.#blocks = blocks;
    this.tokens = tokens;
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
      (id) => this.#owned(ownerId, id),
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
      const parent = await this.#owned(ownerId, input.parentSnapshotId);
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
    const snap = await this.#pending(ownerId, snapshotId);
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
    const snap = await this.#pending(ownerId, snapshotId);
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

  /** The completed snapshot's non-zero blocks from `start`, with tokens for GetSnapshotBlock. */
  async listBlocks(ownerId: string, snapshotId: string, start: number, limit: number) {
    const snap = await this.#completed(ownerId, snapshotId);
    const refs = await this.#meta.snapshotBlocks(snap.id, start - 1, limit + 1);
    const expiry = this.tokens.expiry();
    const page = refs.slice(0, limit);
    return {
      snapshot: snap,
      expiry,
      blocks: page.map((r) => ({
        block: r.block,
        token: this.tokens.issue(snap.id, r.block, r.hash!, expiry),
      })),
      next: refs.length > limit ? refs[limit].block : undefined,
    };
  }

  /**
   * Blocks that differ between two snapshots of one lineage (first an ancestor of second, or the
   * other way round), or all of second's blocks without a first.
   */
  async changedBlocks(
    ownerId: string,
    firstId: string | undefined,
    secondId: string,
    start: number,
    limit: number,
  ) {
    const second = await this.#completed(ownerId, secondId);
    const first = firstId === undefined ? undefined : await this.#completed(ownerId, firstId);
    if (first && !(await this.#related(first, second))) {
      throw invalid(`${first.id} and ${second.id} are not of the same lineage`, "UNRELATED_SNAPSHOTS");
    }
    const a = new Map((first ? await this.#allBlocks(first.id) : []).map((r) => [r.block, r.hash!]));
    const b = new Map((await this.#allBlocks(second.id)).map((r) => [r.block, r.hash!]));
    const changed = [...new Set([...a.keys(), ...b.keys()])]
      .filter((i) => i >= start && a.get(i) !== b.get(i))
      .sort((x, y) => x - y);
    const expiry = this.tokens.expiry();
    const page = changed.slice(0, limit);
    return {
      snapshot: second,
      expiry,
      blocks: page.map((i) => ({
        block: i,
        firstToken: first && a.has(i) ? this.tokens.issue(first.id, i, a.get(i)!, expiry) : undefined,
        secondToken: b.has(i) ? this.tokens.issue(second.id, i, b.get(i)!, expiry) : undefined,
      })),
      next: changed.length > limit ? changed[limit] : undefined,
    };
  }

  /**
   * GetSnapshotBlock: the block's bytes (verified) and its checksum, if the token opens it; the
   * bytes are delivered `into` that shared memory when given (data is then a view of it).
   */
  async getBlock(
    ownerId: string,
    snapshotId: string,
    block: number,
    token: string,
    into?: { buffer: SharedArrayBuffer; offset: number },
  ): Promise<{ data: Buffer; checksum: string }> {
    const [hash] = await this.openBlocks(ownerId, snapshotId, [{ block, token }]);
    const data = await this.readBlock(hash, into);
    return { data, checksum: Buffer.from(hash, "hex").toString("base64") };
  }

  /** The chunk (SHA-256, hex) of each block, if every token opens its block (else an error). */
  async openBlocks(ownerId: string, snapshotId: string, blocks: { block: number; token: string }[]) {
    const snap = await this.#completed(ownerId, snapshotId);
    const hashes: string[] = [];
    for (const { block, token } of blocks) {
      const hash = await this.#completedBlockHash(snap.id, block);
      const verdict = hash ? this.tokens.check(token, snap.id, block, hash) : "invalid";
      if (verdict !== "ok")
        throw invalid(
          `The block token is ${verdict} for block ${block} of ${snap.id}`,
          "INVALID_BLOCK_TOKEN",
        );
      hashes.push(hash!);
    }
    return hashes;
  }

  /**
   * An opened block's bytes, delivered `into` shared memory when given (data is then a view of
   * it); verified here unless `verify` is false (for a reader that checks them itself).
   */
  async readBlock(
    hash: string,
    into?: { buffer: SharedArrayBuffer; offset: number },
    verify = true,
  ): Promise<Buffer> {
    // fetch: a local chunk is read, decoded (and verified) on a codec worker, off the event loop.
    const fetched = await this.#blocks.fetch(hash, { into, verify });
    return fetched ?? Buffer.from(into!.buffer, into!.offset, BLOCK_SIZE);
  }

  /** The chunk of a completed snapshot's block (undefined: a zero block), from a cached window. */
  async #completedBlockHash(snapshotId: string, block: number): Promise<string | undefined> {
    const first = Math.floor(block / MAP_WINDOW) * MAP_WINDOW;
    const key = `${snapshotId}/${first}`;
    let window = this.#windows.get(key);
    if (!window) {
      window = this.#meta
        .snapshotBlocks(snapshotId, first - 1, MAP_WINDOW)
        .then(
          (refs) => new Map(refs.filter((r) => r.block < first + MAP_WINDOW).map((r) => [r.block, r.hash!])),
        );
      window.catch(() => this.#windows.delete(key));
      if (this.#windows.size >= CACHED_WINDOWS) this.#windows.delete(this.#windows.keys().next().value!);
      this.#windows.set(key, window);
    }
    return (await window).get(block);
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

  async #related(first: SnapshotRecord, second: SnapshotRecord): Promise<boolean> {
    const ancestors = async (s: SnapshotRecord) => {
      const out = new Set<string>([s.id]);
      for (let p = s.parentSnapshotId; p && !out.has(p); ) {
        out.add(p);
        p = (await this.#meta.getSnapshot(p))?.parentSnapshotId ?? null;
      }
      return out;
    };
    return (await ancestors(second)).has(first.id) || (await ancestors(first)).has(second.id);
  }

  async #allBlocks(id: string): Promise<BlockRef[]> {
    const out: BlockRef[] = [];
    for (let after = -1; ; ) {
      const page = await this.#meta.snapshotBlocks(id, after, 10_000);
      out.push(...page);
      if (page.length < 10_000) return out;
      after = page[page.length - 1].block;
    }
  }

  async #owned(ownerId: string, id: string): Promise<SnapshotRecord> {
    const snap = /^snap-[0-9a-f]{8,17}$/.test(id) ? await this.#meta.getSnapshot(id) : undefined;
    if (!snap)
      throw new StrataError(
        "ResourceNotFoundException",
        `The snapshot ${id} does not exist`,
        "SNAPSHOT_NOT_FOUND",
      );
    if (!(await this.#sharing.mayUse(snap, ownerId))) {
      throw new StrataError(
        "ResourceNotFoundException",
        `The snapshot ${id} does not exist`,
        "SNAPSHOT_NOT_FOUND",
      );
    }
    return snap;
  }

  async #pending(ownerId: string, id: string): Promise<SnapshotRecord> {
    const snap = await this.#owned(ownerId, id);
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

  async #completed(ownerId: string, id: string): Promise<SnapshotRecord> {
    const snap = await this.#owned(ownerId, id);
    if (snap.state !== "completed")
      throw invalid(`Snapshot ${id} is ${snap.state}, not completed`, "INVALID_SNAPSHOT_ID");
    return snap;
  }
}
