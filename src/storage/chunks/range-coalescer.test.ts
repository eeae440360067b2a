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

test("a group never spans more than 8 MiB", async () => {
  const { reads, coalescer } = store();
  await Promise.all(Array.from({ length: 40 }, (_, i) => coalescer.read("a", i * 512 * 1024, 512 * 1024)));
  assert.deepEqual(reads, ["a:0+8388608", "a:8388608+8388608", "a:16777216+4194304"]);
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
