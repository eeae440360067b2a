// bench:scale, part three: describe latency with the catalog in PostgreSQL vs SQLite, through the
// same CatalogStore calls DescribeImages makes: a page of 100 of 1,000 images visible to their
// owner, the same filtered by a name wildcard, and the images shared with another account.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CatalogStore } from "../src/storage/metadata/catalog-store.ts";
import { pgMigrations } from "../src/storage/metadata/postgres/migrations.ts";
import { PgCatalogStore } from "../src/storage/metadata/postgres/pg-catalog-store.ts";
import { PgDatabase } from "../src/storage/metadata/postgres/pg-database.ts";
import { migrations } from "../src/storage/metadata/sqlite/migrations.ts";
import { SqliteCatalogStore } from "../src/storage/metadata/sqlite/sqlite-catalog-store.ts";
import { SqliteDatabase } from "../src/storage/metadata/sqlite/sqlite-database.ts";
import { image } from "../test/contracts/images.ts";
import { startPostgres } from "../test/servers/postgres.ts";

const IMAGES = 1000;
const CALLS = 200;
const OWNER = "111122223333";
const OTHER = "444455556666";

export interface DescribeRow {
  store: string;
  query: string;
  p50: number;
  p95: number;
}

async function fill(store: CatalogStore): Promise<void> {
  for (let i = 0; i < IMAGES; i++) {
    const img = image(OWNER, `golden-${String(i).padStart(4, "0")}`, { description: `image ${i}` });
    await store.insertImage(img, [{ key: "team", value: `t${i % 10}` }]);
    if (i % 10 === 0) await store.changePermissions(img.id, [OTHER], []);
  }
}

async function measure(store: string, query: string, call: () => Promise<unknown>): Promise<DescribeRow> {
  for (let i = 0; i < 20; i++) await call();
  const ms: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t = performance.now();
    await call();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { store, query, p50: ms[Math.floor(CALLS / 2)], p95: ms[Math.floor(CALLS * 0.95)] };
}

async function queries(name: string, store: CatalogStore): Promise<DescribeRow[]> {
  await fill(store);
  return [
    await measure(name, "owner's images, first page of 100", () =>
      store.imagesVisibleTo(OWNER, { limit: 100 }),
    ),
    await measure(name, "name filter golden-01*, page of 100", () =>
      store.imagesVisibleTo(OWNER, { limit: 100, where: [{ column: "name", patterns: ["golden-01*"] }] }),
    ),
    await measure(name, "shared with another account (100)", () => store.imagesVisibleTo(OTHER, {})),
  ];
}

export async function describeRun(): Promise<DescribeRow[]> {
  const dir = mkdtempSync(join(tmpdir(), "strata-bench-describe-"));
  const sqlite = new SqliteDatabase(join(dir, "metadata.db"), migrations);
  const pg = await startPostgres();
  try {
    const rows = await queries("SQLite", new SqliteCatalogStore(sqlite));
    const db = await PgDatabase.open(await pg.createDatabase(), pgMigrations);
    try {
      rows.push(...(await queries("PostgreSQL 15 (loopback)", new PgCatalogStore(db))));
    } finally {
      await db.close();
    }
    return rows;
  } finally {
    sqlite.close();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function describeTable(rows: DescribeRow[]): string {
  const lines = ["| catalog in | query (1,000 images) | p50 | p95 |", "| --- | --- | --- | --- |"];
  for (const r of rows)
    lines.push(`| ${r.store} | ${r.query} | ${r.p50.toFixed(2)} ms | ${r.p95.toFixed(2)} ms |`);
  return lines.join("\n");
}
