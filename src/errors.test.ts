import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { errorCatalogue } from "./errors.ts";

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith(".ts") && !e.name.endsWith(".test.ts")
        ? [join(dir, e.name)]
        : [],
  );
}

test("the error catalogue is complete: every code raised is catalogued, every entry is raised", () => {
  const raised = new Set<string>();
  for (const file of sources(import.meta.dirname)) {
    for (const m of readFileSync(file, "utf8").matchAll(/new StrataError\(\s*"([^"]+)"/g)) raised.add(m[1]);
  }
  const catalogued = new Set(Object.keys(errorCatalogue));
  assert.deepEqual(
    [...raised].filter((c) => !catalogued.has(c)),
    [],
    "raised but not catalogued",
  );
  assert.deepEqual([...catalogued].filter((c) => !raised.has(c)).sort(), [], "catalogued but never raised");
  for (const [code, e] of Object.entries(errorCatalogue)) {
    assert.ok([400, 401, 402, 403, 404, 409, 412, 500, 503].includes(e.status), `${code} has an HTTP status`);
    assert.ok(e.summary.length > 10, `${code} has a summary`);
  }
});
