import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { zstdCompressSync } from "node:zlib";
import { BLOCK_SIZE } from "../blocks.ts";
import { decodeChunkInto, encodeChunk, sha256Hex } from "./chunk-codec.ts";
import { decompressInto, reusesDecoder } from "./zstd-into.ts";

const text = Buffer.alloc(BLOCK_SIZE, "the quick brown fox jumps over the lazy dog 0123456789\n");
const frame = zstdCompressSync(text);

test("the pinned Node's zlib decoder handle is driven directly (not the copying fallback)", () => {
  assert.equal(reusesDecoder(), true);
});

test("a frame decodes into the caller's memory, exactly filling it, shared memory too", () => {
  const shared = new Uint8Array(new SharedArrayBuffer(BLOCK_SIZE + 8), 8, BLOCK_SIZE);
  assert.equal(decompressInto(frame, shared), BLOCK_SIZE);
  assert.deepEqual(Buffer.from(shared), text);
  const roomy = new Uint8Array(BLOCK_SIZE * 2);
  assert.equal(decompressInto(frame, roomy), BLOCK_SIZE);
  assert.deepEqual(Buffer.from(roomy.subarray(0, BLOCK_SIZE)), text);
});

test("content bigger than the target, corrupt and truncated frames are -1; the next decode still works", () => {
  const out = new Uint8Array(BLOCK_SIZE);
  assert.equal(decompressInto(frame, new Uint8Array(BLOCK_SIZE - 1)), -1);
  assert.equal(decompressInto(Buffer.from("not a zstd frame at all"), out), -1);
  assert.equal(decompressInto(frame.subarray(0, frame.byteLength - 3), out), -1);
  out.fill(0);
  assert.equal(decompressInto(frame, out), BLOCK_SIZE);
  assert.deepEqual(Buffer.from(out), text);
  assert.equal(decompressInto(zstdCompressSync(Buffer.alloc(0)), new Uint8Array(0)), 0);
});

test("decodeChunkInto verifies both formats against the key", () => {
  const random = randomBytes(BLOCK_SIZE);
  const out = new Uint8Array(BLOCK_SIZE);
  for (const raw of [text, random]) {
    const encoded = encodeChunk(raw);
    const got = decodeChunkInto(sha256Hex(raw), encoded, out);
    assert.ok(got);
    assert.deepEqual(Buffer.from(got), raw);
    assert.equal(decodeChunkInto(sha256Hex(Buffer.from("other")), encoded, out), null);
    const flipped = Buffer.from(encoded);
    flipped[flipped.byteLength - 1] ^= 1;
    assert.equal(decodeChunkInto(sha256Hex(raw), flipped, out), null);
  }
});
