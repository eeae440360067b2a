import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { test } from "node:test";
import { buildPack, PACK_HEADER_BYTES, readPackIndex } from "./pack-format.ts";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

test("a pack lays chunks out in order and its own index finds each of them", () => {
  const chunks = [randomBytes(1000), randomBytes(1), randomBytes(70_000)].map((encoded) => ({
    hash: sha(encoded),
    encoded,
  }));
  const { bytes, entries } = buildPack(chunks);
  assert.equal(entries[0].offset, PACK_HEADER_BYTES);
  assert.deepEqual(readPackIndex(bytes), entries);
  for (const [i, e] of entries.entries()) {
    assert.equal(e.hash, chunks[i].hash);
    assert.deepEqual(bytes.subarray(e.offset, e.offset + e.length), chunks[i].encoded);
  }
});

test("an empty pack is still a pack", () => {
  assert.deepEqual(readPackIndex(buildPack([]).bytes), []);
});

test("bytes that are not a whole pack are refused, not misread", () => {
  const { bytes } = buildPack([{ hash: sha(Buffer.from("x")), encoded: Buffer.from("x") }]);
  assert.throws(() => readPackIndex(bytes.subarray(0, bytes.length - 1)), /trailer/);
  assert.throws(() => readPackIndex(Buffer.concat([Buffer.from("junk"), bytes.subarray(4)])), /header/);
  const lying = Buffer.from(bytes);
  lying.writeUInt32BE(1000, lying.length - 12);
  assert.throws(() => readPackIndex(lying), /index/);
});
