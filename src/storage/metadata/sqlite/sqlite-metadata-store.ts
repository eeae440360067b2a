import { StrataError } from "../../../errors.ts";
import { KeyedLock } from "../../../util/keyed-lock.ts";
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
  VolumeState,
  VolumeTracking,
} from "../metadata-store.ts";
import { tookOver } from "../metadata-store.ts";
import type { Row, SqliteDatabase } from "./sqlite-database.ts";

const UNSTORED =
  "s.chunk_hash IS NOT NULL AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.hash = s.chunk_hash)";

const NOT_REFERENCED = `NOT EXISTS (SELECT 1 FROM snapshot_blocks s WHERE s.chunk_hash = c.hash)
  AND NOT EXISTS (SELECT 1 FROM volume_blocks v WHERE v.chunk_hash = c.hash)`;

/** One region's volumes, snapshots and chunk index in its SQLite database. */
export class SqliteMetadataStore implements MetadataStore {
  readonly #db: SqliteDatabase;
  readonly #chunkLocks = new KeyedLock<string>();

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  close(): void {
    this.#db.close();
  }

  // Volumes

  async insertVolume(v: VolumeRecord, tags: Tag[] = []): Promise<void> {
    return this.#db.exclusive(() => {
      this.#db.transaction(() => {
        this.#db.insertTags([v.id], tags);
        this.#db
          .q(
            `INSERT INTO volumes (id, size_gib, state, availability_zone, volume_type, source_snapshot_id,
             last_snapshot_id, created_at, owner_id, iops, host) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
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
          );
        if (v.sourceSnapshotId) {
          // Checked in the same transaction as the copy of its map, so a concurrent delete cannot
          // leave an "available" volume of zeros.
          const src = this.#db.q("SELECT state FROM snapshots WHERE id = ?").get(v.sourceSnapshotId) as
            | Row
            | undefined;
          if (src?.state !== "completed") {
            throw new StrataError(
              "InvalidSnapshot.NotFound",
              `The snapshot '${v.sourceSnapshotId}' does not exist.`,
            );
          }
          this.#db
            .q(
              `INSERT INTO volume_blocks (volume_id, block, chunk_hash, local)
             SELECT ?, block, chunk_hash, 0 FROM snapshot_blocks WHERE snapshot_id = ? AND chunk_hash IS NOT NULL`,
            )
            .run(v.id, v.sourceSnapshotId);
        }
      });
    });
  }

  async getVolume(id: string): Promise<VolumeRecord | undefined> {
    return this.#db.exclusive(() => {
      const row = this.#db.q("SELECT * FROM volumes WHERE id = ?").get(id) as Row | undefined;
      return row && toVolume(row);
    });
  }

  async listVolumes(ownerId?: string): Promise<VolumeRecord[]> {
    return this.#db.exclusive(() => {
      const rows =
        ownerId === undefined
          ? this.#db.q("SELECT * FROM volumes ORDER BY created_at, id").all()
          : this.#db.q("SELECT * FROM volumes WHERE owner_id = ? ORDER BY created_at, id").all(ownerId);
      return (rows as Row[]).map(toVolume);
    });
  }

  async updateVolume(
    id: string,
    change: { sizeGiB: number; volumeType: string; iops?: number | null },
  ): Promise<void> {
    return this.#db.exclusive(() => {
      this.#db
        .q("UPDATE volumes SET size_gib = ?, volume_type = ?, iops = ? WHERE id = ?")
        .run(change.sizeGiB, change.volumeType, change.iops ?? null, id);
    });
  }

  async deleteVolume(id: string): Promise<string[]> {
    return this.#db.exclusive(() => {
      return this.#db.transaction(() => {
        // Checked in the transaction: an attach racing the delete wins or loses as a whole.
        const v = this.#db.q("SELECT attached_instance FROM volumes WHERE id = ?").get(id) as Row | undefined;
        if (v?.attached_instance) {
          throw new StrataError(
            "VolumeInUse",
            `Volume ${id} is currently attached to ${String(v.attached_instance)}`,
          );
        }
        const hashes = this.#db.column(
          "SELECT DISTINCT chunk_hash AS v FROM volume_blocks WHERE volume_id = ?",
          id,
        );
        this.#db.q("DELETE FROM volume_blocks WHERE volume_id = ?").run(id);
        this.#db.q("DELETE FROM volume_dirty WHERE volume_id = ?").run(id);
        this.#db.q("DELETE FROM volumes WHERE id = ?").run(id);
        this.#db.q("DELETE FROM tags WHERE resource_id = ?").run(id);
        return hashes as string[];
      });
    });
  }

  async adoptVolume(id: string, from: string | null, host: string): Promise<string[]> {
    return this.#db.tx(() => {
      const v = this.#db.q("SELECT last_snapshot_id, host FROM volumes WHERE id = ?").get(id) as
        | Row
        | undefined;
      if ((v?.host ?? null) !== from) throw tookOver(id, v?.host);
      const snap = v?.last_snapshot_id
        ? (this.#db.q("SELECT state FROM snapshots WHERE id = ?").get(v.last_snapshot_id) as Row | undefined)
        : undefined;
      if (snap?.state !== "completed") {
        throw new StrataError("IncorrectState", `No snapshot of volume '${id}' remains to restore it from.`);
      }
      const hashes = this.#db.column(
        "SELECT DISTINCT chunk_hash AS v FROM volume_blocks WHERE volume_id = ?",
        id,
      );
      this.#db.q("DELETE FROM volume_blocks WHERE volume_id = ?").run(id);
      this.#db.q("DELETE FROM volume_dirty WHERE volume_id = ?").run(id);
      this.#db
        .q(
          `INSERT INTO volume_blocks (volume_id, block, chunk_hash, local)
           SELECT ?, block, chunk_hash, 0 FROM snapshot_blocks WHERE snapshot_id = ? AND chunk_hash IS NOT NULL`,
        )
        .run(id, v?.last_snapshot_id as string);
      this.#db.q("UPDATE volumes SET host = ? WHERE id = ?").run(host, id);
      return hashes as string[];
    });
  }

  async volumeTracking(id: string): Promise<VolumeTracking> {
    return this.#db.exclusive(() => {
      const dirty = this.#db.column(
        "SELECT block AS v FROM volume_dirty WHERE volume_id = ? AND gen = ''",
        id,
      );
      const frozenRows = this.#db
        .q("SELECT gen, block FROM volume_dirty WHERE volume_id = ? AND gen != ''")
        .all(id) as Row[];
      const remote = this.#db.column(
        "SELECT block AS v FROM volume_blocks WHERE volume_id = ? AND local = 0",
        id,
      );
      const mapped = this.#db.column(
        "SELECT block AS v FROM volume_blocks WHERE volume_id = ?",
        id,
      ) as number[];
      const frozen = frozenRows.length
        ? { snapshotId: String(frozenRows[0].gen), blocks: frozenRows.map((r) => Number(r.block)) }
        : null;
      return { dirty: dirty as number[], frozen, remote: remote as number[], mapped };
    });
  }

  async hasRemoteBlocks(id: string): Promise<boolean> {
    return this.#db.exclusive(() => {
      return (
        this.#db.q("SELECT 1 FROM volume_blocks WHERE volume_id = ? AND local = 0 LIMIT 1").get(id) !==
        undefined
      );
    });
  }

  async remoteBlockHashes(id: string, fromBlock: number, toBlock: number): Promise<Map<number, string>> {
    return this.#db.exclusive(() => {
      const rows = this.#db
        .q(
          "SELECT block, chunk_hash FROM volume_blocks WHERE volume_id = ? AND local = 0 AND block BETWEEN ? AND ?",
        )
        .all(id, fromBlock, toBlock) as Row[];
      return new Map(rows.map((r) => [Number(r.block), String(r.chunk_hash)]));
    });
  }

  async markDirty(id: string, blocks: number[]): Promise<void> {
    return this.#db.exclusive(() => {
      const ins = this.#db.q("INSERT OR IGNORE INTO volume_dirty (volume_id, gen, block) VALUES (?, '', ?)");
      this.#db.transaction(() => {
        for (const b of blocks) ins.run(id, b);
      });
    });
  }

  async markLocal(id: string, blocks: number[]): Promise<void> {
    return this.#db.exclusive(() => {
      const upd = this.#db.q("UPDATE volume_blocks SET local = 1 WHERE volume_id = ? AND block = ?");
      this.#db.transaction(() => {
        for (const b of blocks) upd.run(id, b);
      });
    });
  }

  // Snapshots

  #insertSnapshot(s: SnapshotRecord): void {
    this.#db
      .q(
        `INSERT INTO snapshots (id, volume_id, volume_size_gib, state, progress, parent_snapshot_id, source_region,
         source_snapshot_id, description, started_at, completed_at, state_message, blocks_read, bytes_stored,
         bytes_transferred, owner_id, expires_at, timeout_minutes, host)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        s.id,
        s.volumeId,
        s.volumeSizeGiB,
        s.state,
        s.progress,
        s.parentSnapshotId,
        s.sourceRegion,
        s.sourceSnapshotId,
        s.description,
        s.startedAt,
        s.completedAt,
        s.stateMessage,
        s.blocksRead,
        s.bytesStored,
        s.bytesTransferred,
        s.ownerId,
        s.expiresAt,
        s.timeoutMinutes,
        s.host ?? null,
      );
  }

