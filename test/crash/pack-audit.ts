// The chunk store of one region read straight from disk and its database (read-only): every chunk
// row points at bytes of a sealed pack that decode to its hash, every pack file explains itself
// (its own index agrees with the rows pointing into it), and nothing is stored that no row knows.
// Shared by the crash harness's audit and the daemon tests' assertStoreConsistent.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { decodeChunk } from "../../src/storage/chunks/chunk-codec.ts";
import { PACK_HEADER_BYTES, type PackEntry, readPackIndex } from "../../src/storage/chunks/pack-format.ts";

type Row = Record<string, unknown>;

export interface StoredFile {
  path: string;
  size: number;
  /** Inode, mtime and size: a file written once and renamed into place keeps it. */
  stamp: string;
}

/** Pack files `<chunks>/packs/ab/<id>`, by id. */
export function packFiles(chunksDir: string): Map<string, StoredFile> {
  const out = new Map<string, StoredFile>();
  const packs = join(chunksDir, "packs");
  if (!existsSync(packs)) return out;
  for (const a of readdirSync(packs)) {
    for (const id of readdirSync(join(packs, a))) out.set(id, stored(join(packs, a, id)));
  }
  return out;
}

/** Chunk files of the format before packs, `<chunks>/ab/cd/<hash>`, by hash. */
export function legacyChunkFiles(chunksDir: string): Map<string, StoredFile> {
  const out = new Map<string, StoredFile>();
  if (!existsSync(chunksDir)) return out;
  for (const a of readdirSync(chunksDir)) {
    if (a === "tmp" || a === "packs") continue;
    for (const b of readdirSync(join(chunksDir, a))) {
      for (const key of readdirSync(join(chunksDir, a, b))) out.set(key, stored(join(chunksDir, a, b, key)));
    }
  }
  return out;
}

function stored(path: string): StoredFile {
  const st = statSync(path);
  return { path, size: st.size, stamp: `${st.ino}:${st.mtimeMs}:${st.size}` };
}

// Pack files are immutable once renamed into place: an index parsed, or a chunk range verified,
// at the same stamp (inode, mtime, size) need not be read again by the next audit.
const indexes = new Map<string, PackEntry[] | string>();
const verified = new Set<string>();

export interface Finding {
  what: string;
  items: string[];
}

/** Garbage the pack GC takes: packs whose put never sealed ('writing'), sealed packs no chunk row points into. */
export type GcGarbage = "unsealed" | "unrecorded" | "emptied";

const GARBAGE: Record<GcGarbage, string> = {
  unsealed: "packs whose put was never sealed ('writing')",
  // A writer died between the pack's seal and recording its chunks (a crash before the last
  // restart): deletes that empty it cannot know that no row will appear, so it waits for the GC.
  unrecorded: "sealed packs no chunk row points into, not all of whose chunks were recorded",
  // Deletes that empty such a pack remove it at once: only a crash between the two steps (swept
  // at the restart) or a repack (whose GC run then removes it) leaves one.
  emptied: "sealed packs no chunk row points into, every chunk of which was recorded",
};

export interface PackAudit {
  /** What must never be: missing or corrupt bytes, rows and files that disagree, leaked files. */
  problems: Finding[];
  /** Garbage the pack GC takes (the start-up sweep all of it at once). */
  awaitingGc: (Finding & { kind: GcGarbage })[];
  /** Bytes of the pack files (and chunk files of the format before packs). */
  fileBytes: number;
  /** Bytes of the chunks that rows point to. */
  liveBytes: number;
  /** Chunks no row points to any more, inside packs that still hold a live chunk. */
  deadBytes: number;
  /** Pack files no live chunk is in (GC garbage or leaked). */
  garbageBytes: number;
  /** Pack files that hold a live chunk. */
  livePacks: number;
  /** Packs (row or file) no live chunk is in: what a start-up sweep right now would remove. */
  garbageIds: string[];
  /** Every pack with a row or a file. */
  packIds: Set<string>;
}

