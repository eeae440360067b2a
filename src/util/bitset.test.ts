import assert from "node:assert/strict";
import { test } from "node:test";
import { Bitset } from "./bitset.ts";

test("bitset adds, deletes, counts and iterates in order", () => {
  const b = new Bitset(100);
  for (const i of [99, 0, 8, 7, 64]) assert.equal(b.add(i), true);
  assert.equal(b.add(8), false);
  assert.equal(b.count, 5);
  assert.deepEqual([...b], [0, 7, 8, 64, 99]);
  assert.equal(b.delete(7), true);
  assert.equal(b.delete(7), false);
  assert.equal(b.has(7), false);
  assert.equal(b.count, 4);
  assert.deepEqual([...b], [0, 8, 64, 99]);
});
