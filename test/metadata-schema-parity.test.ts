// The PostgreSQL schema keeps pace with SQLite's: the same tables, columns (name and NOT NULL)
// and named indexes, so a SQLite migration appended without its PostgreSQL twin fails here.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { accountMigrations } from "../src/accounts/migrations.ts";
import { accountsMigrationsTable, pgAccountMigrations } from "../src/accounts/pg-account-migrations.ts";
import { pgMigrations } from "../src/storage/metadata/postgres/migrations.ts";
import { PgDatabase, type PgMigration } from "../src/storage/metadata/postgres/pg-database.ts";
import type { Migration } from "../src/storage/metadata/sqlite/migrations.ts";
import { migrations } from "../src/storage/metadata/sqlite/migrations.ts";
import { type Row, SqliteDatabase } from "../src/storage/metadata/sqlite/sqlite-database.ts";
import { type PostgresServer, startPostgres } from "./servers/postgres.ts";

let server: Promise<PostgresServer> | undefined;
after(async () => {
  await (await server?.catch(() => undefined))?.stop();
});

interface Shape {
  columns: string[]; // "table.column NOT NULL" / "table.column NULL"
  indexes: string[];
}

async function sqliteShape(m: Migration[]): Promise<Shape> {
  const db = new SqliteDatabase(":memory:", m);
  return db.exclusive(() => shapeOf(db));
}

function shapeOf(db: SqliteDatabase): Shape {
  const tables = (
    db.q("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Row[]
  ).map((r) => String(r.name));
  const columns = tables.flatMap((t) =>
    (db.q(`PRAGMA table_info(${t})`).all() as Row[]).map(
      // A primary key column is NOT NULL in PostgreSQL (and in SQLite's WITHOUT ROWID tables).
      (c) => `${t}.${String(c.name)} ${Number(c.notnull) || Number(c.pk) ? "NOT NULL" : "NULL"}`,
    ),
  );
  const indexes = (
    db
      .q("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
      .all() as Row[]
  ).map((r) => String(r.name));
  return { columns: columns.sort(), indexes };
}

async function pgShape(m: PgMigration[], migrationsTable?: string): Promise<Shape> {
  server ??= startPostgres();
  const db = await PgDatabase.open(await (await server).createDatabase(), m, { migrationsTable });
  try {
    const ignore = ["schema_migrations", accountsMigrationsTable];
    const columns = (
      await db.query(
        `SELECT table_name, column_name, is_nullable FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name <> ALL($1::text[])`,
        [ignore],
      )
    ).map((c) => `${c.table_name}.${c.column_name} ${c.is_nullable === "YES" ? "NULL" : "NOT NULL"}`);
    // Constraint-backed indexes (primary keys, UNIQUE columns) are unnamed in SQLite.
    const indexes = await db.column(
      `SELECT indexname AS v FROM pg_indexes i WHERE schemaname = 'public' AND tablename <> ALL($1::text[])
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) ORDER BY 1`,
      [ignore],
    );
    return { columns: columns.sort(), indexes: indexes.map(String) };
  } finally {
    await db.close();
  }
}

/** PostgreSQL's extra column: the rules' order (SQLite's implicit rowid). */
const PG_ONLY = ["security_group_rules.seq NOT NULL"];

test("a region's PostgreSQL schema has SQLite's tables, columns and indexes", async () => {
  const lite = await sqliteShape(migrations);
  const pg = await pgShape(pgMigrations);
  assert.deepEqual(
    pg.columns.filter((c) => !PG_ONLY.includes(c)),
    lite.columns,
  );
  assert.deepEqual(pg.indexes, lite.indexes);
});

test("the accounts' PostgreSQL schema has SQLite's tables, columns and indexes", async () => {
  const lite = await sqliteShape(accountMigrations);
  const pg = await pgShape(pgAccountMigrations, accountsMigrationsTable);
  assert.deepEqual(pg.columns, lite.columns);
  // PostgreSQL names the case-insensitive unique index SQLite keeps as a column constraint.
  assert.deepEqual(
    pg.indexes.filter((i) => i !== "accounts_name"),
    lite.indexes,
  );
});
