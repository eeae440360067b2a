// Filters named after Object.prototype's members are unknown filters, not its functions (found by
// the fuzzer: `Filter.1.Name=constructor` on DescribeSnapshots was an InternalError).
import assert from "node:assert/strict";
import { test } from "node:test";
import { isStrataError } from "../../errors.ts";
import { splitFilters } from "./describe.ts";
import { applyFilters } from "./filters.ts";

const items = [{ id: "vol-1" }, { id: "vol-2" }];
const fields = { "volume-id": (i: { id: string }) => i.id };

test("a known filter matches with wildcards; an unknown one is InvalidParameterValue", () => {
  assert.deepEqual(applyFilters(items, [{ Name: "volume-id", Values: ["*-2"] }], fields), [items[1]]);
  assert.throws(
    () => applyFilters(items, [{ Name: "colour", Values: ["red"] }], fields),
    (e) => isStrataError(e, "InvalidParameterValue"),
  );
});

for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"]) {
  test(`a filter named ${name} is unknown, in memory and for the database`, () => {
    assert.throws(
      () => applyFilters(items, [{ Name: name, Values: ["*"] }], fields),
      (e) => isStrataError(e, "InvalidParameterValue") && e.message.includes(name),
    );
    const split = splitFilters([{ Name: name, Values: ["x"] }], { "snapshot-id": "id" });
    assert.deepEqual(split.pushed, []);
    assert.deepEqual(split.rest, [{ Name: name, Values: ["x"] }]);
  });
}

// The matcher as it was (a regular expression), kept as the reference for what patterns mean.
function reference(pattern: string, value: string): boolean {
  if (!/[*?]/.test(pattern)) return value === pattern;
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\" && i + 1 < pattern.length) re += pattern[++i].replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    else if (c === "*") re += "[\\s\\S]*";
    else if (c === "?") re += "[\\s\\S]";
    else re += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`).test(value);
}

test("wildcards mean what they meant: 20,000 random patterns against random values", () => {
  let seed = 7;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const word = (alphabet: string, max: number) =>
    Array.from({ length: next(max + 1) }, () => alphabet[next(alphabet.length)]).join("");
  for (let k = 0; k < 20_000; k++) {
    const pattern = word("ab*?\\", 8);
    const value = word("ab*?\\", 8);
    const got =
      applyFilters([{ v: value }], [{ Name: "v", Values: [pattern] }], { v: (i) => i.v }).length === 1;
    assert.equal(
      got,
      reference(pattern, value),
      `pattern ${JSON.stringify(pattern)} on ${JSON.stringify(value)}`,
    );
  }
});

test("a pattern with many stars takes linear-ish time, not exponential (it hung the event loop)", () => {
  const value = "a".repeat(255);
  const items = [{ d: value }, { d: `${value}b` }];
  const pattern = `${"*a".repeat(100)}*b`;
  const matched = applyFilters(items, [{ Name: "d", Values: [pattern] }], { d: (i) => i.d });
  assert.deepEqual(matched, [items[1]]);
});

test("a filter with a value over 1,024 characters is matched in memory, not by SQLite's GLOB", () => {
  const long = `${"x".repeat(60_000)}*`;
  const split = splitFilters(
    [
      { Name: "snapshot-id", Values: ["snap-1*"] },
      { Name: "description", Values: ["short", long] },
    ],
    { "snapshot-id": "id", description: "description" },
  );
  assert.deepEqual(split.pushed, [{ column: "id", patterns: ["snap-1*"] }]);
  assert.deepEqual(split.rest, [{ Name: "description", Values: ["short", long] }]);
});
