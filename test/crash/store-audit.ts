// What a crash must never leave on disk, read straight from the files (the metadata databases
// read-only, the chunk files decoded and hashed), so a bug in the engine's own checks cannot hide
// itself. Each check returns problems as sentences instead of throwing: a trial reports them all.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { auditPacks, type GcGarbage, packFiles } from "./pack-audit.ts";

type Row = Record<string, unknown>;

export function regionNames(dataDir: string): string[] {
  const dir = join(dataDir, "regions");
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

function withDb<T>(dataDir: string, region: string, fn: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(join(dataDir, "regions", region, "metadata.db"), { readOnly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function column(db: DatabaseSync, sql: string, ...params: string[]): string[] {
  return (db.prepare(sql).all(...params) as Row[]).map((r) => String(r.v));
}

export function tempFiles(dataDir: string): string[] {
  return regionNames(dataDir).flatMap((r) => {
    const tmp = join(dataDir, "regions", r, "chunks", "tmp");
    return existsSync(tmp) ? readdirSync(tmp).map((n) => `${r}/chunks/tmp/${n}`) : [];
  });
}

export interface AuditOptions {
  /** Quiescent: no snapshot may still be pending (a trial's work has settled). */
  noPending?: boolean;
  /**
   * Garbage the pack GC may still have to take because the daemon ran since its last start-up
   * sweep (which takes all of it at once): "unsealed" packs (a put that failed, e.g. on a full
   * disk), "unrecorded" ones (emptied by deletes since the restart, but a crash before it had cut
   * off the recording of some of their chunks), "emptied" ones (see pack-audit.ts). Any other is a
   * problem.
   */
  awaitingGc?: GcGarbage[];
}

/**
 * Every region: every chunk row points into a sealed pack whose file holds, at the row's range
 * (inside its chunks, where the pack's own index says), bytes that decode to content with its
 * SHA-256; no pack file without a row; no garbage packs but those `awaitingGc` allows; no
 * temp files, no completed snapshot misses a chunk, no chunk row is
 * unreferenced, no row belongs to a resource that is gone, failed snapshots pin nothing, and
 * volume directories match volume rows.
 */
export function auditStore(dataDir: string, options: AuditOptions = {}): string[] {
  const problems: string[] = [];
  const say = (region: string, what: string, items: unknown[]) => {
    if (items.length)
      problems.push(
        `${region}: ${what}: ${items.slice(0, 5).join(", ")}${items.length > 5 ? ` (+${items.length - 5})` : ""}`,
      );
  };
  for (const region of regionNames(dataDir)) {
    const dir = join(dataDir, "regions", region);
    withDb(dataDir, region, (db) => {
      const packs = auditPacks(join(dir, "chunks"), db);
      for (const p of packs.problems) say(region, p.what, p.items);
      for (const g of packs.awaitingGc)
        if (!options.awaitingGc?.includes(g.kind))
          say(region, `${g.what} (garbage the sweep takes)`, g.items);
      say(
        region,
        "temp files",
        tempFiles(dataDir).filter((t) => t.startsWith(`${region}/`)),
      );
      say(
        region,
        "completed snapshots referencing a missing chunk",
        column(
          db,
          `SELECT DISTINCT s.id || ' -> ' || b.chunk_hash AS v FROM snapshots s JOIN snapshot_blocks b ON b.snapshot_id = s.id
           WHERE s.state = 'completed' AND b.chunk_hash IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.hash = b.chunk_hash)`,
        ),
      );
      say(
        region,
        "volumes referencing a missing chunk",
        column(
          db,
          `SELECT DISTINCT v.volume_id || ' -> ' || v.chunk_hash AS v FROM volume_blocks v
           WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.hash = v.chunk_hash)`,
        ),
      );
      say(
        region,
        "unreferenced chunk rows (leaked)",
        column(
          db,
          `SELECT hash AS v FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM snapshot_blocks s WHERE s.chunk_hash = c.hash)
           AND NOT EXISTS (SELECT 1 FROM volume_blocks v WHERE v.chunk_hash = c.hash)`,
        ),
      );
      say(
        region,
        "block map rows of deleted snapshots",
        column(
          db,
          "SELECT DISTINCT snapshot_id AS v FROM snapshot_blocks b WHERE NOT EXISTS (SELECT 1 FROM snapshots s WHERE s.id = b.snapshot_id)",
        ),
      );
      say(
        region,
        "failed snapshots still holding block references",
        column(
          db,
          "SELECT DISTINCT s.id AS v FROM snapshots s JOIN snapshot_blocks b ON b.snapshot_id = s.id WHERE s.state = 'error'",
        ),
      );
      say(
        region,
        "volume rows (blocks, dirty sets) of deleted volumes",
        column(
          db,
          `SELECT DISTINCT volume_id AS v FROM (SELECT volume_id FROM volume_blocks UNION ALL SELECT volume_id FROM volume_dirty) x
           WHERE NOT EXISTS (SELECT 1 FROM volumes v WHERE v.id = x.volume_id)`,
        ),
      );
      say(
        region,
        "dirty sets frozen into a snapshot that is not pending",
        column(
          db,
          `SELECT DISTINCT gen AS v FROM volume_dirty d WHERE gen != ''
           AND NOT EXISTS (SELECT 1 FROM snapshots s WHERE s.id = d.gen AND s.state = 'pending')`,
        ),
      );
      say(
        region,
        "image rows of deregistered images",
        column(
          db,
          "SELECT DISTINCT image_id AS v FROM image_snapshots i WHERE NOT EXISTS (SELECT 1 FROM images m WHERE m.id = i.image_id)",
        ),
      );
      say(
        region,
        "tags or permissions of deleted resources",
        column(
          db,
          `SELECT DISTINCT resource_id AS v FROM (SELECT resource_id FROM tags UNION ALL SELECT resource_id FROM permissions) x
           WHERE (resource_id LIKE 'vol-%' AND NOT EXISTS (SELECT 1 FROM volumes WHERE id = resource_id))
              OR (resource_id LIKE 'snap-%' AND NOT EXISTS (SELECT 1 FROM snapshots WHERE id = resource_id))
              OR (resource_id LIKE 'ami-%' AND NOT EXISTS (SELECT 1 FROM images WHERE id = resource_id))`,
        ),
      );
      if (options.noPending) {
        say(
          region,
          "snapshots still pending",
          column(db, "SELECT id AS v FROM snapshots WHERE state = 'pending'"),
        );
        say(region, "images still pending", column(db, "SELECT id AS v FROM images WHERE state = 'pending'"));
      }
      const volumes = column(db, "SELECT id AS v FROM volumes").sort();
      const volumeDirs = existsSync(join(dir, "volumes")) ? readdirSync(join(dir, "volumes")).sort() : [];
      say(
        region,
        "volume directories without a volume",
        volumeDirs.filter((d) => !volumes.includes(d)),
      );
      say(
        region,
        "volumes without a directory",
        volumes.filter((v) => !volumeDirs.includes(v)),
      );
    });
  }
  return problems;
}

/** Packs (rows or files) no live chunk is in, as "region/id": the garbage a crash left. */
export function garbagePacks(dataDir: string): Set<string> {
  const out = new Set<string>();
  for (const region of regionNames(dataDir)) {
    const packs = withDb(dataDir, region, (db) => auditPacks(join(dataDir, "regions", region, "chunks"), db));
    for (const id of packs.garbageIds) out.add(`${region}/${id}`);
  }
  return out;
}

/** Of the garbage a crash left, what is still stored after the restart: its sweep must take all. */
export function unswept(dataDir: string, garbage: Set<string>): string[] {
  const problems: string[] = [];
  for (const region of regionNames(dataDir)) {
    const packs = withDb(dataDir, region, (db) => auditPacks(join(dataDir, "regions", region, "chunks"), db));
    const left = [...packs.packIds].filter((id) => garbage.has(`${region}/${id}`));
    if (left.length)
      problems.push(
        `${region}: packs the crash left as garbage that the start-up sweep did not take: ${left.join(", ")}`,
      );
  }
  return problems;
}

/** A snapshot's block map as stored: block -> SHA-256 of its content (non-zero blocks only). */
export function storedSnapshotMap(dataDir: string, region: string, id: string): Map<number, string> {
  return withDb(
    dataDir,
    region,
    (db) =>
      new Map(
        (
          db
            .prepare(
              "SELECT block, chunk_hash FROM snapshot_blocks WHERE snapshot_id = ? AND chunk_hash IS NOT NULL",
            )
            .all(id) as Row[]
        ).map((r) => [Number(r.block), String(r.chunk_hash)]),
      ),
  );
}

/** The chunk rows of a region (what its store keeps). */
export function chunkRows(dataDir: string, region: string): Set<string> {
  return withDb(dataDir, region, (db) => new Set(column(db, "SELECT hash AS v FROM chunks")));
}

/** Blocks of a restored volume not yet copied to local disk. */
export function remoteBlocks(dataDir: string, region: string, volumeId: string): number {
  return withDb(dataDir, region, (db) =>
    Number(
      (
        db
          .prepare("SELECT count(*) AS n FROM volume_blocks WHERE volume_id = ? AND local = 0")
          .get(volumeId) as Row
      ).n,
    ),
  );
}

export interface StoreTotals {
  chunks: number;
  chunkBytes: number;
  /** Bytes of the pack files: chunkBytes, plus dead and garbage bytes, plus headers and indexes. */
  fileBytes: number;
  packs: number;
  /** Chunks no row points to any more inside packs that hold a live chunk (repack reclaims them). */
  deadBytes: number;
  /** Pack files no live chunk is in (waiting for the pack GC, or leaked). */
  garbageBytes: number;
  snapshots: number;
  volumes: number;
  images: number;
  blockRows: number;
  /** The metadata databases' files (with their write-ahead logs). */
  dbBytes: number;
}

/** Sizes of what the store holds, summed over regions (for the growth check and the summary). */
export function storeTotals(dataDir: string, regions = regionNames(dataDir)): StoreTotals {
  const t: StoreTotals = {
    dbBytes: 0,
    chunks: 0,
    chunkBytes: 0,
    fileBytes: 0,
    packs: 0,
    deadBytes: 0,
    garbageBytes: 0,
    snapshots: 0,
    volumes: 0,
    images: 0,
    blockRows: 0,
  };
  for (const region of regions) {
    t.packs += packFiles(join(dataDir, "regions", region, "chunks")).size;
    for (const suffix of ["", "-wal"]) {
      const db = join(dataDir, "regions", region, `metadata.db${suffix}`);
      if (existsSync(db)) t.dbBytes += statSync(db).size;
    }
    withDb(dataDir, region, (db) => {
      const packs = auditPacks(join(dataDir, "regions", region, "chunks"), db);
      t.fileBytes += packs.fileBytes;
      t.deadBytes += packs.deadBytes;
      t.garbageBytes += packs.garbageBytes;
      const n = (sql: string) => Number((db.prepare(sql).get() as Row).n);
      t.chunks += n("SELECT count(*) AS n FROM chunks");
      t.chunkBytes += n("SELECT coalesce(sum(stored_bytes), 0) AS n FROM chunks");
      t.snapshots += n("SELECT count(*) AS n FROM snapshots");
      t.volumes += n("SELECT count(*) AS n FROM volumes");
      t.images += n("SELECT count(*) AS n FROM images");
      t.blockRows += n(
        "SELECT (SELECT count(*) FROM snapshot_blocks) + (SELECT count(*) FROM volume_blocks) + (SELECT count(*) FROM volume_dirty) AS n",
      );
    });
  }
  return t;
}

export interface StoredSnapshot {
  id: string;
  state: string;
  description: string;
  volumeId: string | null;
  sourceSnapshotId: string | null;
  stateMessage: string | null;
}

export interface StoredResources {
  snapshots: StoredSnapshot[];
  volumes: { id: string; sourceSnapshotId: string | null }[];
  images: { id: string; name: string; state: string; snapshotIds: string[] }[];
}

/** The snapshots, volumes and images of a region, as its database holds them. */
export function storedResources(dataDir: string, region: string): StoredResources {
  return withDb(dataDir, region, (db) => ({
    snapshots: (db.prepare("SELECT * FROM snapshots ORDER BY id").all() as Row[]).map((r) => ({
      id: String(r.id),
      state: String(r.state),
      description: String(r.description),
      volumeId: (r.volume_id as string | null) ?? null,
      sourceSnapshotId: (r.source_snapshot_id as string | null) ?? null,
      stateMessage: (r.state_message as string | null) ?? null,
    })),
    volumes: (db.prepare("SELECT id, source_snapshot_id FROM volumes ORDER BY id").all() as Row[]).map(
      (r) => ({
        id: String(r.id),
        sourceSnapshotId: (r.source_snapshot_id as string | null) ?? null,
      }),
    ),
    images: (db.prepare("SELECT id, name, state FROM images ORDER BY id").all() as Row[]).map((r) => ({
      id: String(r.id),
      name: String(r.name),
      state: String(r.state),
      snapshotIds: column(
        db,
        "SELECT snapshot_id AS v FROM image_snapshots WHERE image_id = ?",
        String(r.id),
      ),
    })),
  }));
}

/** QEMU processes (and their setpriv wrappers) started for this data dir. */
export function qemuProcesses(dataDir: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      continue;
    }
    if (cmdline.includes("qemu-system") && cmdline.includes(dataDir))
      out.push(`${pid}: ${cmdline.slice(0, 120)}`);
  }
  return out;
}
