import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { frameHeader } from "../server/volume-extents.ts";
import { ExtentWriter } from "./extent-writer.ts";

function withFile(fn: (fd: number, path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "strata-extents-"));
  const path = join(dir, "out");
  const fd = openSync(path, "w+");
  try {
    fn(fd, path);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

test("frames land at their offsets however the stream is cut, from a reused buffer", () => {
  const a = Buffer.from("first frame's bytes");
  const b = Buffer.alloc(70_000, "second");
  const stream = Buffer.concat([
    frameHeader(10, a.byteLength),
    a,
    frameHeader(100_000, b.byteLength),
    b,
    frameHeader(200_000, 0),
  ]);
  for (const cut of [1, 5, 12, 13, 4096, stream.byteLength]) {
    withFile((fd, path) => {
      const w = new ExtentWriter(fd, 200_000);
      const reused = Buffer.alloc(cut);
      for (let i = 0; i < stream.byteLength; i += cut) {
        const n = stream.copy(reused, 0, i, i + cut);
        w.push(reused.subarray(0, n));
        reused.fill(0xee); // the writer must be done with it
      }
      w.finish();
      const expected = Buffer.alloc(200_000);
      a.copy(expected, 10);
      b.copy(expected, 100_000);
      assert.deepEqual(readFileSync(path), expected, `cut every ${cut} bytes`);
      assert.equal(statSync(path).size, 200_000);
    });
  }
});

test("a stream without its end frame, past the range or past its end is an error", () => {
  withFile((fd) => {
    const w = new ExtentWriter(fd, 100);
    w.push(Buffer.concat([frameHeader(0, 3), Buffer.from("abc")]));
    assert.throws(() => w.finish(), /stopped before its end/);
    assert.throws(() => w.push(frameHeader(99, 2)), /past 100 bytes/);
  });
  withFile((fd) => {
    const w = new ExtentWriter(fd, 100);
    w.push(frameHeader(100, 0));
    assert.throws(() => w.push(Buffer.from("x")), /went on after its end/);
  });
});
