import assert from "node:assert/strict";
import { test } from "node:test";
import { mapConcurrent } from "./concurrency.ts";

test("mapConcurrent: after a failure no new item starts, and it rejects once those in flight are done", async () => {
  const started: number[] = [];
  let inFlight = 0;
  let finishedAfterReject = false;
  const run = mapConcurrent([0, 1, 2, 3, 4, 5, 6, 7], 3, async (i) => {
    started.push(i);
    inFlight++;
    try {
      if (i === 1) throw new Error("item 1 failed");
      await new Promise((r) => setTimeout(r, 30));
      return i;
    } finally {
      inFlight--;
    }
  });
  await assert.rejects(
    run.finally(() => {
      finishedAfterReject = inFlight > 0;
    }),
    /item 1 failed/,
  );
  assert.equal(finishedAfterReject, false, "nothing is still running when it rejects");
  assert.deepEqual(started, [0, 1, 2], "no item starts after the failure");
});

test("mapConcurrent: results in input order, at most `limit` at once", async () => {
  let inFlight = 0;
  let most = 0;
  const out = await mapConcurrent([5, 1, 4, 2, 3], 2, async (ms) => {
    most = Math.max(most, ++inFlight);
    await new Promise((r) => setTimeout(r, ms));
    inFlight--;
    return ms * 10;
  });
  assert.deepEqual(out, [50, 10, 40, 20, 30]);
  assert.equal(most, 2);
});
