import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { test } from "node:test";
import { BLOCK_SIZE } from "../blocks.ts";
import { decodeChunk, encodeChunk, FORMAT_RAW, FORMAT_ZSTD, sha256Hex } from "./chunk-codec.ts";

const text = Buffer.alloc(BLOCK_SIZE, "the quick brown fox jumps over the lazy dog 0123456789\n");

test("compressible blocks are stored zstd-compressed and decode to the same bytes", () => {
  const encoded = encodeChunk(text);
  assert.equal(encoded[0], FORMAT_ZSTD);
  assert.ok(encoded.byteLength < BLOCK_SIZE / 20);
  assert.deepEqual(decodeChunk(sha256Hex(text), encoded), text);
});

test("incompressible blocks are kept raw", () => {
  const random = randomBytes(BLOCK_SIZE);
  const encoded = encodeChunk(random);
  assert.equal(encoded[0], FORMAT_RAW);
  assert.equal(encoded.byteLength, BLOCK_SIZE + 1);
  assert.deepEqual(decodeChunk(sha256Hex(random), encoded), random);
});

test("the key is the SHA-256 of the raw content (the EBS direct API checksum)", () => {
  assert.equal(sha256Hex(text), createHash("sha256").update(text).digest("hex"));
});

test("a flipped bit, a wrong key, a bad format byte or garbage never decode", () => {
  const key = sha256Hex(text);
  const encoded = encodeChunk(text);
  const flipped = Buffer.from(encoded);
  flipped[flipped.byteLength - 3] ^= 0x10;
  assert.equal(decodeChunk(key, flipped), null);
  assert.equal(decodeChunk(sha256Hex(randomBytes(8)), encoded), null);
  const badFormat = Buffer.from(encoded);
  badFormat[0] = 7;
  assert.equal(decodeChunk(key, badFormat), null);
  assert.equal(decodeChunk(key, Buffer.from([FORMAT_ZSTD, 1, 2, 3])), null);
});
