// PgDatabase against a private PostgreSQL: migrations applied once by hosts starting together,
// transactions that roll back or retry, advisory locks that serialize units of work.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { PgAccountStore } from "../src/accounts/pg-account-store.ts";
import { pgMigrations } from "../src/storage/metadata/postgres/migrations.ts";

const LATEST = pgMigrations[pgMigrations.length - 1].version;

import { advisoryKey, PgDatabase, toLike } from "../src/storage/metadata/postgres/pg-database.ts";
import { type PostgresServer, startPostgres } from "./servers/postgres.ts";

let server: PostgresServer;
before(async () => {
  server = await startPostgres();
});
after(() => server.stop());

test("EC2 wildcards become LIKE patterns with the same meaning", () => {
  assert.equal(toLike("app-01*"), "app-01%");
  assert.equal(toLike("a?c"), "a_c");
  assert.equal(toLike("literal\\*star\\?"), "literal*star?");
  assert.equal(toLike("50%_\\\\"), "50\\%\\_\\\\");
  assert.equal(toLike("trailing\\"), "trailing\\\\");
  assert.equal(advisoryKey("a"), advisoryKey("a"));
  assert.notEqual(advisoryKey("a"), advisoryKey("b"));
});

test("hosts opening a new database together apply each migration once", async () => {
  const url = await server.createDatabase();
  const extra = { version: LATEST + 1, name: "a second step", sql: "CREATE TABLE second_step (n integer)" };
  const dbs = await Promise.all(
    Array.from({ length: 5 }, () => PgDatabase.open(url, [...pgMigrations, extra])),
  );
  try {
    const rows = await dbs[0].query("SELECT version, name FROM schema_migrations ORDER BY version");
    assert.deepEqual(rows, [
      ...pgMigrations.map((m) => ({ version: m.version, name: m.name })),
      { version: LATEST + 1, name: "a second step" },
    ]);
    assert.equal(await dbs[1].schemaVersion(), LATEST + 1);
    const reopened = await PgDatabase.open(url, [...pgMigrations, extra]);
    assert.equal(await reopened.schemaVersion(), LATEST + 1);
    await reopened.close();
  } finally {
    await Promise.all(dbs.map((d) => d.close()));
  }
});

test("a failed migration leaves the schema at the last good version", async () => {
  const url = await server.createDatabase();
  const bad = {
    version: LATEST + 1,
    name: "broken",
    sql: "CREATE TABLE half (n integer); SELECT no_such_function()",
  };
  await assert.rejects(PgDatabase.open(url, [...pgMigrations, bad]), /no_such_function/);
  const db = await PgDatabase.open(url, pgMigrations);
  assert.equal(await db.schemaVersion(), LATEST);
  assert.equal((await db.one("SELECT to_regclass('half') AS t"))?.t, null);
  await db.close();
});

test("tx commits on success, rolls back on error, and retries serialization failures", async () => {
  const db = await PgDatabase.open(await server.createDatabase(), pgMigrations);
  try {
    await db.run("CREATE TABLE counter (id integer PRIMARY KEY, n integer NOT NULL)");
    await db.run("INSERT INTO counter VALUES (1, 0)");
    await assert.rejects(
      db.tx(async (c) => {
        await c.query("UPDATE counter SET n = 100");
        throw new Error("refused");
      }),
      /refused/,
    );
    assert.equal((await db.one("SELECT n FROM counter"))?.n, 0);
    // Read-modify-write from many units at once: SERIALIZABLE makes conflicting ones fail with
    // 40001, and tx() runs them again, so no increment is lost.
    let attempts = 0;
    // The units' first reads meet before any writes (up to 1 s), so they conflict however slowly a
    // loaded machine starts them (a fixed 5 ms pause let them run one after another there).
    let arrived = 0;
    let met = () => {};
    const allRead = new Promise<void>((r) => {
      met = r;
    });
    await Promise.all(
      Array.from({ length: 6 }, () =>
        db.tx(async (c) => {
          attempts++;
          const { rows } = await c.query("SELECT n FROM counter WHERE id = 1");
          if (++arrived === 6) met();
          await Promise.race([allRead, new Promise((r) => setTimeout(r, 1000))]);
          await c.query("UPDATE counter SET n = $1 WHERE id = 1", [rows[0].n + 1]);
        }),
      ),
    );
    assert.equal((await db.one("SELECT n FROM counter"))?.n, 6);
    assert.ok(attempts > 6, `expected retries, saw ${attempts} attempts`);
  } finally {
    await db.close();
  }
});

test("withAdvisoryLocks serializes units that share a key, in any key order, without deadlock", async () => {
  const db = await PgDatabase.open(await server.createDatabase(), pgMigrations, { pool: { max: 20 } });
  try {
    let inside = 0;
    let most = 0;
    const unit = (keys: string[]) =>
      db.withAdvisoryLocks(keys, async () => {
        inside++;
        most = Math.max(most, inside);
        await new Promise((r) => setTimeout(r, 10));
        inside--;
      });
    await Promise.all(
      Array.from({ length: 10 }, (_, k) => unit(k % 2 ? ["vpc-a", "sg-b"] : ["sg-b", "vpc-a", "sg-b"])),
    );
    assert.equal(most, 1);
    // Disjoint keys do not wait for each other.
    inside = 0;
    most = 0;
    await Promise.all(["x", "y", "z"].map((k) => unit([k])));
    assert.equal(most, 3);
  } finally {
    await db.close();
  }
});

test("the accounts and a region's metadata can share one database (separate migrations tables)", async () => {
  const url = await server.createDatabase();
  const region = await PgDatabase.open(url, pgMigrations);
  const accounts = await PgAccountStore.open(url);
  try {
    const { account } = await accounts.createAccount("shared");
    assert.deepEqual(await accounts.getAccount(account.id), account);
    assert.equal(await region.schemaVersion(), LATEST);
    const tables = await region.column(
      "SELECT table_name AS v FROM information_schema.tables WHERE table_name LIKE '%migrations' ORDER BY 1",
    );
    assert.deepEqual(tables, ["account_schema_migrations", "schema_migrations"]);
  } finally {
    await accounts.end();
    await region.close();
  }
});
