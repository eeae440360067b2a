// The store audit (test/crash/pack-audit.ts, behind auditStore and assertStoreConsistent) must
// see what it is there to see: each kind of damage done to a copy of a real store is reported,
// and an intact store passes. Otherwise a green crash run would prove nothing.
import assert from "node:assert/strict";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { before, test } from "node:test";
import { auditStore, storeTotals } from "./crash/store-audit.ts";
import { assertStoreConsistent, startDaemon } from "./daemon.ts";
import { BLOCK_SIZE, MiB, seededBytes, tempDir } from "./helpers.ts";

const REGION = "us-east-1";
const original = tempDir("strata-audit-");

before(async () => {
  const daemon = await startDaemon(original, REGION);
  try {
    const c = daemon.client();
    const v = (await c.createVolume({ sizeGiB: 1 })) as { id: string };
    await c.write(v.id, 0, seededBytes("audit", 4 * MiB));
    const first = (await c.createSnapshot(v.id)) as { id: string };
    assert.equal(((await c.getSnapshot(first.id, true)) as { state: string }).state, "completed");
    // Two blocks rewritten and snapshotted again, the first snapshot deleted: its two chunks of
    // those blocks are dead bytes inside a pack whose other chunks live on.
    await c.write(v.id, 0, seededBytes("audit-2", 2 * BLOCK_SIZE));
    const second = (await c.createSnapshot(v.id)) as { id: string };
    assert.equal(((await c.getSnapshot(second.id, true)) as { state: string }).state, "completed");
    await c.deleteSnapshot(first.id);
    await c.deleteVolume(v.id);
  } finally {
    await daemon.kill("SIGTERM");
  }
});

/** A copy of the store, damaged by `damage` (given its region dir and its database, writable). */
function damaged(damage: (regionDir: string, db: DatabaseSync) => void): string {
  const dir = tempDir("strata-audit-copy-");
  cpSync(original, dir, { recursive: true });
  const regionDir = join(dir, "regions", REGION);
  const db = new DatabaseSync(join(regionDir, "metadata.db"));
  try {
    damage(regionDir, db);
  } finally {
    db.close();
  }
  return dir;
}

const onePack = (db: DatabaseSync) =>
  db.prepare("SELECT pack, pack_offset, stored_bytes FROM chunks LIMIT 1").get() as {
    pack: string;
    pack_offset: number;
    stored_bytes: number;
  };
const packPath = (regionDir: string, id: string) => join(regionDir, "chunks", "packs", id.slice(0, 2), id);

function assertReports(dir: string, pattern: RegExp, options = {}): void {
  const problems = auditStore(dir, { noPending: true, ...options });
  assert.ok(
    problems.some((p) => pattern.test(p)),
    `expected ${pattern}, got: ${JSON.stringify(problems)}`,
  );
  assert.throws(() => assertStoreConsistent(dir));
}

test("an intact store passes both audits; dead bytes in a live pack are counted, not refused", () => {
  assert.deepEqual(auditStore(original, { noPending: true }), []);
  assertStoreConsistent(original);
  const t = storeTotals(original);
  assert.equal(t.chunks, 8, "the second snapshot's 8 chunks");
  assert.equal(t.packs, 2, "the first snapshot's pack and the second's");
  assert.equal(t.garbageBytes, 0);
  // Random data does not compress: each dead chunk is a block and a few bytes of framing.
  assert.ok(
    t.deadBytes >= 2 * BLOCK_SIZE && t.deadBytes < 2 * BLOCK_SIZE + 1024,
    `${t.deadBytes} dead bytes`,
  );
  assert.ok(t.fileBytes > t.chunkBytes + t.deadBytes, "headers and indexes on top");
});

test("a flipped byte inside a live chunk: its bytes no longer decode to its hash", () => {
  const dir = damaged((r, db) => {
    const c = onePack(db);
    const bytes = readFileSync(packPath(r, c.pack));
    bytes[c.pack_offset + Math.floor(c.stored_bytes / 2)] ^= 0xff;
    writeFileSync(packPath(r, c.pack), bytes);
  });
  assertReports(dir, /do not decode to their SHA-256/);
});

test("a chunk row pointing elsewhere than its pack's own index says", () => {
  const dir = damaged((_r, db) => {
    // A pack's first chunk: moved by a byte its range stays among the chunks (a last chunk's
    // would reach into the index, which the audit reports as another problem).
    const c = db
      .prepare(
        "SELECT pack, MIN(pack_offset) AS pack_offset FROM chunks GROUP BY pack HAVING COUNT(*) > 1 LIMIT 1",
      )
      .get() as {
      pack: string;
      pack_offset: number;
    };
    db.prepare("UPDATE chunks SET pack_offset = pack_offset + 1 WHERE pack = ? AND pack_offset = ?").run(
      c.pack,
      c.pack_offset,
    );
  });
  assertReports(dir, /index disagrees/);
});

test("a pack file gone, or emptied, under its rows", () => {
  assertReports(
    damaged((r, db) => rmSync(packPath(r, onePack(db).pack))),
    /chunk rows whose pack file is missing/,
  );
  assertReports(
    damaged((r, db) => writeFileSync(packPath(r, onePack(db).pack), "")),
    /not readable packs/,
  );
});

test("a pack file no row knows: leaked bytes", () => {
  const dir = damaged((r, db) => {
    mkdirSync(join(packPath(r, "ab".repeat(16)), ".."), { recursive: true });
    cpSync(packPath(r, onePack(db).pack), packPath(r, "ab".repeat(16)));
  });
  assertReports(dir, /pack files without a row \(leaked bytes\)/);
});

test("garbage awaiting the GC: refused unless the call site allows it", () => {
  const dir = damaged((_r, db) => {
    db.prepare("INSERT INTO packs (id, state, bytes, at) VALUES (?, 'writing', 0, 0)").run("cd".repeat(16));
  });
  assert.deepEqual(auditStore(dir, { noPending: true }).filter((p) => /never sealed/.test(p)).length, 1);
  assert.deepEqual(auditStore(dir, { noPending: true, awaitingGc: ["unsealed"] }), []);
  assertStoreConsistent(dir);
  // A sealed pack whose chunk rows were dropped: the GC's if not all of its chunks were recorded,
  // else it should have gone at once (the daemon-test audit refuses that too).
  const unrecorded = damaged((_r, db) => {
    const { pack } = onePack(db);
    db.prepare("DELETE FROM chunks WHERE pack = ?").run(pack);
    db.prepare("UPDATE packs SET recorded = chunks - 1 WHERE id = ?").run(pack);
  });
  assert.ok(auditStore(unrecorded).some((p) => /not all of whose chunks were recorded/.test(p)));
  assert.deepEqual(
    auditStore(unrecorded, { awaitingGc: ["unrecorded"] }).filter((p) => /pack/.test(p)),
    [],
  );
  const emptied = damaged((_r, db) => db.prepare("DELETE FROM chunks WHERE pack = ?").run(onePack(db).pack));
  assert.ok(auditStore(emptied, { awaitingGc: ["unrecorded"] }).some((p) => /every chunk of which/.test(p)));
  assert.throws(() => assertStoreConsistent(emptied), /should have gone at once/);
});
