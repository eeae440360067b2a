import assert from "node:assert/strict";
import { test } from "node:test";
import { ByteQueue } from "./byte-queue.ts";

function source() {
  const events: string[] = [];
  return { events, pause: () => events.push("pause"), resume: () => events.push("resume") };
}

test("takes exact sizes across and within chunks", async () => {
  const q = new ByteQueue(source());
  const pending = q.take(5);
  q.push(Buffer.from("ab"));
  q.push(Buffer.from("cdefg"));
  assert.equal((await pending).toString(), "abcde");
  assert.equal((await q.take(1)).toString(), "f");
  assert.equal((await q.take(0)).length, 0);
  assert.equal(q.length, 1);
});

test("pauses the source while nobody takes and enough is buffered, resumes when taken", async () => {
  const src = source();
  const q = new ByteQueue(src, 4);
  q.push(Buffer.from("abc"));
  assert.deepEqual(src.events, []);
  q.push(Buffer.from("def"));
  assert.deepEqual(src.events, ["pause"]);
  await q.take(3);
  assert.deepEqual(src.events, ["pause", "resume"]);
  // A take bigger than the high-water mark keeps the data flowing.
  const big = q.take(10);
  q.push(Buffer.from("0123456"));
  assert.equal((await big).toString(), "def0123456");
  assert.deepEqual(src.events, ["pause", "resume"]);
});

test("end lets buffered bytes be taken, abort drops them; later takes fail", async () => {
  const q = new ByteQueue(source());
  q.push(Buffer.from("xyz"));
  q.end(new Error("eof"));
  assert.equal((await q.take(2)).toString(), "xy");
  await assert.rejects(q.take(2), /eof/);
  const q2 = new ByteQueue(source());
  const pending = q2.take(4);
  q2.push(Buffer.from("12"));
  q2.abort(new Error("stopped"));
  await assert.rejects(pending, /stopped/);
  await assert.rejects(q2.take(1), /stopped/);
});
