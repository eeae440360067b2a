// One region's volumes, snapshots and chunk index in PostgreSQL: SqliteMetadataStore's behaviour
// statement for statement. Each change of several rows, and each change guarded by a check
// (attached? pending? still unreferenced?), is one SERIALIZABLE transaction, so it holds against
// concurrent hosts as SQLite's single writer makes it hold. Lists of blocks or hashes go as one
// array parameter (unnest / = ANY), never a statement per element. Results that SQLite returns in
// its primary key's order (its tables are WITHOUT ROWID) are ordered explicitly here.
import type pg from "pg";
import { StrataError } from "../../../errors.ts";
import { BLOCK_SIZE, GIB } from "../../blocks.ts";
import type { Tag } from "../catalog-store.ts";
import type {
  BlockRef,
  ChunkRecord,
  Counters,
  ListScope,
  MetadataStore,
  SnapshotRecord,
  SnapshotStats,
  VolumeRecord,
  VolumeTracking,
} from "../metadata-store.ts";
import { tookOver } from "../metadata-store.ts";
import { PgAdvisoryLocks } from "./pg-advisory-locks.ts";
import type { PgDatabase, PgRow, Queryable } from "./pg-database.ts";
import { INSERT_SNAPSHOT, snapshotParams, toBlockRef, toSnapshot, toVolume } from "./pg-metadata-rows.ts";

const UNSTORED =
  "s.chunk_hash IS NOT NULL AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.hash = s.chunk_hash)";

const NOT_REFERENCED = `NOT EXISTS (SELECT 1 FROM snapshot_blocks s WHERE s.chunk_hash = c.hash)
  AND NOT EXISTS (SELECT 1 FROM volume_blocks v WHERE v.chunk_hash = c.hash)`;

const COMPLETED_AT = "UPDATE snapshots SET state = 'completed', progress = 100, completed_at = $1";

export interface PgMetadataStoreOptions {
  /** Connections kept for chunk locks (each holder of lockChunks uses one); default 16. */
  lockConnections?: number;
}

export class PgMetadataStore implements MetadataStore {
  readonly #db: PgDatabase;
  readonly #chunkLocks: PgAdvisoryLocks;

