import assert from "node:assert/strict";
import { test } from "node:test";
import { deferred, Semaphore } from "./concurrency.ts";

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
