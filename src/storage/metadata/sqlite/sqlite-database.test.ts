import assert from "node:assert/strict";
import { test } from "node:test";
import { applyFilters } from "../../../api/ec2/filters.ts";
import { migrations } from "./migrations.ts";
import { SqliteDatabase, toGlob } from "./sqlite-database.ts";

test("EC2 filter wildcards become GLOB patterns with the same meaning", () => {
  assert.equal(toGlob("app-01*"), "app-01*");
  assert.equal(toGlob("a?c"), "a?c");
  assert.equal(toGlob("literal\\*star"), "literal[*]star");
  assert.equal(toGlob("[x]"), "[[]x]");
});

test("filters answered by the database match the in-memory filters exactly", () => {
  const db = new SqliteDatabase(":memory:", migrations);
  const names = ["app-0100", "app-0199", "App-0100", "app-1", "app-*x", "app-[1]", "web?", "webs"];
  const insert = db.q(
    "INSERT INTO images (id, owner_id, name, state, creation_date, attributes) VALUES (?, '111111111111', ?, 'available', '', '{}')",
  );
  for (const [i, n] of names.entries()) insert.run(`ami-${String(i).padStart(17, "0")}`, n);
  for (const pattern of [
    "app-01*",
    "app-?",
    "app-\\*x",
    "app-[1]",
    "web\\?",
    "web?",
    "*",
    "APP*",
    "app-0100",
  ]) {
    const sql = db
      .visibleTo("images", "111111111111", { where: [{ column: "name", patterns: [pattern] }] })
      .map((r) => String(r.name));
    const memory = applyFilters(names, [{ Name: "name", Values: [pattern] }], { name: (n) => n });
    assert.deepEqual(sql.sort(), memory.sort(), pattern);
  }
  db.close();
});
