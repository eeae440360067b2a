import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { test } from "node:test";
import type { PackIndex } from "../metadata/pack-index.ts";
import { readPackIndex } from "./pack-format.ts";
import type { PackInfo, PackStore } from "./pack-store.ts";
import { PackWriter } from "./pack-writer.ts";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Packs in memory, recording the order of index and store calls. */
function memory(failPuts = false) {
  const packs = new Map<string, Buffer>();
  const log: string[] = [];
  const store: PackStore = {
    description: "memory",
    async put(id, bytes) {
      log.push(`put ${id}`);
      if (failPuts) throw new Error("disk full");
      packs.set(id, Buffer.from(bytes));
    },
    async read(id, offset, length) {
      return packs.get(id)!.subarray(offset, offset + length);
    },
    async delete(id) {
      packs.delete(id);
    },
    async *list(): AsyncIterable<PackInfo> {},
    async removeIncompletePuts() {
      return 0;
    },
  };
  const index: Pick<PackIndex, "beginPack" | "sealPack"> = {
    async beginPack(id) {
      log.push(`begin ${id}`);
    },
    async sealPack(id, _bytes, chunks) {
      log.push(`seal ${id} ${chunks}`);
    },
  };
  return { packs, log, store, index };
}

test("chunks added together share one pack, registered before its put and sealed after", async () => {
  const m = memory();
  const writer = new PackWriter(m.store, m.index);
  const chunks = Array.from({ length: 20 }, () => randomBytes(10_000));
  const where = await Promise.all(chunks.map((c) => writer.add(sha(c), c)));
  assert.equal(m.packs.size, 1);
  const [id] = m.packs.keys();
  assert.deepEqual(m.log, [`begin ${id}`, `put ${id}`, `seal ${id} 20`]);
  for (const [i, w] of where.entries()) {
    assert.equal(w.pack, id);
    assert.deepEqual(await m.store.read(id, w.offset, w.length), chunks[i]);
  }
  assert.equal(readPackIndex(m.packs.get(id)!).length, 20);
});

test("a pack is sealed before it would pass its target size", async () => {
  const m = memory();
  const writer = new PackWriter(m.store, m.index, { targetBytes: 25_000 });
  const chunks = Array.from({ length: 10 }, () => randomBytes(10_000));
  await Promise.all(chunks.map((c) => writer.add(sha(c), c)));
  assert.equal(m.packs.size, 5);
  for (const p of m.packs.values()) assert.ok(p.length < 25_000 + 200);
});

test("writers adding within the linger share a pack; later ones get a new one", async () => {
  const m = memory();
  const writer = new PackWriter(m.store, m.index, { lingerMs: 20, maxDelayMs: 200 });
  const a = randomBytes(100);
  const b = randomBytes(100);
  const first = writer.add(sha(a), a);
  await new Promise((r) => setTimeout(r, 5));
  const second = writer.add(sha(b), b);
  assert.equal((await first).pack, (await second).pack);
  const c = randomBytes(100);
  assert.notEqual((await writer.add(sha(c), c)).pack, (await first).pack);
});

test("the same content added twice before sealing is stored once", async () => {
  const m = memory();
  const writer = new PackWriter(m.store, m.index);
  const c = randomBytes(5000);
  const [x, y] = await Promise.all([writer.add(sha(c), c), writer.add(sha(c), c)]);
  assert.deepEqual(x, y);
  assert.equal(readPackIndex([...m.packs.values()][0]).length, 1);
  // Both writers will record it: the pack counts two adds, so it is complete only once both have.
  assert.match(m.log.at(-1) ?? "", / 2$/);
});

test("a failed put fails every writer of that pack, and the next pack starts afresh", async () => {
  const m = memory(true);
  const writer = new PackWriter(m.store, m.index);
  const chunks = [randomBytes(100), randomBytes(100)];
  const results = await Promise.allSettled(chunks.map((c) => writer.add(sha(c), c)));
  assert.deepEqual(
    results.map((r) => r.status),
    ["rejected", "rejected"],
  );
  assert.ok(!m.log.some((l) => l.startsWith("seal")), "a pack whose put failed is never sealed");
});

test("while more chunks are being encoded a quiet moment does not seal, up to the busy limit", async () => {
  const m = memory();
  let encoding = 1;
  const writer = new PackWriter(m.store, m.index, {
    lingerMs: 5,
    maxDelayMs: 10,
    busy: () => encoding > 0,
    busyMaxDelayMs: 5_000,
  });
  const [a, b] = [randomBytes(100), randomBytes(100)];
  const first = writer.add(sha(a), a);
  // Quiet for several lingers and past maxDelay: still open, a chunk is on its way.
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(m.packs.size, 0, "not sealed while busy");
  const second = writer.add(sha(b), b);
  encoding = 0;
  assert.equal((await first).pack, (await second).pack);
  assert.equal(m.packs.size, 1);
  // The busy limit bounds the wait even if the hint never clears.
  const stuck = new PackWriter(m.store, m.index, {
    lingerMs: 2,
    maxDelayMs: 5,
    busy: () => true,
    busyMaxDelayMs: 80,
  });
  const t0 = Date.now();
  await stuck.add(sha(a), a);
  const waited = Date.now() - t0;
  assert.ok(waited >= 70 && waited < 2_000, `sealed at the busy limit, after ${waited} ms`);
});

test("a prompt writer's pack seals after the linger, busy or not", async () => {
  const m = memory();
  const writer = new PackWriter(m.store, m.index, {
    lingerMs: 2,
    maxDelayMs: 5,
    busy: () => true,
    busyMaxDelayMs: 5_000,
  });
  const [a, b] = [randomBytes(100), randomBytes(100)];
  const t0 = Date.now();
  const other = writer.add(sha(a), a);
  // A guest write waits on this one: the pack it joins no longer waits for the encodes.
  const prompt = writer.add(sha(b), b, { prompt: true });
  assert.equal((await prompt).pack, (await other).pack);
  assert.ok(Date.now() - t0 < 2_500, "long before the busy limit");
});