  async beginVolumeSnapshot(s: SnapshotRecord, tags: Tag[] = []): Promise<number[]> {
    return this.#db.exclusive(() => {
      return this.#db.transaction(() => {
        this.#insertSnapshot(s);
        this.#db.insertTags([s.id], tags);
        this.#db.q("UPDATE volume_dirty SET gen = ? WHERE volume_id = ? AND gen = ''").run(s.id, s.volumeId);
        return this.#db.column(
          "SELECT block AS v FROM volume_dirty WHERE volume_id = ? AND gen = ?",
          s.volumeId,
          s.id,
        );
      }) as number[];
    });
  }

  async insertSnapshot(s: SnapshotRecord, tags: Tag[] = []): Promise<void> {
    return this.#db.exclusive(() => {
      this.#db.transaction(() => {
        this.#insertSnapshot(s);
        this.#db.insertTags([s.id], tags);
      });
    });
  }

  async getSnapshot(id: string): Promise<SnapshotRecord | undefined> {
    return this.#db.exclusive(() => {
      const row = this.#db.q("SELECT * FROM snapshots WHERE id = ?").get(id) as Row | undefined;
      return row && toSnapshot(row);
    });
  }

  async listSnapshots(): Promise<SnapshotRecord[]> {
    return this.#db.exclusive(() => {
      return (this.#db.q("SELECT * FROM snapshots ORDER BY started_at, id").all() as Row[]).map(toSnapshot);
    });
  }

  async snapshotsVisibleTo(accountId: string, scope: ListScope = {}): Promise<SnapshotRecord[]> {
    return this.#db.exclusive(() => {
      return (this.#db.visibleTo("snapshots", accountId, scope) as Row[]).map(toSnapshot);
    });
  }

  async pendingSnapshots(): Promise<SnapshotRecord[]> {
    return this.#db.exclusive(() => {
      return (
        this.#db.q("SELECT * FROM snapshots WHERE state = 'pending' ORDER BY started_at").all() as Row[]
      ).map(toSnapshot);
    });
  }

  async recordedBlocks(id: string): Promise<number[]> {
    return this.#db.exclusive(() => {
      return this.#db.column("SELECT block AS v FROM snapshot_blocks WHERE snapshot_id = ?", id) as number[];
    });
  }

  async forgetUnstoredBlocks(id: string, blocks?: number[]): Promise<number> {
    return this.#db.exclusive(() => {
      if (!blocks) {
        return Number(
          this.#db.q(`DELETE FROM snapshot_blocks AS s WHERE s.snapshot_id = ? AND ${UNSTORED}`).run(id)
            .changes,
        );
      }
      const del = this.#db.q(
        `DELETE FROM snapshot_blocks AS s WHERE s.snapshot_id = ? AND s.block = ? AND ${UNSTORED}`,
      );
      return this.#db.transaction(() => blocks.reduce((n, b) => n + Number(del.run(id, b).changes), 0));
    });
  }

  #assertAllStored(id: string): void {
    const n = Number(
      (
        this.#db
          .q(`SELECT count(*) AS n FROM snapshot_blocks AS s WHERE s.snapshot_id = ? AND ${UNSTORED}`)
          .get(id) as Row
      ).n,
    );
    if (n > 0)
      throw new Error(`Snapshot ${id} references ${n} chunks that are not stored; not completing it`);
  }

  async snapshotBlocks(id: string, afterBlock: number, limit: number): Promise<BlockRef[]> {
    return this.#db.exclusive(() => {
      const rows = this.#db
        .q(
          `SELECT block, chunk_hash FROM snapshot_blocks WHERE snapshot_id = ? AND block > ? AND chunk_hash IS NOT NULL
         ORDER BY block LIMIT ?`,
        )
        .all(id, afterBlock, limit) as Row[];
      return rows.map(toBlockRef);
    });
  }

  async addSnapshotBlocks(id: string, refs: BlockRef[]): Promise<string[]> {
    return this.#db.exclusive(() => {
      const ins = this.#db.q(
        "INSERT OR REPLACE INTO snapshot_blocks (snapshot_id, block, chunk_hash) VALUES (?, ?, ?)",
      );
      const live = this.#db.q("SELECT 1 AS v FROM chunks WHERE hash = ?");
      return this.#db.transaction(() => {
        // Checked in the same transaction: a block stored after its snapshot completed, failed or
        // was deleted would change a finished snapshot or pin chunks nothing can release.
        const s = this.#db.q("SELECT state FROM snapshots WHERE id = ?").get(id) as Row | undefined;
        if (s?.state !== "pending") {
          throw new StrataError(
            "IncorrectState",
            `Snapshot ${id} is ${s ? String(s.state) : "gone"}, not pending`,
          );
        }
        const missing = new Set<string>();
        for (const r of refs) {
          ins.run(id, r.block, r.hash);
          if (r.hash && !missing.has(r.hash) && !live.get(r.hash)) missing.add(r.hash);
        }
        return [...missing];
      });
    });
  }

  async setSnapshotProgress(id: string, progress: number, add: Partial<Counters>): Promise<void> {
    return this.#db.exclusive(() => {
      this.#db
        .q(
          `UPDATE snapshots SET progress = ?, blocks_read = blocks_read + ?, bytes_stored = bytes_stored + ?,
           bytes_transferred = bytes_transferred + ? WHERE id = ? AND state = 'pending'`,
        )
        .run(progress, add.blocksRead ?? 0, add.bytesStored ?? 0, add.bytesTransferred ?? 0, id);
    });
  }

  async completeVolumeSnapshot(id: string): Promise<string[]> {
    return this.#db.exclusive(() => {
      return this.#db.transaction(() => {
        const s = this.#db.q("SELECT volume_id FROM snapshots WHERE id = ?").get(id) as Row;
        const volumeId = String(s.volume_id);
        this.#assertAllStored(id);
        // Base-map entries this snapshot replaces: their chunks may now be unreferenced.
        const replaced = this.#db.column(
          `SELECT DISTINCT v.chunk_hash AS v FROM volume_blocks v JOIN snapshot_blocks s
             ON s.snapshot_id = ? AND s.block = v.block
           WHERE v.volume_id = ? AND (s.chunk_hash IS NULL OR s.chunk_hash != v.chunk_hash)`,
          id,
          volumeId,
        );
        // The volume's base map becomes this snapshot's map...
        this.#db
          .q(
            `INSERT INTO volume_blocks (volume_id, block, chunk_hash, local)
           SELECT ?, block, chunk_hash, 1 FROM snapshot_blocks WHERE snapshot_id = ? AND chunk_hash IS NOT NULL
           ON CONFLICT (volume_id, block) DO UPDATE SET chunk_hash = excluded.chunk_hash, local = 1`,
          )
          .run(volumeId, id);
        this.#db
          .q(
            `DELETE FROM volume_blocks WHERE volume_id = ? AND block IN
             (SELECT block FROM snapshot_blocks WHERE snapshot_id = ? AND chunk_hash IS NULL)`,
          )
          .run(volumeId, id);
        // ...and the snapshot's map is completed from the unchanged blocks of that base map.
        this.#db
          .q(
            `INSERT OR IGNORE INTO snapshot_blocks (snapshot_id, block, chunk_hash)
           SELECT ?, block, chunk_hash FROM volume_blocks WHERE volume_id = ?`,
          )
          .run(id, volumeId);
        this.#db.q("DELETE FROM snapshot_blocks WHERE snapshot_id = ? AND chunk_hash IS NULL").run(id);
        this.#db.q("DELETE FROM volume_dirty WHERE volume_id = ? AND gen = ?").run(volumeId, id);
        this.#db.q("UPDATE volumes SET last_snapshot_id = ? WHERE id = ?").run(id, volumeId);
        this.#db
          .q("UPDATE snapshots SET state = 'completed', progress = 100, completed_at = ? WHERE id = ?")
          .run(new Date().toISOString(), id);
        return replaced as string[];
      });
    });
  }

  async completeCopiedSnapshot(id: string): Promise<void> {
    return this.#db.exclusive(() => {
      this.#db.transaction(() => {
        this.#assertAllStored(id);
        this.#db.q("DELETE FROM snapshot_blocks WHERE snapshot_id = ? AND chunk_hash IS NULL").run(id);
        this.#db
          .q("UPDATE snapshots SET state = 'completed', progress = 100, completed_at = ? WHERE id = ?")
          .run(new Date().toISOString(), id);
      });
    });
  }

  async extendSnapshot(id: string, expiresAt: string): Promise<void> {
    return this.#db.exclusive(() => {
      this.#db.q("UPDATE snapshots SET expires_at = ? WHERE id = ? AND state = 'pending'").run(expiresAt, id);
    });
  }

  async completeDirectSnapshot(id: string): Promise<void> {
    return this.#db.exclusive(() => {
      this.#db.transaction(() => {
        this.#assertAllStored(id);
        const s = this.#db.q("SELECT parent_snapshot_id FROM snapshots WHERE id = ?").get(id) as Row;
        if (s.parent_snapshot_id) {
          const parent = this.#db.q("SELECT state FROM snapshots WHERE id = ?").get(s.parent_snapshot_id) as
            | Row
            | undefined;
          if (parent?.state !== "completed") {
            throw new StrataError(
              "ValidationException",
              `The parent snapshot ${String(s.parent_snapshot_id)} was deleted before this snapshot completed`,
              "INVALID_DEPENDENCY_REQUEST",
            );
          }
          this.#db
            .q(
              `INSERT OR IGNORE INTO snapshot_blocks (snapshot_id, block, chunk_hash)
               SELECT ?, block, chunk_hash FROM snapshot_blocks WHERE snapshot_id = ?`,
            )
            .run(id, s.parent_snapshot_id as string);
        }
        this.#db.q("DELETE FROM snapshot_blocks WHERE snapshot_id = ? AND chunk_hash IS NULL").run(id);
        this.#db
          .q(
            "UPDATE snapshots SET state = 'completed', progress = 100, completed_at = ?, expires_at = NULL WHERE id = ?",
          )
          .run(new Date().toISOString(), id);
      });
    });
  }

  async expiredSnapshots(now: string): Promise<string[]> {
    return this.#db.exclusive(() => {
      return this.#db.column(
        "SELECT id AS v FROM snapshots WHERE state = 'pending' AND expires_at IS NOT NULL AND expires_at < ?",
        now,
      ) as string[];
    });
  }

  async recordedRefs(id: string): Promise<BlockRef[]> {
    return this.#db.exclusive(() => {
      const rows = this.#db
        .q("SELECT block, chunk_hash FROM snapshot_blocks WHERE snapshot_id = ? ORDER BY block")
        .all(id) as Row[];
      return rows.map(toBlockRef);
    });
  }

  async failSnapshot(id: string, message: string): Promise<string[]> {
    return this.#db.exclusive(() => {
      return this.#db.transaction(() => {
        const s = this.#db.q("SELECT volume_id FROM snapshots WHERE id = ?").get(id) as Row | undefined;
        if (!s) return [];
        if (s.volume_id) {
          // Changes frozen into the failed snapshot belong to the volume's next snapshot again.
          this.#db
            .q(
              `INSERT OR IGNORE INTO volume_dirty (volume_id, gen, block)
             SELECT volume_id, '', block FROM volume_dirty WHERE volume_id = ? AND gen = ?`,
            )
            .run(s.volume_id, id);
          this.#db.q("DELETE FROM volume_dirty WHERE volume_id = ? AND gen = ?").run(s.volume_id, id);
        }
        const hashes = this.#snapshotHashes(id);
        this.#db.q("DELETE FROM snapshot_blocks WHERE snapshot_id = ?").run(id);
        this.#db.q("UPDATE snapshots SET state = 'error', state_message = ? WHERE id = ?").run(message, id);
        return hashes;
      });
    });
  }

  async deleteSnapshot(id: string): Promise<string[]> {
    return this.#db.exclusive(() => {
      return this.#db.transaction(() => {
        // Checked in the same transaction as the delete, so a RegisterImage cannot slip in between.
        // Only the owner's own images count: an image only its owner's snapshots can back (older
        // versions let another account register one on a shared snapshot; it does not pin it).
        const image = this.#db
          .q(
            `SELECT l.image_id FROM image_snapshots l JOIN images i ON i.id = l.image_id
             JOIN snapshots s ON s.id = l.snapshot_id
             WHERE l.snapshot_id = ? AND i.owner_id = s.owner_id ORDER BY l.image_id`,
          )
          .get(id) as Row | undefined;
        if (image) {
          throw new StrataError(
            "InvalidSnapshot.InUse",
            `The snapshot ${id} is currently in use by ${String(image.image_id)}`,
          );
        }
        const hashes = this.#snapshotHashes(id);
        this.#db.q("DELETE FROM snapshot_blocks WHERE snapshot_id = ?").run(id);
        this.#db.q("DELETE FROM snapshots WHERE id = ?").run(id);
        this.#db.q("DELETE FROM tags WHERE resource_id = ?").run(id);
        this.#db.q("DELETE FROM permissions WHERE resource_id = ?").run(id);
        return hashes;
      });
    });
  }

  #snapshotHashes(id: string): string[] {
    return this.#db.column(
      "SELECT DISTINCT chunk_hash AS v FROM snapshot_blocks WHERE snapshot_id = ? AND chunk_hash IS NOT NULL",
      id,
    ) as string[];
  }

  async snapshotStats(id: string): Promise<SnapshotStats> {
    return this.#db.exclusive(() => {
      const s = this.#db.q("SELECT volume_size_gib FROM snapshots WHERE id = ?").get(id) as Row;
      const blocks = Number(
        (
          this.#db
            .q("SELECT count(*) AS n FROM snapshot_blocks WHERE snapshot_id = ? AND chunk_hash IS NOT NULL")
            .get(id) as Row
        ).n,
      );
      const sums = this.#db
        .q(
          `SELECT coalesce(sum(c.stored_bytes), 0) AS stored,
           coalesce(sum(CASE WHEN NOT EXISTS (SELECT 1 FROM snapshot_blocks o WHERE o.chunk_hash = c.hash
             AND o.snapshot_id != ?) THEN c.stored_bytes ELSE 0 END), 0) AS uniq
         FROM chunks c WHERE c.hash IN (SELECT chunk_hash FROM snapshot_blocks WHERE snapshot_id = ?)`,
        )
        .get(id, id) as Row;
      const stored = Number(sums.stored);
      const unique = Number(sums.uniq);
      return {
        logicalBytes: Number(s.volume_size_gib) * GIB,
        dataBytes: blocks * BLOCK_SIZE,
        storedBytes: stored,
        uniqueBytes: unique,
        sharedBytes: stored - unique,
      };
    });
  }

  async ownerSnapshotStats(ownerId: string, ids: string[]): Promise<SnapshotStats> {
    return this.#db.exclusive(() => {
      // The set: the given ids the owner owns (json_each binds the list as one parameter).
      const set = "SELECT id FROM snapshots WHERE owner_id = ? AND id IN (SELECT value FROM json_each(?))";
      const list = JSON.stringify(ids);
      const sizes = this.#db
        .q(
          `SELECT coalesce(sum(volume_size_gib), 0) AS gib,
             coalesce(sum((SELECT count(*) FROM snapshot_blocks b WHERE b.snapshot_id = s.id
               AND b.chunk_hash IS NOT NULL)), 0) AS blocks
           FROM snapshots s WHERE s.id IN (${set})`,
        )
        .get(ownerId, list) as Row;
      const sums = this.#db
        .q(
          `SELECT coalesce(sum(c.stored_bytes), 0) AS stored,
             coalesce(sum(CASE WHEN NOT EXISTS (SELECT 1 FROM snapshot_blocks o JOIN snapshots os
               ON os.id = o.snapshot_id WHERE o.chunk_hash = c.hash AND os.owner_id = ?
               AND o.snapshot_id NOT IN (${set})) THEN c.stored_bytes ELSE 0 END), 0) AS uniq
           FROM chunks c WHERE c.hash IN
             (SELECT chunk_hash FROM snapshot_blocks WHERE snapshot_id IN (${set}))`,
        )
        .get(ownerId, ownerId, list, ownerId, list) as Row;
      const stored = Number(sums.stored);
      const unique = Number(sums.uniq);
      return {
        logicalBytes: Number(sizes.gib) * GIB,
        dataBytes: Number(sizes.blocks) * BLOCK_SIZE,
        storedBytes: stored,
        uniqueBytes: unique,
        sharedBytes: stored - unique,
      };
    });
  }

  // Chunks

  async liveChunks(hashes: string[]): Promise<Set<string>> {
    return this.#db.exclusive(() => {
      const q = this.#db.q("SELECT 1 AS v FROM chunks WHERE hash = ?");
      return new Set(hashes.filter((h) => q.get(h)));
    });
  }

  async addChunks(chunks: ChunkRecord[]): Promise<void> {
    return this.#db.exclusive(() => {
      const ins = this.#db.q(
        "INSERT OR IGNORE INTO chunks (hash, stored_bytes, pack, pack_offset) VALUES (?, ?, ?, ?)",
      );
      const recorded = this.#db.q("UPDATE packs SET recorded = recorded + 1 WHERE id = ?");
      this.#db.transaction(() => {
        for (const c of chunks) {
          ins.run(c.hash, c.storedBytes, c.pack, c.offset);
          if (c.pack) recorded.run(c.pack);
        }
      });
    });
  }

  async dropUnreferencedChunks(candidates: string[]): Promise<string[]> {
    return this.#db.exclusive(() => {
      const del = this.#db.q(`DELETE FROM chunks AS c WHERE c.hash = ? AND ${NOT_REFERENCED}`);
      return this.#db.transaction(() => candidates.filter((h) => Number(del.run(h).changes) > 0));
    });
  }

  async unreferencedChunks(): Promise<string[]> {
    return this.#db.exclusive(() => {
      return this.#db.column(`SELECT hash AS v FROM chunks c WHERE ${NOT_REFERENCED}`) as string[];
    });
  }

  async chunkTotals(): Promise<{ chunks: number; storedBytes: number }> {
    return this.#db.exclusive(() => {
      const r = this.#db
        .q("SELECT count(*) AS n, coalesce(sum(stored_bytes), 0) AS b FROM chunks")
        .get() as Row;
      return { chunks: Number(r.n), storedBytes: Number(r.b) };
    });
  }

  lockChunks(hashes: Iterable<string>): Promise<() => void> {
    return this.#chunkLocks.acquireAll(hashes);
  }
}

