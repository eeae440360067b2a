import assert from "node:assert/strict";
import { test } from "node:test";
import { BlockBuffers } from "./block-buffers.ts";

test("buffers given back are lent again, up to the number kept", () => {
  const pool = new BlockBuffers(1024, 2);
  const [a, b, c] = [pool.take(), pool.take(), pool.take()];
  assert.equal(a.byteLength, 1024);
  assert.notEqual(a, b);
  pool.give(a);
  pool.give(b);
  pool.give(c); // past the two kept: left to the GC
  pool.give(new SharedArrayBuffer(10)); // not block-sized: never lent
  const again = new Set([pool.take(), pool.take()]);
  assert.deepEqual(again, new Set([a, b]));
  const fresh = pool.take();
  assert.ok(fresh !== a && fresh !== b && fresh !== c);
});
