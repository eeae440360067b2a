// A data dir written before packs existed (one file per chunk under chunks/ab/cd/<hash>): after the
// upgrade its snapshots restore byte for byte, and deleting them frees the old files.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { Engine } from "../src/services/engine.ts";
import { BLOCK_SIZE, seededBytes, sha256, tempDir } from "./helpers.ts";

test("chunks stored one file each (the format before packs) are read and freed after the upgrade", async () => {
  const dataDir = tempDir();
  const blocks = Array.from({ length: 6 }, (_, i) => seededBytes(`legacy-${i}`, BLOCK_SIZE));
  let engine = await Engine.open({ dataDir, regions: ["us-east-1"] });
  let r = engine.region("us-east-1");
  const v = await r.volumes.create({ sizeGiB: 1 });
  const h = await r.volumes.handle(v.id);
  for (const [i, b] of blocks.entries()) await h.write(i * BLOCK_SIZE, b);
  const s = await r.snapshots.wait((await r.snapshots.create(v.id)).id);
  await r.volumes.delete(v.id);
  // Rewrite the store as an older Strata left it: every chunk a file of its own, no packs.
  const chunksDir = join(dataDir, "regions", "us-east-1", "chunks");
  const hashes = blocks.map((b) => sha256(b));
  const encoded = await Promise.all(hashes.map((k) => r.blocks.readEncoded(k)));
  await engine.close();
  const db = new DatabaseSync(join(dataDir, "regions", "us-east-1", "metadata.db"));
  for (const [i, k] of hashes.entries()) {
    mkdirSync(join(chunksDir, k.slice(0, 2), k.slice(2, 4)), { recursive: true });
    writeFileSync(join(chunksDir, k.slice(0, 2), k.slice(2, 4), k), encoded[i]);
  }
  db.exec("UPDATE chunks SET pack = NULL, pack_offset = 0; DELETE FROM packs;");
  db.close();
  rmSync(join(chunksDir, "packs"), { recursive: true, force: true });

  engine = await Engine.open({ dataDir, regions: ["us-east-1"] });
  try {
    r = engine.region("us-east-1");
    const restored = await r.volumes.handle((await r.volumes.create({ snapshotId: s.id })).id);
    for (const [i, b] of blocks.entries()) {
      assert.equal(sha256(await restored.read(i * BLOCK_SIZE, BLOCK_SIZE)), sha256(b), `block ${i}`);
    }
    await r.volumes.delete(restored.id);
    await r.snapshots.delete(s.id);
    const left = hashes.filter((k) => existsSync(join(chunksDir, k.slice(0, 2), k.slice(2, 4), k)));
    assert.deepEqual(left, [], "the old chunk files went with their rows");
    assert.equal((await r.meta.chunkTotals()).chunks, 0);
    assert.ok(
      !readdirSync(chunksDir).includes("packs") || readdirSync(join(chunksDir, "packs")).length === 0,
    );
  } finally {
    await engine.close();
  }
});
