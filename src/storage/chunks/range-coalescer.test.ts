import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { RangeCoalescer } from "./range-coalescer.ts";

function store() {
  const packs = new Map([
    ["a", randomBytes(20 * 1024 * 1024)],
    ["b", randomBytes(1024 * 1024)],
  ]);
  const reads: string[] = [];
  const read = async (pack: string, offset: number, length: number) => {
    reads.push(`${pack}:${offset}+${length}`);
    const p = packs.get(pack);
    if (!p) throw Object.assign(new Error(`pack ${pack} missing`), { code: "ChunkMissing" });
    return p.subarray(offset, offset + length);
  };
  return { packs, reads, coalescer: new RangeCoalescer(read) };
}

test("neighbouring ranges of one pack asked for together are one read; each gets its own bytes", async () => {
  const { packs, reads, coalescer } = store();
  const ranges = [
    [8, 1000],
    [1008, 5000],
    [6008 + 100, 300], // a small gap is read through
    [3 * 1024 * 1024, 10], // far away: a read of its own
  ] as const;
  const got = await Promise.all([
    ...ranges.map(([o, l]) => coalescer.read("a", o, l)),
    coalescer.read("b", 0, 10),
  ]);
  for (const [i, [o, l]] of ranges.entries()) assert.deepEqual(got[i], packs.get("a")!.subarray(o, o + l));
  assert.deepEqual(got[4], packs.get("b")!.subarray(0, 10));
  assert.deepEqual(reads.sort(), ["a:3145728+10", "a:8+6400", "b:0+10"]);
});

test("a group never spans more than 2 MiB", async () => {
  const { reads, coalescer } = store();
  await Promise.all(Array.from({ length: 10 }, (_, i) => coalescer.read("a", i * 512 * 1024, 512 * 1024)));
  assert.deepEqual(reads, ["a:0+2097152", "a:2097152+2097152", "a:4194304+1048576"]);
});

test("leased ranges are read into shared memory reused only once all of its group are released", async () => {
  const packs = new Map([["a", randomBytes(1024 * 1024)]]);
  const targets: ArrayBufferLike[] = [];
  const coalescer = new RangeCoalescer(async (pack, offset, length, into) => {
    if (!into) return Buffer.from(packs.get(pack)!.subarray(offset, offset + length));
    assert.equal(into.byteLength, length);
    targets.push(into.buffer);
    packs.get(pack)!.copy(into, 0, offset, offset + length);
    return into;
  });
  const first = await Promise.all([coalescer.lease("a", 0, 100), coalescer.lease("a", 100, 50)]);
  assert.ok(first[0].bytes.equals(packs.get("a")!.subarray(0, 100)));
  assert.ok(first[1].bytes.equals(packs.get("a")!.subarray(100, 150)));
  assert.ok(first[0].bytes.buffer instanceof SharedArrayBuffer);
  assert.equal(targets.length, 1, "one read for the group, into reused memory");
  first[0].release();
  // One of the group still holds it: the next read gets other memory.
  const second = await coalescer.lease("a", 5000, 10);
  assert.notEqual(targets[1], targets[0]);
  first[1].release();
  second.release();
  const third = await coalescer.lease("a", 7000, 10);
  assert.ok([targets[0], targets[1]].includes(targets[2]), "released memory is reused");
  assert.ok(third.bytes.equals(packs.get("a")!.subarray(7000, 7010)));
  // A plain read in the group: memory of the caller's own, never a reused buffer.
  const [plain] = await Promise.all([coalescer.read("a", 0, 10), coalescer.lease("a", 10, 10)]);
  assert.ok(!targets.slice(0, 3).includes(plain.buffer));
});

test("a failed read fails every range of its group, and only those", async () => {
  const { coalescer } = store();
  const results = await Promise.allSettled([
    coalescer.read("gone", 0, 10),
    coalescer.read("gone", 10, 10),
    coalescer.read("b", 0, 10),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ["rejected", "rejected", "fulfilled"],
  );
});
