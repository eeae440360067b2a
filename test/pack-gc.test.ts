// Packs and their garbage collection through the real engine: deletes give space back, mostly dead
// packs are rewritten, the grace period protects puts in flight, and a snapshot storing content a
// delete is freeing at the same moment never ends up pointing at bytes that are gone.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Engine } from "../src/services/engine.ts";
import type { Region } from "../src/services/regions/region.ts";
import { BLOCK_SIZE, seededBytes, sha256, tempDir } from "./helpers.ts";

const dataDir = tempDir();
let engine: Engine;
let r: Region;

before(async () => {
  engine = await Engine.open({ dataDir, regions: ["us-east-1"] });
  r = engine.region("us-east-1");
});
after(() => engine.close());

async function packIds(): Promise<string[]> {
  const ids: string[] = [];
  for await (const p of r.blocks.packs.list()) ids.push(p.id);
  return ids.sort();
}

async function volumeWith(blocks: Map<number, Buffer>) {
  const v = await r.volumes.create({ sizeGiB: 1 });
  const h = await r.volumes.handle(v.id);
  for (const [i, data] of blocks) await h.write(i * BLOCK_SIZE, data);
  return { v, h };
}

async function snapshot(volumeId: string) {
  const s = await r.snapshots.wait((await r.snapshots.create(volumeId)).id);
  assert.equal(s.state, "completed", s.stateMessage ?? "");
  return s;
}

/** The SHA-256 of each block of a volume restored from the snapshot. */
async function restoredHashes(snapshotId: string, blocks: number[]): Promise<string[]> {
  const v = await r.volumes.create({ snapshotId });
  const h = await r.volumes.handle(v.id);
  const out = [];
  for (const b of blocks) out.push(sha256(await h.read(b * BLOCK_SIZE, BLOCK_SIZE)));
  await r.volumes.delete(v.id);
  return out;
}

const blocksOf = (seed: string, n: number) =>
  new Map(Array.from({ length: n }, (_, i) => [i, seededBytes(`${seed}-${i}`, BLOCK_SIZE)] as const));

describe("packs", () => {
  test("a snapshot's chunks go into one pack, and deleting it gives the pack back at once", async () => {
    const before = await packIds();
    const { v } = await volumeWith(blocksOf("one-pack", 12));
    const s = await snapshot(v.id);
    const added = (await packIds()).filter((p) => !before.includes(p));
    assert.equal(added.length, 1, "12 chunks of 512 KiB fit one 16 MiB pack");
    await r.volumes.delete(v.id);
    await r.snapshots.delete(s.id);
    assert.deepEqual(await packIds(), before);
  });

  test("a mostly dead pack is rewritten with its live chunks only, which still read back", async () => {
    const first = blocksOf("repack", 10);
    const { v, h } = await volumeWith(first);
    const s1 = await snapshot(v.id);
    const [pack] = (await r.blocks.index.locate([sha256(first.get(0)!)])).values();
    // Overwrite 8 of the 10 blocks; once s1 goes, 2 of its pack's 10 chunks are live.
    const second = new Map(first);
    for (let i = 2; i < 10; i++) second.set(i, seededBytes(`repack-new-${i}`, BLOCK_SIZE));
    for (let i = 2; i < 10; i++) await h.write(i * BLOCK_SIZE, second.get(i)!);
    const s2 = await snapshot(v.id);
    await r.snapshots.delete(s1.id);
    assert.ok((await packIds()).includes(pack.pack!), "the pack still holds 2 live chunks");
    const gc = await r.collectGarbage({ graceMs: 0 });
    assert.ok(gc.repacked >= 1, JSON.stringify(gc));
    assert.ok(!(await packIds()).includes(pack.pack!), "the sparse pack is gone");
    const moved = (await r.blocks.index.locate([sha256(first.get(0)!)])).get(sha256(first.get(0)!));
    assert.notEqual(moved?.pack, pack.pack);
    assert.deepEqual(
      await restoredHashes(s2.id, [...second.keys()]),
      [...second.values()].map((b) => sha256(b)),
    );
    await r.volumes.delete(v.id);
    await r.snapshots.delete(s2.id);
  });

  test("the grace period keeps a put in flight and an unknown pack; past it both go", async () => {
    const before = await packIds();
    // A pack whose put began (its row) but whose chunks are not recorded yet, and a stored pack
    // that no row knows (a put whose row was lost): within the grace period, both stay.
    const writing = randomBytes(16).toString("hex");
    await r.blocks.index.beginPack(writing, Date.now());
    await r.blocks.packs.put(writing, Buffer.from("in flight"));
    const unknown = randomBytes(16).toString("hex");
    await r.blocks.packs.put(unknown, Buffer.from("no row"));
    const kept = await r.collectGarbage({ graceMs: 60_000 });
    assert.equal(kept.packs + kept.orphans, 0);
    assert.deepEqual(await packIds(), [...before, writing, unknown].sort());
    const gone = await r.collectGarbage({ graceMs: 0 });
    assert.equal(gone.packs, 1);
    assert.equal(gone.orphans, 1);
    assert.deepEqual(await packIds(), before);
  });

  test("a snapshot storing the content a delete is freeing keeps it, whatever the timing", async () => {
    for (let round = 0; round < 12; round++) {
      const content = blocksOf(`race-${round}`, 4);
      const a = await volumeWith(content);
      const sa = await snapshot(a.v.id);
      await r.volumes.delete(a.v.id);
      const b = await volumeWith(content);
      // The delete frees exactly the chunks b's snapshot is storing at the same time.
      const [sb] = await Promise.all([
        new Promise((res) => setTimeout(res, round % 4)).then(() => snapshot(b.v.id)),
        new Promise((res) => setTimeout(res, 3 - (round % 4))).then(() => r.snapshots.delete(sa.id)),
        round % 3 === 0 ? r.collectGarbage() : Promise.resolve(),
      ]);
      await r.volumes.delete(b.v.id);
      assert.deepEqual(
        await restoredHashes(sb.id, [0, 1, 2, 3]),
        [...content.values()].map((x) => sha256(x)),
        `round ${round}`,
      );
      await r.snapshots.delete(sb.id);
    }
  });
});
