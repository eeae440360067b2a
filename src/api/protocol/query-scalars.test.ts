import assert from "node:assert/strict";
import { test } from "node:test";
import { isStrataError } from "../../errors.ts";
import type { ScalarShape } from "./ec2-model.ts";
import { parseScalar, parseTimestamp } from "./query-scalars.ts";

const invalid = (shape: ScalarShape, value: string) =>
  assert.throws(
    () => parseScalar(shape, value, "P"),
    (e) =>
      isStrataError(e, "InvalidParameterValue") && e.message.startsWith(`Invalid value '${value}' for P`),
  );

test("integers and longs are strict decimal integers within their type's range", () => {
  assert.equal(parseScalar({ type: "integer" }, "007", "P"), 7);
  assert.equal(parseScalar({ type: "long" }, "9007199254740991", "P"), Number.MAX_SAFE_INTEGER);
  for (const bad of ["", " 1", "1 ", "+1", "0x10", "1e3", "1.0", "NaN"]) invalid({ type: "integer" }, bad);
  invalid({ type: "long" }, "9007199254740992");
  invalid({ type: "integer", min: 5, max: 10 }, "4");
  invalid({ type: "integer", min: 5, max: 10 }, "11");
});

test("doubles take decimal, exponent and the IEEE specials, checked against min/max", () => {
  assert.equal(parseScalar({ type: "double" }, "1.5", "P"), 1.5);
  assert.equal(parseScalar({ type: "float" }, "-2e-3", "P"), -0.002);
  assert.equal(parseScalar({ type: "double" }, ".5", "P"), 0.5);
  assert.equal(parseScalar({ type: "double" }, "Infinity", "P"), Infinity);
  assert.ok(Number.isNaN(parseScalar({ type: "double" }, "NaN", "P")));
  for (const bad of ["", "abc", "1,5", "inf", "1.5x", "toString"]) invalid({ type: "double" }, bad);
  const weight: ScalarShape = { type: "double", min: 0.001, max: 99.999 };
  assert.equal(parseScalar(weight, "99.999", "P"), 99.999);
  for (const bad of ["0", "100", "NaN", "Infinity"]) invalid(weight, bad);
});

test("strings may hold any character but U+0000, which neither XML nor PostgreSQL can carry", () => {
  assert.equal(parseScalar({ type: "string" }, "tab\t\u0001 é 🎉", "P"), "tab\t\u0001 é 🎉");
  assert.throws(
    () => parseScalar({ type: "string" }, "nul\u0000here", "Description"),
    (e) => isStrataError(e, "InvalidParameterValue") && /Description: U\+0000 is not allowed/.test(e.message),
  );
});

test("booleans are true or false in any case", () => {
  assert.equal(parseScalar({ type: "boolean" }, "True", "P"), true);
  assert.equal(parseScalar({ type: "boolean" }, "FALSE", "P"), false);
  for (const bad of ["", "1", "yes", "truee"]) invalid({ type: "boolean" }, bad);
});

test("timestamps are ISO 8601; no offset means UTC", () => {
  assert.deepEqual(parseTimestamp("2030-01-02T03:04:05Z"), new Date("2030-01-02T03:04:05.000Z"));
  assert.deepEqual(parseTimestamp("2030-01-02T03:04:05.123456Z"), new Date("2030-01-02T03:04:05.123Z"));
  assert.deepEqual(parseTimestamp("2030-01-02T03:04:05"), new Date("2030-01-02T03:04:05.000Z"));
  assert.deepEqual(parseTimestamp("2030-01-02T03:04-0130"), new Date("2030-01-02T04:34:00.000Z"));
  assert.deepEqual(parseTimestamp("2030-01-02"), new Date("2030-01-02T00:00:00.000Z"));
  assert.deepEqual(parseTimestamp("2028-02-29T23:59:59z"), new Date("2028-02-29T23:59:59.000Z"));
  for (const bad of [
    "",
    "2030",
    "2030-1-2",
    "2029-02-29",
    "2030-13-01",
    "2030-01-02T24:00:00Z",
    "2030-01-02T03:04:05+25:00",
    "1893456000",
  ]) {
    assert.equal(parseTimestamp(bad), undefined, bad);
  }
});

test("blobs are padded base64", () => {
  assert.deepEqual(parseScalar({ type: "blob" }, "aGk=", "P"), new Uint8Array([104, 105]));
  assert.deepEqual(parseScalar({ type: "blob" }, "", "P"), new Uint8Array());
  for (const bad of ["aGk", "a=Gk", "aGk=\n", "a-_b"]) invalid({ type: "blob" }, bad);
});

test("strings are taken as they are, checked against a small enum", () => {
  assert.equal(parseScalar({ type: "string" }, " a&b ", "P"), " a&b ");
  assert.equal(parseScalar({ type: "string", enum: ["gp3"] }, "gp3", "P"), "gp3");
  invalid({ type: "string", enum: ["gp3"] }, "GP3");
});
