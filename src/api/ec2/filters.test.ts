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
