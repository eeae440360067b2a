import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
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
  // Known answers from other implementations, not from node:crypto again: FIPS 180-2's "abc"
  // vector, and coreutils' `sha256sum` of the 512 KiB block above.
  assert.equal(
    sha256Hex(Buffer.from("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  const textKey = "9b414060a70a71d50769e90a19d4e25de94f0b4f34f0bca7e60695186b9568ec";
  assert.equal(sha256Hex(text), textKey);
  // The encoded (compressed) chunk opens with the raw content's hash, not its own.
  const encoded = encodeChunk(text);
  assert.notEqual(sha256Hex(encoded), textKey);
  assert.deepEqual(decodeChunk(textKey, encoded), text);
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