  constructor(db: PgDatabase, options: PgMetadataStoreOptions = {}) {
    this.#db = db;
    this.#chunkLocks = new PgAdvisoryLocks(
      { ...db.pool.options, max: options.lockConnections ?? 16 },
      "strata:chunk:",
    );
  }

  close(): void {
    void this.end();
  }

  /** Closes the lock connections and the database, once both are done. */
  async end(): Promise<void> {
    await Promise.allSettled([this.#chunkLocks.close(), this.#db.close()]);
  }

  // Volumes

  async insertVolume(v: VolumeRecord, tags: Tag[] = []): Promise<void> {
    await this.#db.tx(async (c) => {
      await this.#db.insertTags(c, [v.id], tags);
      await c.query(
        `INSERT INTO volumes (id, size_gib, state, availability_zone, volume_type, source_snapshot_id,
         last_snapshot_id, created_at, owner_id, iops, host) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [
          v.id,
          v.sizeGiB,
          v.state,
          v.availabilityZone,
          v.volumeType,
          v.sourceSnapshotId,
          v.lastSnapshotId,
          v.createdAt,
          v.ownerId,
          v.iops ?? null,
          v.host ?? null,
        ],
      );
      if (v.sourceSnapshotId) {
        // Checked in the same transaction as the copy of its map, so a concurrent delete cannot
        // leave an "available" volume of zeros.
        const src = await this.#db.one("SELECT state FROM snapshots WHERE id = $1", [v.sourceSnapshotId], c);
        if (src?.state !== "completed") {
          throw new StrataError(
            "InvalidSnapshot.NotFound",
            `The snapshot '${v.sourceSnapshotId}' does not exist.`,
          );
        }
        await c.query(
          `INSERT INTO volume_blocks (volume_id, block, chunk_hash, local)
           SELECT $1, block, chunk_hash, false FROM snapshot_blocks WHERE snapshot_id = $2 AND chunk_hash IS NOT NULL`,
          [v.id, v.sourceSnapshotId],
        );
      }
    });
  }

  async getVolume(id: string): Promise<VolumeRecord | undefined> {
    const row = await this.#db.one("SELECT * FROM volumes WHERE id = $1", [id]);
    return row && toVolume(row);
  }

  async listVolumes(ownerId?: string): Promise<VolumeRecord[]> {
    const rows =
      ownerId === undefined
        ? await this.#db.query("SELECT * FROM volumes ORDER BY created_at, id")
        : await this.#db.query("SELECT * FROM volumes WHERE owner_id = $1 ORDER BY created_at, id", [
            ownerId,
          ]);
    return rows.map(toVolume);
  }

  async updateVolume(
    id: string,
    change: { sizeGiB: number; volumeType: string; iops?: number | null },
  ): Promise<void> {
    await this.#db.run("UPDATE volumes SET size_gib = $1, volume_type = $2, iops = $3 WHERE id = $4", [
      change.sizeGiB,
      change.volumeType,
      change.iops ?? null,
      id,
    ]);
  }

  async deleteVolume(id: string): Promise<string[]> {
    return this.#db.tx(async (c) => {
      // Checked in the transaction: an attach racing the delete wins or loses as a whole.
      const v = await this.#db.one("SELECT attached_instance FROM volumes WHERE id = $1", [id], c);
      if (v?.attached_instance) {
        throw new StrataError(
          "VolumeInUse",
          `Volume ${id} is currently attached to ${String(v.attached_instance)}`,
        );
      }
      const hashes = await this.#db.column(
        "SELECT DISTINCT chunk_hash AS v FROM volume_blocks WHERE volume_id = $1 ORDER BY chunk_hash",
        [id],
        c,
      );
      await c.query("DELETE FROM volume_blocks WHERE volume_id = $1", [id]);
      await c.query("DELETE FROM volume_dirty WHERE volume_id = $1", [id]);
      await c.query("DELETE FROM volumes WHERE id = $1", [id]);
      await c.query("DELETE FROM tags WHERE resource_id = $1", [id]);
      return hashes as string[];
    });
  }

  async adoptVolume(id: string, from: string | null, host: string): Promise<string[]> {
    return this.#db.tx(async (c) => {
      const v = await this.#db.one(
        "SELECT last_snapshot_id, host FROM volumes WHERE id = $1 FOR UPDATE",
        [id],
        c,
      );
      if ((v?.host ?? null) !== from) throw tookOver(id, v?.host);
      const snap = v?.last_snapshot_id
        ? await this.#db.one("SELECT state FROM snapshots WHERE id = $1", [v.last_snapshot_id], c)
        : undefined;
      if (snap?.state !== "completed") {
        throw new StrataError("IncorrectState", `No snapshot of volume '${id}' remains to restore it from.`);
      }
      const hashes = await this.#db.column(
        "SELECT DISTINCT chunk_hash AS v FROM volume_blocks WHERE volume_id = $1 ORDER BY chunk_hash",
        [id],
        c,
      );
      await c.query("DELETE FROM volume_blocks WHERE volume_id = $1", [id]);
      await c.query("DELETE FROM volume_dirty WHERE volume_id = $1", [id]);
      await c.query(
        `INSERT INTO volume_blocks (volume_id, block, chunk_hash, local)
         SELECT $1, block, chunk_hash, false FROM snapshot_blocks WHERE snapshot_id = $2 AND chunk_hash IS NOT NULL`,
        [id, v?.last_snapshot_id],
      );
      await c.query("UPDATE volumes SET host = $1 WHERE id = $2", [host, id]);
      return hashes as string[];
    });
  }

  async volumeTracking(id: string): Promise<VolumeTracking> {
    // One transaction: the four sets are of one moment, as SQLite's synchronous reads are.
    return this.#db.tx(async (c) => {
      const dirty = await this.#blocks(
        "SELECT block AS v FROM volume_dirty WHERE volume_id = $1 AND gen = '' ORDER BY block",
        [id],
        c,
      );
      const frozenRows = await this.#db.query(
        "SELECT gen, block FROM volume_dirty WHERE volume_id = $1 AND gen != '' ORDER BY gen, block",
        [id],
        c,
      );
      const remote = await this.#blocks(
        "SELECT block AS v FROM volume_blocks WHERE volume_id = $1 AND NOT local ORDER BY block",
        [id],
        c,
      );
      const mapped = await this.#blocks(
        "SELECT block AS v FROM volume_blocks WHERE volume_id = $1 ORDER BY block",
        [id],
        c,
      );
      const frozen = frozenRows.length
        ? { snapshotId: String(frozenRows[0].gen), blocks: frozenRows.map((r) => Number(r.block)) }
        : null;
      return { dirty, frozen, remote, mapped };
    });
  }

  async hasRemoteBlocks(id: string): Promise<boolean> {
    return (
      (await this.#db.one("SELECT 1 FROM volume_blocks WHERE volume_id = $1 AND NOT local LIMIT 1", [id])) !==
      undefined
    );
  }

  async remoteBlockHashes(id: string, fromBlock: number, toBlock: number): Promise<Map<number, string>> {
    const rows = await this.#db.query(
      `SELECT block, chunk_hash FROM volume_blocks WHERE volume_id = $1 AND NOT local AND block BETWEEN $2 AND $3
       ORDER BY block`,
      [id, fromBlock, toBlock],
    );
    return new Map(rows.map((r) => [Number(r.block), String(r.chunk_hash)]));
  }

  async markDirty(id: string, blocks: number[]): Promise<void> {
    await this.#db.tx((c) =>
      c.query(
        `INSERT INTO volume_dirty (volume_id, gen, block) SELECT $1, '', b FROM unnest($2::bigint[]) AS b
         ON CONFLICT DO NOTHING`,
        [id, blocks],
      ),
    );
  }

  async markLocal(id: string, blocks: number[]): Promise<void> {
    await this.#db.tx((c) =>
      c.query("UPDATE volume_blocks SET local = true WHERE volume_id = $1 AND block = ANY($2::bigint[])", [
        id,
        blocks,
      ]),
    );
  }

  // Snapshots

  async beginVolumeSnapshot(s: SnapshotRecord, tags: Tag[] = []): Promise<number[]> {
    return this.#db.tx(async (c) => {
      await c.query(INSERT_SNAPSHOT, snapshotParams(s));
      await this.#db.insertTags(c, [s.id], tags);
      await c.query("UPDATE volume_dirty SET gen = $1 WHERE volume_id = $2 AND gen = ''", [s.id, s.volumeId]);
      return this.#blocks(
        "SELECT block AS v FROM volume_dirty WHERE volume_id = $1 AND gen = $2 ORDER BY block",
        [s.volumeId, s.id],
        c,
      );
    });
  }

  async insertSnapshot(s: SnapshotRecord, tags: Tag[] = []): Promise<void> {
    await this.#db.tx(async (c) => {
      await c.query(INSERT_SNAPSHOT, snapshotParams(s));
      await this.#db.insertTags(c, [s.id], tags);
    });
  }

  async getSnapshot(id: string): Promise<SnapshotRecord | undefined> {
    const row = await this.#db.one("SELECT * FROM snapshots WHERE id = $1", [id]);
    return row && toSnapshot(row);
  }

  async listSnapshots(): Promise<SnapshotRecord[]> {
    return (await this.#db.query("SELECT * FROM snapshots ORDER BY started_at, id")).map(toSnapshot);
  }

  async snapshotsVisibleTo(accountId: string, scope: ListScope = {}): Promise<SnapshotRecord[]> {
    return (await this.#db.visibleTo("snapshots", accountId, scope)).map(toSnapshot);
  }

  async pendingSnapshots(): Promise<SnapshotRecord[]> {
    return (await this.#db.query("SELECT * FROM snapshots WHERE state = 'pending' ORDER BY started_at")).map(
      toSnapshot,
    );
  }

  async recordedBlocks(id: string): Promise<number[]> {
    return this.#blocks("SELECT block AS v FROM snapshot_blocks WHERE snapshot_id = $1 ORDER BY block", [id]);
  }

  async forgetUnstoredBlocks(id: string, blocks?: number[]): Promise<number> {
    return this.#db.tx((c) =>
      blocks
        ? this.#db.run(
            `DELETE FROM snapshot_blocks AS s WHERE s.snapshot_id = $1 AND s.block = ANY($2::bigint[]) AND ${UNSTORED}`,
            [id, blocks],
            c,
          )
        : this.#db.run(`DELETE FROM snapshot_blocks AS s WHERE s.snapshot_id = $1 AND ${UNSTORED}`, [id], c),
    );
  }

  async #assertAllStored(id: string, c: Queryable): Promise<void> {
    const r = await this.#db.one(
      `SELECT count(*) AS n FROM snapshot_blocks AS s WHERE s.snapshot_id = $1 AND ${UNSTORED}`,
      [id],
      c,
    );
    const n = Number(r?.n);
    if (n > 0)
      throw new Error(`Snapshot ${id} references ${n} chunks that are not stored; not completing it`);
  }

  async snapshotBlocks(id: string, afterBlock: number, limit: number): Promise<BlockRef[]> {
    const rows = await this.#db.query(
      `SELECT block, chunk_hash FROM snapshot_blocks WHERE snapshot_id = $1 AND block > $2 AND chunk_hash IS NOT NULL
       ORDER BY block LIMIT $3`,
      [id, afterBlock, limit],
    );
    return rows.map(toBlockRef);
  }

  async addSnapshotBlocks(id: string, refs: BlockRef[]): Promise<string[]> {
    const blocks = refs.map((r) => r.block);
    const hashes = refs.map((r) => r.hash);
    return this.#db.tx(async (c) => {
      // Checked in the same transaction: a block stored after its snapshot completed, failed or
      // was deleted would change a finished snapshot or pin chunks nothing can release.
      const s = await this.#db.one("SELECT state FROM snapshots WHERE id = $1", [id], c);
      if (s?.state !== "pending") {
        throw new StrataError(
          "IncorrectState",
          `Snapshot ${id} is ${s ? String(s.state) : "gone"}, not pending`,
        );
      }
      // A block given twice keeps its last hash (SQLite's INSERT OR REPLACE, row by row).
      await c.query(
        `INSERT INTO snapshot_blocks (snapshot_id, block, chunk_hash)
         SELECT DISTINCT ON (b) $1, b, h FROM unnest($2::bigint[], $3::text[]) WITH ORDINALITY AS t(b, h, n)
         ORDER BY b, n DESC
         ON CONFLICT (snapshot_id, block) DO UPDATE SET chunk_hash = excluded.chunk_hash`,
        [id, blocks, hashes],
      );
      // The hashes that are not live chunks, each once, in the order they first appear.
      return (await this.#db.column(
        `SELECT h AS v FROM unnest($1::text[]) WITH ORDINALITY AS t(h, n)
         WHERE h IS NOT NULL AND NOT EXISTS (SELECT 1 FROM chunks WHERE hash = h)
         GROUP BY h ORDER BY min(n)`,
        [hashes],
        c,
      )) as string[];
    });
  }

  async setSnapshotProgress(id: string, progress: number, add: Partial<Counters>): Promise<void> {
    await this.#db.run(
      `UPDATE snapshots SET progress = $1, blocks_read = blocks_read + $2, bytes_stored = bytes_stored + $3,
       bytes_transferred = bytes_transferred + $4 WHERE id = $5 AND state = 'pending'`,
      [progress, add.blocksRead ?? 0, add.bytesStored ?? 0, add.bytesTransferred ?? 0, id],
    );
  }

  async completeVolumeSnapshot(id: string): Promise<string[]> {
    return this.#db.tx(async (c) => {
      const s = (await this.#db.one("SELECT volume_id FROM snapshots WHERE id = $1", [id], c)) as PgRow;
      const volumeId = String(s.volume_id);
      await this.#assertAllStored(id, c);
      // Base-map entries this snapshot replaces: their chunks may now be unreferenced.
      const replaced = await this.#db.column(
        `SELECT DISTINCT v.chunk_hash AS v FROM volume_blocks v JOIN snapshot_blocks s
           ON s.snapshot_id = $1 AND s.block = v.block
         WHERE v.volume_id = $2 AND (s.chunk_hash IS NULL OR s.chunk_hash != v.chunk_hash) ORDER BY v.chunk_hash`,
        [id, volumeId],
        c,
      );
      // The volume's base map becomes this snapshot's map...
      await c.query(
        `INSERT INTO volume_blocks (volume_id, block, chunk_hash, local)
         SELECT $1, block, chunk_hash, true FROM snapshot_blocks WHERE snapshot_id = $2 AND chunk_hash IS NOT NULL
         ON CONFLICT (volume_id, block) DO UPDATE SET chunk_hash = excluded.chunk_hash, local = true`,
        [volumeId, id],
      );
      await c.query(
        `DELETE FROM volume_blocks WHERE volume_id = $1 AND block IN
           (SELECT block FROM snapshot_blocks WHERE snapshot_id = $2 AND chunk_hash IS NULL)`,
        [volumeId, id],
      );
      // ...and the snapshot's map is completed from the unchanged blocks of that base map.
      await c.query(
        `INSERT INTO snapshot_blocks (snapshot_id, block, chunk_hash)
         SELECT $1, block, chunk_hash FROM volume_blocks WHERE volume_id = $2 ON CONFLICT DO NOTHING`,
        [id, volumeId],
      );
      await c.query("DELETE FROM snapshot_blocks WHERE snapshot_id = $1 AND chunk_hash IS NULL", [id]);
      await c.query("DELETE FROM volume_dirty WHERE volume_id = $1 AND gen = $2", [volumeId, id]);
      await c.query("UPDATE volumes SET last_snapshot_id = $1 WHERE id = $2", [id, volumeId]);
      await c.query(`${COMPLETED_AT} WHERE id = $2`, [new Date().toISOString(), id]);
      return replaced as string[];
    });
  }

  async completeCopiedSnapshot(id: string): Promise<void> {
    await this.#db.tx(async (c) => {
      await this.#assertAllStored(id, c);
      await c.query("DELETE FROM snapshot_blocks WHERE snapshot_id = $1 AND chunk_hash IS NULL", [id]);
      await c.query(`${COMPLETED_AT} WHERE id = $2`, [new Date().toISOString(), id]);
    });
  }

  async extendSnapshot(id: string, expiresAt: string): Promise<void> {
    await this.#db.run("UPDATE snapshots SET expires_at = $1 WHERE id = $2 AND state = 'pending'", [
      expiresAt,
      id,
    ]);
  }

  async completeDirectSnapshot(id: string): Promise<void> {
    await this.#db.tx(async (c) => {
      await this.#assertAllStored(id, c);
      const s = (await this.#db.one(
        "SELECT parent_snapshot_id FROM snapshots WHERE id = $1",
        [id],
        c,
      )) as PgRow;
      if (s.parent_snapshot_id) {
        const parent = await this.#db.one(
          "SELECT state FROM snapshots WHERE id = $1",
          [s.parent_snapshot_id],
          c,
        );
        if (parent?.state !== "completed") {
          throw new StrataError(
            "ValidationException",
            `The parent snapshot ${String(s.parent_snapshot_id)} was deleted before this snapshot completed`,
            "INVALID_DEPENDENCY_REQUEST",
          );
        }
        await c.query(
          `INSERT INTO snapshot_blocks (snapshot_id, block, chunk_hash)
           SELECT $1, block, chunk_hash FROM snapshot_blocks WHERE snapshot_id = $2 ON CONFLICT DO NOTHING`,
          [id, s.parent_snapshot_id],
        );
      }
      await c.query("DELETE FROM snapshot_blocks WHERE snapshot_id = $1 AND chunk_hash IS NULL", [id]);
      await c.query(`${COMPLETED_AT}, expires_at = NULL WHERE id = $2`, [new Date().toISOString(), id]);
    });
  }

  async expiredSnapshots(now: string): Promise<string[]> {
    return (await this.#db.column(
      "SELECT id AS v FROM snapshots WHERE state = 'pending' AND expires_at IS NOT NULL AND expires_at < $1 ORDER BY id",
      [now],
    )) as string[];
  }

  async recordedRefs(id: string): Promise<BlockRef[]> {
    const rows = await this.#db.query(
      "SELECT block, chunk_hash FROM snapshot_blocks WHERE snapshot_id = $1 ORDER BY block",
      [id],
    );
    return rows.map(toBlockRef);
  }

  async failSnapshot(id: string, message: string): Promise<string[]> {
    return this.#db.tx(async (c) => {
      const s = await this.#db.one("SELECT volume_id FROM snapshots WHERE id = $1", [id], c);
      if (!s) return [];
      if (s.volume_id) {
        // Changes frozen into the failed snapshot belong to the volume's next snapshot again.
        await c.query(
          `INSERT INTO volume_dirty (volume_id, gen, block)
           SELECT volume_id, '', block FROM volume_dirty WHERE volume_id = $1 AND gen = $2 ON CONFLICT DO NOTHING`,
          [s.volume_id, id],
        );
        await c.query("DELETE FROM volume_dirty WHERE volume_id = $1 AND gen = $2", [s.volume_id, id]);
      }
      const hashes = await this.#snapshotHashes(id, c);
      await c.query("DELETE FROM snapshot_blocks WHERE snapshot_id = $1", [id]);
      await c.query("UPDATE snapshots SET state = 'error', state_message = $1 WHERE id = $2", [message, id]);
      return hashes;
    });
  }

  async deleteSnapshot(id: string): Promise<string[]> {
    return this.#db.tx(async (c) => {
      // Checked in the same transaction as the delete, so a RegisterImage cannot slip in between.
      // Only the owner's own images count: an image only its owner's snapshots can back (older
      // versions let another account register one on a shared snapshot; it does not pin it).
      const image = await this.#db.one(
        `SELECT l.image_id FROM image_snapshots l JOIN images i ON i.id = l.image_id
         JOIN snapshots s ON s.id = l.snapshot_id
         WHERE l.snapshot_id = $1 AND i.owner_id = s.owner_id ORDER BY l.image_id LIMIT 1`,
        [id],
        c,
      );
      if (image) {
        throw new StrataError(
          "InvalidSnapshot.InUse",
          `The snapshot ${id} is currently in use by ${String(image.image_id)}`,
        );
      }
      const hashes = await this.#snapshotHashes(id, c);
      await c.query("DELETE FROM snapshot_blocks WHERE snapshot_id = $1", [id]);
      await c.query("DELETE FROM snapshots WHERE id = $1", [id]);
      await c.query("DELETE FROM tags WHERE resource_id = $1", [id]);
      await c.query("DELETE FROM permissions WHERE resource_id = $1", [id]);
      return hashes;
    });
  }

  async #snapshotHashes(id: string, c: Queryable): Promise<string[]> {
    return (await this.#db.column(
      `SELECT DISTINCT chunk_hash AS v FROM snapshot_blocks WHERE snapshot_id = $1 AND chunk_hash IS NOT NULL
       ORDER BY chunk_hash`,
      [id],
      c,
    )) as string[];
  }

  async snapshotStats(id: string): Promise<SnapshotStats> {
    return this.#db.tx(async (c) => {
      const s = (await this.#db.one("SELECT volume_size_gib FROM snapshots WHERE id = $1", [id], c)) as PgRow;
      const counted = await this.#db.one(
        "SELECT count(*) AS n FROM snapshot_blocks WHERE snapshot_id = $1 AND chunk_hash IS NOT NULL",
        [id],
        c,
      );
      const sums = (await this.#db.one(
        `SELECT coalesce(sum(c.stored_bytes), 0) AS stored,
         coalesce(sum(CASE WHEN NOT EXISTS (SELECT 1 FROM snapshot_blocks o WHERE o.chunk_hash = c.hash
           AND o.snapshot_id != $1) THEN c.stored_bytes ELSE 0 END), 0) AS uniq
         FROM chunks c WHERE c.hash IN (SELECT chunk_hash FROM snapshot_blocks WHERE snapshot_id = $1)`,
        [id],
        c,
      )) as PgRow;
      return stats(Number(s.volume_size_gib), Number(counted?.n), sums);
    });
  }

  async ownerSnapshotStats(ownerId: string, ids: string[]): Promise<SnapshotStats> {
    return this.#db.tx(async (c) => {
      // The set: the given ids the owner owns.
      const set = "SELECT id FROM snapshots WHERE owner_id = $1 AND id = ANY($2::text[])";
      const sizes = (await this.#db.one(
        `SELECT coalesce(sum(volume_size_gib), 0) AS gib,
           coalesce(sum((SELECT count(*) FROM snapshot_blocks b WHERE b.snapshot_id = s.id
             AND b.chunk_hash IS NOT NULL)), 0) AS blocks
         FROM snapshots s WHERE s.id IN (${set})`,
        [ownerId, ids],
        c,
      )) as PgRow;
      const sums = (await this.#db.one(
        `SELECT coalesce(sum(c.stored_bytes), 0) AS stored,
           coalesce(sum(CASE WHEN NOT EXISTS (SELECT 1 FROM snapshot_blocks o JOIN snapshots os
             ON os.id = o.snapshot_id WHERE o.chunk_hash = c.hash AND os.owner_id = $1
             AND o.snapshot_id NOT IN (${set})) THEN c.stored_bytes ELSE 0 END), 0) AS uniq
         FROM chunks c WHERE c.hash IN
           (SELECT chunk_hash FROM snapshot_blocks WHERE snapshot_id IN (${set}))`,
        [ownerId, ids],
        c,
      )) as PgRow;
      return stats(Number(sizes.gib), Number(sizes.blocks), sums);
    });
  }

  // Chunks

  async liveChunks(hashes: string[]): Promise<Set<string>> {
    const live = new Set(
      (await this.#db.column("SELECT hash AS v FROM chunks WHERE hash = ANY($1::text[])", [
        hashes,
      ])) as string[],
    );
    return new Set(hashes.filter((h) => live.has(h)));
  }

  async addChunks(chunks: ChunkRecord[]): Promise<void> {
    const packs = chunks.map((c) => c.pack);
    await this.#db.tx(async (c) => {
      // A hash given twice keeps its first row (INSERT OR IGNORE, row by row)...
      await c.query(
        `INSERT INTO chunks (hash, stored_bytes, pack, pack_offset)
         SELECT h, b, p, o FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[]) WITH ORDINALITY
           AS t(h, b, p, o, n) ORDER BY n
         ON CONFLICT (hash) DO NOTHING`,
        [chunks.map((x) => x.hash), chunks.map((x) => x.storedBytes), packs, chunks.map((x) => x.offset)],
      );
      // ...and every chunk given with a pack counts as recorded in it, stored now or before.
      await c.query(
        `UPDATE packs SET recorded = recorded + t.n
         FROM (SELECT p, count(*) AS n FROM unnest($1::text[]) AS p WHERE p IS NOT NULL GROUP BY p) AS t
         WHERE packs.id = t.p`,
        [packs],
      );
    });
  }

  async dropUnreferencedChunks(candidates: string[]): Promise<string[]> {
    const dropped = await this.#db.tx(
      async (c) =>
        new Set(
          (await this.#db.column(
            `DELETE FROM chunks AS c WHERE c.hash = ANY($1::text[]) AND ${NOT_REFERENCED} RETURNING c.hash AS v`,
            [candidates],
            c,
          )) as string[],
        ),
    );
    // In the candidates' order, each once (SQLite deletes one by one: a repeat changes nothing).
    return candidates.filter((h) => dropped.delete(h));
  }

  async unreferencedChunks(): Promise<string[]> {
    return (await this.#db.column(
      `SELECT hash AS v FROM chunks c WHERE ${NOT_REFERENCED} ORDER BY hash`,
    )) as string[];
  }

  async chunkTotals(): Promise<{ chunks: number; storedBytes: number }> {
    const r = (await this.#db.one(
      "SELECT count(*) AS n, coalesce(sum(stored_bytes), 0) AS b FROM chunks",
    )) as PgRow;
    return { chunks: Number(r.n), storedBytes: Number(r.b) };
  }

  lockChunks(hashes: Iterable<string>): Promise<() => void> {
    return this.#chunkLocks.acquire(hashes);
  }

  /** Block numbers (bigint, so strings from the driver) of the `v` column. */
  async #blocks(sql: string, params: unknown[], on?: pg.PoolClient): Promise<number[]> {
    return (await this.#db.column(sql, params, on)).map(Number);
  }
}

function stats(volumeSizeGiB: number, blocks: number, sums: PgRow): SnapshotStats {
  const stored = Number(sums.stored);
  const unique = Number(sums.uniq);
  return {
    logicalBytes: volumeSizeGiB * GIB,
    dataBytes: blocks * BLOCK_SIZE,
    storedBytes: stored,
    uniqueBytes: unique,
    sharedBytes: stored - unique,
  };
}
