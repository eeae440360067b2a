import assert from "node:assert/strict";
import { test } from "node:test";
import {
  containsCidr,
  firstFree,
  formatIp,
  isReserved,
  overlaps,
  parseCidr,
  parseIp,
  usableCount,
} from "./cidr.ts";
import { regionPublicRange } from "./public-pool.ts";

test("addresses and CIDR blocks parse only in canonical form", () => {
  assert.equal(parseIp("172.31.16.4"), (172 * 2 ** 24 + 31 * 2 ** 16 + 16 * 256 + 4) >>> 0);
  assert.equal(formatIp(parseIp("255.255.255.255")!), "255.255.255.255");
  for (const bad of ["1.2.3", "256.0.0.1", "01.2.3.4", "1.2.3.4 ", "a.b.c.d"])
    assert.equal(parseIp(bad), undefined, bad);
  assert.deepEqual(parseCidr("10.0.0.0/16"), { base: parseIp("10.0.0.0"), prefix: 16 });
  // Host bits set, no prefix, prefix out of range: not a CIDR block.
  for (const bad of ["10.0.0.1/16", "10.0.0.0", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/1a"]) {
    assert.equal(parseCidr(bad), undefined, bad);
  }
  assert.deepEqual(parseCidr("0.0.0.0/0"), { base: 0, prefix: 0 });
});

test("containment and overlap", () => {
  const c = (s: string) => parseCidr(s)!;
  assert.ok(containsCidr(c("172.31.0.0/16"), c("172.31.16.0/20")));
  assert.ok(!containsCidr(c("172.31.0.0/16"), c("172.30.0.0/20")));
  assert.ok(!containsCidr(c("172.31.16.0/20"), c("172.31.0.0/16")));
  assert.ok(overlaps(c("10.0.0.0/24"), c("10.0.0.128/25")));
  assert.ok(overlaps(c("10.0.0.128/25"), c("10.0.0.0/24")));
  assert.ok(!overlaps(c("10.0.0.0/25"), c("10.0.0.128/25")));
});

test("AWS reserves .0-.3 and the broadcast address; allocation starts at .4, first free", () => {
  const s = parseCidr("10.0.1.0/28")!;
  assert.equal(usableCount(s), 11);
  assert.deepEqual(
    [0, 1, 2, 3, 4, 14, 15].map((i) => isReserved(s, s.base + i)),
    [true, true, true, true, false, false, true],
  );
  assert.equal(formatIp(firstFree(s, new Set())!), "10.0.1.4");
  assert.equal(formatIp(firstFree(s, new Set([s.base + 4, s.base + 6]))!), "10.0.1.5");
  const all = new Set(Array.from({ length: 11 }, (_, i) => s.base + 4 + i));
  assert.equal(firstFree(s, all), undefined);
});

test("the public pool: the first 16 reserved, the rest split evenly and disjointly among regions", () => {
  const [a, b, c] = [0, 1, 2].map((i) => regionPublicRange("100.96.0.0/16", i, 3));
  assert.equal(formatIp(a.first), "100.96.0.16");
  assert.equal(a.last - a.first + 1, Math.floor((65536 - 16) / 3));
  assert.equal(b.first, a.last + 1);
  assert.equal(c.first, b.last + 1);
  assert.ok(c.last <= parseIp("100.96.255.255")!);
  const one = regionPublicRange("100.96.0.0/24", 0, 1);
  assert.deepEqual([formatIp(one.first), formatIp(one.last)], ["100.96.0.16", "100.96.0.255"]);
  assert.throws(() => regionPublicRange("100.96.0.1/24", 0, 1), /not a CIDR/);
  assert.throws(() => regionPublicRange("100.96.0.0/28", 0, 1), /too small/);
  assert.throws(() => regionPublicRange("100.96.0.0/16", 3, 3), /not one of/);
});
