// What every PackIndex must do, checked through the interface, with chunk rows added through the
// MetadataStore of the same database (as the chunk writers do). Each test gets a fresh database,
// since the GC queries look at every pack.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { ChunkRecord, MetadataStore } from "../../src/storage/metadata/metadata-store.ts";
import type { PackIndex } from "../../src/storage/metadata/pack-index.ts";
import { type Open, type Opened, uid } from "./harness.ts";
import { hash, type PackStores } from "./metadata-fixtures.ts";

const chunk = (pack: string | null, offset: number, storedBytes: number): ChunkRecord => ({
  hash: hash(),
  storedBytes,
  pack,
  offset,
});

export function packIndexContract(name: string, open: Open<PackStores>): void {
  describe(`PackIndex contract: ${name}`, () => {
    let h: Opened<PackStores>;
    let p: PackIndex;
    let meta: MetadataStore;
    beforeEach(async () => {
      h = await open();
      p = h.store.index;
      meta = h.store.meta;
    });
    afterEach(() => h.close());

    /** A sealed pack holding chunks of these sizes back to back, all recorded. */
    async function sealed(sizes: number[], bytes: number, at: number): Promise<[string, ChunkRecord[]]> {
      const id = uid("pack");
      await p.beginPack(id, at - 1);
      let offset = 0;
      const chunks = sizes.map((n) => {
        const c = chunk(id, offset, n);
        offset += n;
        return c;
      });
      await p.sealPack(id, bytes, chunks.length, at);
      await meta.addChunks(chunks);
      return [id, chunks];
    }

    it("locates recorded chunks (packed or stored alone) in the order asked", async () => {
      const [id, [a, b]] = await sealed([100, 250], 350, 1000);
      const legacy = chunk(null, 0, 42);
      await meta.addChunks([legacy]);
      const absent = hash();
      const found = await p.locate([b.hash, absent, legacy.hash, a.hash]);
      assert.deepEqual(
        [...found],
        [
          [b.hash, { pack: id, offset: 100, length: 250 }],
          [legacy.hash, { pack: null, offset: 0, length: 42 }],
          [a.hash, { pack: id, offset: 0, length: 100 }],
        ],
      );
      assert.deepEqual(await p.chunksIn(id), [
        { hash: a.hash, pack: id, offset: 0, length: 100 },
        { hash: b.hash, pack: id, offset: 100, length: 250 },
      ]);
      assert.deepEqual(await p.locate([]), new Map());
    });

    it("deadPacks: packs nothing points to, sealed (or begun) before the cutoff, oldest first", async () => {
      const writing = uid("pack");
      await p.beginPack(writing, 1000);
      const [live] = await sealed([10], 10, 2000);
      const [emptied, [x]] = await sealed([10], 10, 3000);
      const [late] = await sealed([], 0, 9000);
      assert.deepEqual(await p.deadPacks(500), []);
      assert.deepEqual(await p.deadPacks(2500), [writing]);
      assert.deepEqual(await meta.dropUnreferencedChunks([x.hash]), [x.hash]);
      assert.deepEqual(await p.deadPacks(9000), [writing, emptied]);
      assert.deepEqual(await p.deadPacks(9001), [writing, emptied, late]);
      assert.deepEqual(
        await p.knownPacks([late, "pack-gone", live, writing]),
        new Set([late, live, writing]),
      );
    });

    it("forgetPack deletes a pack's row only while no chunk points to it", async () => {
      const [id, [x, y]] = await sealed([10, 20], 30, 1000);
      assert.equal(await p.forgetPack(id), false);
      await meta.dropUnreferencedChunks([x.hash]);
      assert.equal(await p.forgetPack(id), false);
      await meta.dropUnreferencedChunks([y.hash]);
      assert.equal(await p.forgetPack(id), true);
      assert.equal(await p.forgetPack(id), false);
      assert.deepEqual(await p.knownPacks([id]), new Set());
    });

    it("forgetEmptiedPack goes only for a sealed pack every chunk of which was recorded", async () => {
      const id = uid("pack");
      await p.beginPack(id, 1000);
      const [x, y] = [chunk(id, 0, 10), chunk(id, 10, 10)];
      assert.equal(await p.forgetEmptiedPack(id), false); // still being written
      await p.sealPack(id, 20, 2, 1001);
      await meta.addChunks([x]);
      await meta.dropUnreferencedChunks([x.hash]);
      assert.equal(await p.forgetEmptiedPack(id), false); // y's writer may still add its row
      // A writer that found y already stored (another pack) is done with it too: recorded counts it.
      const elsewhere = { ...y, pack: null, offset: 0 };
      await meta.addChunks([elsewhere]);
      await meta.addChunks([y]);
      assert.deepEqual(await p.locate([y.hash]), new Map([[y.hash, { pack: null, offset: 0, length: 10 }]]));
      assert.equal(await p.forgetEmptiedPack(id), true);
      assert.deepEqual(await p.knownPacks([id]), new Set());

      // Recorded in full but a chunk still points to it: it stays.
      const [full] = await sealed([5, 5], 10, 2000);
      assert.equal(await p.forgetEmptiedPack(full), false);
    });

    it("sparsePacks: sealed before the cutoff, live bytes under the ratio, emptiest first, at most limit", async () => {
      const [s10, [a]] = await sealed([100, 900], 1000, 1000);
      await meta.dropUnreferencedChunks([(await p.chunksIn(s10))[1].hash]);
      const [s40] = await sealed([400], 1000, 1000);
      await sealed([900], 1000, 1000);
      const [after] = await sealed([1], 1000, 5000);
      const writing = uid("pack");
      await p.beginPack(writing, 10);
      assert.deepEqual(await p.sparsePacks(2000, 0.5, 10), [
        { id: s10, bytes: 1000, liveBytes: a.storedBytes },
        { id: s40, bytes: 1000, liveBytes: 400 },
      ]);
      assert.deepEqual(await p.sparsePacks(2000, 0.5, 1), [{ id: s10, bytes: 1000, liveBytes: 100 }]);
      assert.deepEqual(await p.sparsePacks(2000, 0.05, 10), []);
      assert.deepEqual(
        (await p.sparsePacks(6000, 0.5, 10)).map((u) => u.id),
        [after, s10, s40],
      );
    });

    it("moveChunks moves only chunks still in `from`, and counts every copy as recorded in its new pack", async () => {
      const [from, [x, y, z]] = await sealed([10, 20, 30], 60, 1000);
      const to = uid("pack");
      await p.beginPack(to, 2000);
      await p.sealPack(to, 60, 3, 2001);
      const other = uid("pack");
      await p.beginPack(other, 2000);
      await p.sealPack(other, 20, 1, 2001);
      assert.equal(await p.moveChunks(from, [{ hash: y.hash, pack: other, offset: 0, length: 20 }]), 1);
      const moved = await p.moveChunks(from, [
        { hash: x.hash, pack: to, offset: 30, length: 11 },
        { hash: y.hash, pack: to, offset: 0, length: 20 },
        { hash: z.hash, pack: to, offset: 41, length: 30 },
      ]);
      assert.equal(moved, 2);
      assert.deepEqual(await p.chunksIn(from), []);
      assert.deepEqual(await p.chunksIn(to), [
        { hash: x.hash, pack: to, offset: 30, length: 11 },
        { hash: z.hash, pack: to, offset: 41, length: 30 },
      ]);
      assert.deepEqual(await p.chunksIn(other), [{ hash: y.hash, pack: other, offset: 0, length: 20 }]);
      assert.deepEqual(await p.moveChunks(from, []), 0);
      // Every chunk of `to` was recorded (3 copies): emptied by deletes, it goes at once.
      await meta.dropUnreferencedChunks([x.hash, z.hash]);
      assert.equal(await p.forgetEmptiedPack(to), true);
      assert.equal(await p.forgetPack(from), true);
    });

    it("packTotals: packs, their bytes, and the live bytes of packed chunks", async () => {
      assert.deepEqual(await p.packTotals(), { packs: 0, bytes: 0, liveBytes: 0 });
      await sealed([10, 20], 40, 1000);
      const [, [gone]] = await sealed([100], 100, 1000);
      await p.beginPack(uid("pack"), 1000);
      await meta.addChunks([chunk(null, 0, 7)]);
      assert.deepEqual(await p.packTotals(), { packs: 3, bytes: 140, liveBytes: 130 });
      await meta.dropUnreferencedChunks([gone.hash]);
      assert.deepEqual(await p.packTotals(), { packs: 3, bytes: 140, liveBytes: 30 });
    });
  });
}
