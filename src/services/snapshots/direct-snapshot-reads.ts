import { BLOCK_SIZE } from "../../storage/blocks.ts";
import type { BlockStore } from "../../storage/chunks/block-store.ts";
import type { BlockRef, MetadataStore, SnapshotRecord } from "../../storage/metadata/metadata-store.ts";
import type { BlockTokens } from "./block-tokens.ts";
import { CompletedBlockMap } from "./completed-block-map.ts";
import { type DirectSnapshotAccess, invalid } from "./direct-snapshot-access.ts";

/**
 * Reading completed snapshots through the EBS direct APIs: ListSnapshotBlocks and
 * ListChangedBlocks issue block tokens, GetSnapshotBlock (and the block stream) redeem them.
 */
export class DirectSnapshotReads {
  readonly #meta: MetadataStore;
  readonly #blocks: BlockStore;
  readonly #tokens: BlockTokens;
  readonly #access: DirectSnapshotAccess;
  readonly #map: CompletedBlockMap;

  constructor(meta: MetadataStore, blocks: BlockStore, tokens: BlockTokens, access: DirectSnapshotAccess) {
    this.#meta = meta;
    this.#blocks = blocks;
    this.#tokens = tokens;
    this.#access = access;
    this.#map = new CompletedBlockMap(meta);
  }

  /** The completed snapshot's non-zero blocks from `start`, with tokens for GetSnapshotBlock. */
  async listBlocks(ownerId: string, snapshotId: string, start: number, limit: number) {
    const snap = await this.#access.completed(ownerId, snapshotId);
    const refs = await this.#meta.snapshotBlocks(snap.id, start - 1, limit + 1);
    const expiry = this.#tokens.expiry();
    const page = refs.slice(0, limit);
    return {
      snapshot: snap,
      expiry,
      blocks: page.map((r) => ({
        block: r.block,
        token: this.#tokens.issue(snap.id, r.block, r.hash!, expiry),
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
    const second = await this.#access.completed(ownerId, secondId);
    const first = firstId === undefined ? undefined : await this.#access.completed(ownerId, firstId);
    if (first && !(await this.#related(first, second))) {
      throw invalid(`${first.id} and ${second.id} are not of the same lineage`, "UNRELATED_SNAPSHOTS");
    }
    const a = new Map((first ? await this.#allBlocks(first.id) : []).map((r) => [r.block, r.hash!]));
    const b = new Map((await this.#allBlocks(second.id)).map((r) => [r.block, r.hash!]));
    const changed = [...new Set([...a.keys(), ...b.keys()])]
      .filter((i) => i >= start && a.get(i) !== b.get(i))
      .sort((x, y) => x - y);
    const expiry = this.#tokens.expiry();
    const page = changed.slice(0, limit);
    return {
      snapshot: second,
      expiry,
      blocks: page.map((i) => ({
        block: i,
        firstToken: first && a.has(i) ? this.#tokens.issue(first.id, i, a.get(i)!, expiry) : undefined,
        secondToken: b.has(i) ? this.#tokens.issue(second.id, i, b.get(i)!, expiry) : undefined,
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
    const snap = await this.#access.completed(ownerId, snapshotId);
    const hashes: string[] = [];
    for (const { block, token } of blocks) {
      const hash = await this.#map.hash(snap.id, block);
      const verdict = hash ? this.#tokens.check(token, snap.id, block, hash) : "invalid";
      if (verdict !== "ok")
        throw invalid(
          `The block token is ${verdict} for block ${block} of ${snap.id}`,
          "INVALID_BLOCK_TOKEN",
        );
      hashes.push(hash!);
    }
    return hashes;
  }

  /** The order to read opened blocks in (indices into `hashes`): neighbours in the chunk store first. */
  readOrder(hashes: string[]): Promise<number[]> {
    return this.#blocks.readOrder(hashes);
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
}
