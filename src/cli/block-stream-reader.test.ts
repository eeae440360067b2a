import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { blockFrameHeader } from "../server/block-stream.ts";
import { BlockStreamReader } from "./block-stream-reader.ts";

const SIZE = 4096;
const block = (fill: number) => Buffer.alloc(SIZE, fill);
const sha = (b: Buffer) => createHash("sha256").update(b).digest();
const frame = (index: number, data: Buffer, checksum = sha(data)) =>
  Buffer.concat([blockFrameHeader(index, data.byteLength, checksum), data]);
const END = blockFrameHeader(0, 0, Buffer.alloc(32));

function withFile(fn: (fd: number, path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "strata-stream-"));
  const path = join(dir, "out");
  const fd = openSync(path, "w+");
  try {
    fn(fd, path);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

test("verified blocks land at their offsets however the stream is cut, from a reused buffer", () => {
  const stream = Buffer.concat([frame(2, block(2)), frame(0, block(7)), END]);
  for (const cut of [1, 43, 44, 45, 1000, stream.byteLength]) {
    withFile((fd, path) => {
      const seen: number[] = [];
      const r = new BlockStreamReader(fd, SIZE, [2, 0], (i) => seen.push(i));
      const reused = Buffer.alloc(cut);
      for (let i = 0; i < stream.byteLength; i += cut) {
        const n = stream.copy(reused, 0, i, i + cut);
        r.push(reused.subarray(0, n));
        reused.fill(0xee);
      }
      r.finish();
      assert.deepEqual(seen, [2, 0]);
      assert.deepEqual(readFileSync(path), Buffer.concat([block(7), Buffer.alloc(SIZE), block(2)]));
    });
  }
});

test("a block that does not match its checksum, and wrong, missing or extra blocks are errors", () => {
  withFile((fd) => {
    const seen: number[] = [];
    const r = new BlockStreamReader(fd, SIZE, [0, 1], (i) => seen.push(i));
    r.push(frame(0, block(1)));
    // Its bytes are in the file by then (the export throws the temporary file away).
    assert.throws(() => r.push(frame(1, block(2), sha(block(3)))), /block 1: checksum mismatch/);
    assert.deepEqual(seen, [0], "the mismatched block is not reported done");
  });
  withFile((fd) => {
    const r = new BlockStreamReader(fd, SIZE, [0, 1], () => {});
    assert.throws(() => r.push(frame(1, block(1))), /sent block 1, not 0/);
  });
  withFile((fd) => {
    const r = new BlockStreamReader(fd, SIZE, [0, 1], () => {});
    r.push(Buffer.concat([frame(0, block(1)), END]));
    assert.throws(() => r.finish(), /stopped after 1 of 2 blocks/);
  });
  withFile((fd) => {
    const r = new BlockStreamReader(fd, SIZE, [0], () => {});
    assert.throws(() => r.push(frame(0, Buffer.alloc(100))), /100 bytes, not 4096/);
  });
  withFile((fd) => {
    const r = new BlockStreamReader(fd, SIZE, [0], () => {});
    r.push(Buffer.concat([frame(0, block(1)), END]));
    assert.throws(() => r.push(Buffer.from("x")), /went on after its end/);
  });
});

test("anyOrder: the blocks asked for in any order, each once; others, repeats and missing ones are errors", () => {
  withFile((fd, path) => {
    const seen: number[] = [];
    const r = new BlockStreamReader(fd, SIZE, [0, 1, 2], (i) => seen.push(i), { anyOrder: true });
    r.push(Buffer.concat([frame(2, block(2)), frame(0, block(7)), frame(1, block(5)), END]));
    r.finish();
    assert.deepEqual(seen, [2, 0, 1]);
    assert.deepEqual(readFileSync(path), Buffer.concat([block(7), block(5), block(2)]));
  });
  withFile((fd) => {
    const r = new BlockStreamReader(fd, SIZE, [0, 1], () => {}, { anyOrder: true });
    r.push(frame(1, block(1)));
    assert.throws(() => r.push(frame(1, block(1))), /sent block 1, not asked for or sent before/);
  });
  withFile((fd) => {
    const r = new BlockStreamReader(fd, SIZE, [0, 1], () => {}, { anyOrder: true });
    assert.throws(() => r.push(frame(5, block(1))), /sent block 5, not asked for/);
  });
  withFile((fd) => {
    const r = new BlockStreamReader(fd, SIZE, [0, 1], () => {}, { anyOrder: true });
    r.push(Buffer.concat([frame(1, block(1)), END]));
    assert.throws(() => r.finish(), /stopped after 1 of 2 blocks/);
  });
});
