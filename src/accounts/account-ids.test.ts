import assert from "node:assert/strict";
import { test } from "node:test";
import { isAccessKeyId, isAccountId, newAccessKeyId, newAccountId, newSecret } from "./account-ids.ts";

const N = 2000;

test("account ids are 12 digits without a leading zero, and distinct", () => {
  const ids = Array.from({ length: N }, newAccountId);
  for (const id of ids) assert.match(id, /^[1-9]\d{11}$/);
  assert.equal(new Set(ids).size, N);
  assert.ok(ids.every(isAccountId));
  assert.equal(isAccountId("12345678901"), false);
});

test("access key ids are AKIA and 16 uppercase letters or digits, and distinct", () => {
  const ids = Array.from({ length: N }, newAccessKeyId);
  for (const id of ids) assert.match(id, /^AKIA[A-Z0-9]{16}$/);
  assert.equal(new Set(ids).size, N);
  assert.ok(ids.every(isAccessKeyId));
  assert.equal(isAccessKeyId("AKIAabcdefghijklmnop"), false);
  // Every character of the alphabet shows up: the generator is not stuck on a subset.
  assert.equal(new Set(ids.join("").slice(4 * N)).size, 36);
});

test("secrets are 40 base64 characters from 30 random bytes, and distinct", () => {
  const secrets = Array.from({ length: N }, newSecret);
  for (const s of secrets) {
    assert.match(s, /^[A-Za-z0-9+/]{40}$/);
    assert.equal(Buffer.from(s, "base64").length, 30);
  }
  assert.equal(new Set(secrets).size, N);
});
