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

test("filters answered by the database match the in-memory filters exactly", async () => {
  const db = new SqliteDatabase(":memory:", migrations);
  const names = ["app-0100", "app-0199", "App-0100", "app-1", "app-*x", "app-[1]", "web?", "webs"];
  await db.exclusive(() => {
    const insert = db.q(
      "INSERT INTO images (id, owner_id, name, state, creation_date, attributes) VALUES (?, '111111111111', ?, 'available', '', '{}')",
    );
    for (const [i, n] of names.entries()) insert.run(`ami-${String(i).padStart(17, "0")}`, n);
  });
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
    const sql = (
      await db.exclusive(() =>
        db.visibleTo("images", "111111111111", { where: [{ column: "name", patterns: [pattern] }] }),
      )
    ).map((r) => String(r.name));
    const memory = applyFilters(names, [{ Name: "name", Values: [pattern] }], { name: (n) => n });
    assert.deepEqual(sql.sort(), memory.sort(), pattern);
  }
  db.close();
});

test("thousands of owners or filter values are one JSON parameter, with the same answer", async () => {
  const db = new SqliteDatabase(":memory:", migrations);
  const owners = ["111111111111", "222222222222", "333333333333"];
  await db.exclusive(() => {
    const insert = db.q(
      "INSERT INTO snapshots (id, owner_id, volume_size_gib, state, progress, description, started_at) VALUES (?, ?, 1, ?, 0, '', '')",
    );
    for (let i = 0; i < 30; i++)
      insert.run(`snap-${String(i).padStart(17, "0")}`, owners[i % 3], i % 2 ? "completed" : "pending");
  });
  const ids = (scope: Parameters<SqliteDatabase["visibleTo"]>[2]) =>
    db.visibleTo("snapshots", "111111111111", scope).map((r) => String(r.id));
  // SQLite caps expressions at depth 1000 and statements at 32,766 variables.
  const manyOwners = [
    ...Array.from({ length: 40_000 }, (_, i) => `8${String(i).padStart(11, "0")}`),
    "111111111111",
  ];
  const manyStates = [...Array.from({ length: 5_000 }, (_, i) => `state-${i}`), "complet*"];
  await db.exclusive(() => {
    assert.deepEqual(ids({ ownerIds: manyOwners }), ids({ ownerIds: ["111111111111"] }));
    assert.equal(ids({ ownerIds: ["111111111111"] }).length, 10);
    assert.deepEqual(
      ids({ where: [{ column: "state", patterns: manyStates }] }),
      ids({ where: [{ column: "state", patterns: ["complet*"] }] }),
    );
    assert.deepEqual(ids({ ownerIds: manyOwners.slice(0, 100) }), []);
  });
  db.close();
});