interface ChunkRow {
  hash: string;
  length: number;
  pack: string | null;
  offset: number;
}

/** Audits the chunk store of the region whose chunk dir and (read-only) database are given. */
export function auditPacks(chunksDir: string, db: DatabaseSync): PackAudit {
  const problems = new Map<string, string[]>();
  const awaiting = new Map<GcGarbage, string[]>();
  const problem = (what: string, item: string) => problems.set(what, [...(problems.get(what) ?? []), item]);
  const garbage = (kind: GcGarbage, id: string) => awaiting.set(kind, [...(awaiting.get(kind) ?? []), id]);
  const chunks = (db.prepare("SELECT hash, stored_bytes, pack, pack_offset FROM chunks").all() as Row[]).map(
    (r): ChunkRow => ({
      hash: String(r.hash),
      length: Number(r.stored_bytes),
      pack: (r.pack as string | null) ?? null,
      offset: Number(r.pack_offset),
    }),
  );
  const packRows = new Map(
    (db.prepare("SELECT id, state, bytes, chunks, recorded FROM packs").all() as Row[]).map((r) => [
      String(r.id),
      {
        state: String(r.state),
        bytes: Number(r.bytes),
        chunks: Number(r.chunks),
        recorded: Number(r.recorded),
      },
    ]),
  );
  const files = packFiles(chunksDir);
  const legacy = legacyChunkFiles(chunksDir);
  const pointing = new Map<string, ChunkRow[]>();
  for (const c of chunks) if (c.pack !== null) pointing.set(c.pack, [...(pointing.get(c.pack) ?? []), c]);

  // Chunks stored alone (before packs): the file exists, has the row's size and decodes.
  for (const c of chunks.filter((c) => c.pack === null)) {
    const f = legacy.get(c.hash);
    if (!f) problem("chunk rows without bytes (no pack, no chunk file)", c.hash);
    else if (f.size !== c.length) problem("chunk files whose size is not their row's", c.hash);
    else if (!verified.has(`${f.stamp}:${c.hash}`)) {
      if (decodeChunk(c.hash, readFileSync(f.path))) verified.add(`${f.stamp}:${c.hash}`);
      else problem("chunks whose bytes do not decode to their SHA-256", c.hash);
    }
  }
  const legacyRows = new Set(chunks.filter((c) => c.pack === null).map((c) => c.hash));
  for (const key of legacy.keys())
    if (!legacyRows.has(key)) problem("chunk files without a row (leaked bytes)", key);

  let deadBytes = 0;
  let garbageBytes = 0;
  let livePacks = 0;
  for (const [id, rows] of pointing) {
    const row = packRows.get(id);
    const file = files.get(id);
    if (!row) {
      for (const c of rows) problem("chunk rows pointing into a pack without a row", `${c.hash} -> ${id}`);
      continue;
    }
    if (row.state !== "sealed")
      problem("chunk rows pointing into a pack that is not sealed", `${id} (${row.state})`);
    if (!file) {
      for (const c of rows) problem("chunk rows whose pack file is missing", `${c.hash} -> ${id}`);
      continue;
    }
    const index = packIndex(id, file);
    if (typeof index === "string") {
      problem("pack files that are not readable packs", `${id}: ${index}`);
      continue;
    }
    livePacks++;
    // The index: 44 bytes an entry (sha256, offset u64, length u32), then count u32 and magic (pack-format).
    const indexStart = file.size - (index.length * 44 + 12);
    const byHash = new Map(index.map((e) => [e.hash, e]));
    const toVerify: ChunkRow[] = [];
    for (const c of rows) {
      if (c.offset < PACK_HEADER_BYTES || c.offset + c.length > indexStart) {
        problem(
          "chunk rows whose range is outside their pack's chunks",
          `${c.hash} -> ${id}@${c.offset}+${c.length}`,
        );
        continue;
      }
      const e = byHash.get(c.hash);
      if (!e || e.offset !== c.offset || e.length !== c.length) {
        problem(
          "chunk rows their pack's own index disagrees with",
          `${c.hash} -> ${id}@${c.offset}+${c.length} (index: ${e ? `@${e.offset}+${e.length}` : "absent"})`,
        );
        continue;
      }
      if (!verified.has(rangeKey(file, c))) toVerify.push(c);
    }
    if (toVerify.length) {
      const bytes = readFileSync(file.path);
      for (const c of toVerify) {
        if (decodeChunk(c.hash, bytes.subarray(c.offset, c.offset + c.length)))
          verified.add(rangeKey(file, c));
        else problem("chunks whose bytes do not decode to their SHA-256", `${c.hash} -> ${id}@${c.offset}`);
      }
    }
    const live = new Set(rows.map((c) => c.hash));
    for (const e of index) if (!live.has(e.hash)) deadBytes += e.length;
  }

  for (const [id, file] of files) {
    const row = packRows.get(id);
    if (!row) {
      problem("pack files without a row (leaked bytes)", id);
      garbageBytes += file.size;
      continue;
    }
    const index = packIndex(id, file);
    // A put renames a whole, synced pack into place: even a 'writing' one is complete.
    if (typeof index === "string") problem("pack files that are not readable packs", `${id}: ${index}`);
    else if (row.state === "sealed") {
      if (file.size !== row.bytes)
        problem("pack files whose size is not their row's", `${id}: ${file.size} != ${row.bytes}`);
      if (index.length !== row.chunks)
        problem(
          "pack files whose index counts other chunks than their row",
          `${id}: ${index.length} != ${row.chunks}`,
        );
      const sorted = [...index].sort((x, y) => x.offset - y.offset);
      if (sorted.some((e, i) => i > 0 && e.offset < sorted[i - 1].offset + sorted[i - 1].length))
        problem("pack files whose index has overlapping chunks", id);
      if (new Set(index.map((e) => e.hash)).size !== index.length)
        problem("pack files holding a chunk twice", id);
    }
    if (!pointing.has(id)) garbageBytes += file.size;
  }
  for (const [id, row] of packRows) {
    if (row.state === "sealed" && !files.has(id)) problem("sealed pack rows whose file is missing", id);
    else if (row.state === "writing") garbage("unsealed", id);
    else if (row.state !== "sealed") problem("pack rows in an unknown state", `${id} (${row.state})`);
    else if (!pointing.has(id)) garbage(row.recorded >= row.chunks ? "emptied" : "unrecorded", id);
  }

  let fileBytes = 0;
  for (const f of [...files.values(), ...legacy.values()]) fileBytes += f.size;
  return {
    problems: [...problems].map(([what, items]) => ({ what, items })),
    awaitingGc: [...awaiting].map(([kind, items]) => ({ kind, what: GARBAGE[kind], items })),
    fileBytes,
    liveBytes: chunks.reduce((s, c) => s + c.length, 0),
    deadBytes,
    garbageBytes,
    livePacks,
    garbageIds: [...new Set([...packRows.keys(), ...files.keys()])].filter((id) => !pointing.has(id)),
    packIds: new Set([...packRows.keys(), ...files.keys()]),
  };
}

function rangeKey(file: StoredFile, c: ChunkRow): string {
  return `${file.stamp}:${c.hash}:${c.offset}:${c.length}`;
}

/** The pack's own index (cached per file stamp), or why it cannot be read. */
function packIndex(id: string, file: StoredFile): PackEntry[] | string {
  const key = `${id}:${file.stamp}`;
  let index = indexes.get(key);
  if (index === undefined) {
    try {
      index = readPackIndex(readFileSync(file.path));
    } catch (e) {
      index = (e as Error).message;
    }
    indexes.set(key, index);
  }
  return index;
}
