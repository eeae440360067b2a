import assert from "node:assert/strict";
import { test } from "node:test";
import { KeyedLock } from "./keyed-lock.ts";

test("a keyed lock serialises holders of the same key and forgets released keys", async () => {
  const lock = new KeyedLock<string>();
  const order: string[] = [];
  const a = lock.with("k", async () => {
    order.push("a start");
    await new Promise((r) => setTimeout(r, 20));
    order.push("a end");
  });
  const b = lock.with("k", async () => {
    order.push("b");
  });
  const c = lock.with("other", async () => {
    order.push("c");
  });
  await Promise.all([a, b, c]);
  assert.deepEqual(order, ["a start", "c", "a end", "b"]);
  assert.equal(lock.size, 0);
});

test("acquireAll in sorted order cannot deadlock on overlapping key sets", async () => {
  const lock = new KeyedLock<string>();
  let inside = 0;
  let maxInside = 0;
  await Promise.all(
    [
      ["x", "y"],
      ["y", "x"],
      ["y", "z", "x"],
    ].map(async (keys) => {
      const release = await lock.acquireAll(keys);
      inside++;
      maxInside = Math.max(maxInside, inside);
      await new Promise((r) => setTimeout(r, 5));
      inside--;
      release();
    }),
  );
  assert.equal(maxInside, 1);
  assert.equal(lock.size, 0);
});
