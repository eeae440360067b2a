import assert from "node:assert/strict";
import { test } from "node:test";
import { deferred, mapConcurrent, Semaphore } from "./concurrency.ts";

test("a semaphore lets at most its limit run, the rest in arrival order, also after failures", async () => {
  const sem = new Semaphore(2);
  const gates = Array.from({ length: 5 }, () => deferred());
  const started: number[] = [];
  let running = 0;
  let peak = 0;
  const runs = gates.map((g, i) =>
    sem.run(async () => {
      started.push(i);
      peak = Math.max(peak, ++running);
      await g.promise;
      running--;
      if (i === 1) throw new Error("task 1 fails");
      return i;
    }),
  );
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, [0, 1]);
  gates[1].resolve();
  await assert.rejects(runs[1], /task 1 fails/);
  assert.deepEqual(started, [0, 1, 2]);
  for (const g of gates) g.resolve();
  assert.deepEqual(await Promise.all([runs[0], runs[2], runs[3], runs[4]]), [0, 2, 3, 4]);
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  assert.equal(peak, 2);
});

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