function toVolume(r: Row): VolumeRecord {
  return {
    id: String(r.id),
    ownerId: String(r.owner_id),
    sizeGiB: Number(r.size_gib),
    state: r.state as VolumeState,
    availabilityZone: String(r.availability_zone),
    volumeType: String(r.volume_type),
    sourceSnapshotId: (r.source_snapshot_id as string | null) ?? null,
    lastSnapshotId: (r.last_snapshot_id as string | null) ?? null,
    createdAt: String(r.created_at),
    iops: r.iops === null || r.iops === undefined ? null : Number(r.iops),
    ...(r.host ? { host: String(r.host) } : {}),
    attachment: r.attached_instance
      ? {
          instanceId: String(r.attached_instance),
          device: String(r.attached_device),
          attachedAt: String(r.attached_at),
          deleteOnTermination: Number(r.delete_on_termination) === 1,
        }
      : null,
  };
}

function toSnapshot(r: Row): SnapshotRecord {
  return {
    id: String(r.id),
    ownerId: String(r.owner_id),
    volumeId: (r.volume_id as string | null) ?? null,
    volumeSizeGiB: Number(r.volume_size_gib),
    state: r.state as SnapshotRecord["state"],
    progress: Number(r.progress),
    parentSnapshotId: (r.parent_snapshot_id as string | null) ?? null,
    sourceRegion: (r.source_region as string | null) ?? null,
    sourceSnapshotId: (r.source_snapshot_id as string | null) ?? null,
    description: String(r.description),
    startedAt: String(r.started_at),
    completedAt: (r.completed_at as string | null) ?? null,
    stateMessage: (r.state_message as string | null) ?? null,
    blocksRead: Number(r.blocks_read),
    bytesStored: Number(r.bytes_stored),
    bytesTransferred: Number(r.bytes_transferred),
    expiresAt: (r.expires_at as string | null) ?? null,
    timeoutMinutes:
      r.timeout_minutes === null || r.timeout_minutes === undefined ? null : Number(r.timeout_minutes),
    ...(r.host ? { host: String(r.host) } : {}),
  };
}

function toBlockRef(r: Row): BlockRef {
  return { block: Number(r.block), hash: (r.chunk_hash as string | null) ?? null };
}
