// Every metadata store contract, run against each backend: SQLite (a fresh in-memory database per
// suite) and PostgreSQL (one private cluster for this file, a fresh database per suite).
import { after } from "node:test";
import { pgMigrations } from "../src/storage/metadata/postgres/migrations.ts";
import { PgCatalogStore } from "../src/storage/metadata/postgres/pg-catalog-store.ts";
import { PgDatabase } from "../src/storage/metadata/postgres/pg-database.ts";
import { PgInstanceStore } from "../src/storage/metadata/postgres/pg-instance-store.ts";
import { PgQuotaUsage } from "../src/storage/metadata/postgres/pg-quota-usage.ts";
import { PgSecurityGroupStore } from "../src/storage/metadata/postgres/pg-security-group-store.ts";
import { migrations } from "../src/storage/metadata/sqlite/migrations.ts";
import { SqliteCatalogStore } from "../src/storage/metadata/sqlite/sqlite-catalog-store.ts";
import { SqliteDatabase } from "../src/storage/metadata/sqlite/sqlite-database.ts";
import { SqliteInstanceStore } from "../src/storage/metadata/sqlite/sqlite-instance-store.ts";
import { SqliteQuotaUsage } from "../src/storage/metadata/sqlite/sqlite-quota-usage.ts";
import { SqliteSecurityGroupStore } from "../src/storage/metadata/sqlite/sqlite-security-group-store.ts";
import { catalogStoreContract } from "./contracts/catalog-store.contract.ts";
import type { Open, RegionFixtures } from "./contracts/harness.ts";
import { instanceStoreContract } from "./contracts/instance-store.contract.ts";
import { quotaUsageContract } from "./contracts/quota-usage.contract.ts";
import { securityGroupStoreContract } from "./contracts/security-group-store.contract.ts";
import { type PostgresServer, startPostgres } from "./servers/postgres.ts";

const VOLUME_SQL = `INSERT INTO volumes (id, owner_id, size_gib, state, availability_zone, volume_type, iops, created_at)
  VALUES (?, ?, ?, ?, 'us-east-1a', ?, ?, '2026-11-22T07:00:00.000Z')`;
const SNAPSHOT_SQL = `INSERT INTO snapshots (id, owner_id, volume_size_gib, state, progress, description, started_at)
  VALUES (?, ?, 8, ?, 0, '', '2026-11-22T07:00:00.000Z')`;

function sqlite<S>(make: (db: SqliteDatabase) => S): Open<S> {
  return async () => {
    const db = new SqliteDatabase(":memory:", migrations);
    const fixtures: RegionFixtures = {
      async addVolume(v) {
        await db.exclusive(() =>
          db
            .q(VOLUME_SQL)
            .run(v.id, v.ownerId, v.sizeGiB, v.state ?? "available", v.volumeType, v.iops ?? null),
        );
      },
      async addSnapshot(id, ownerId, state) {
        await db.exclusive(() => db.q(SNAPSHOT_SQL).run(id, ownerId, state));
      },
    };
    return { store: make(db), fixtures, close: async () => db.close() };
  };
}

// Started by the first PostgreSQL suite (if it cannot start, those suites fail with its log and
// the SQLite ones still run); stopped after the file.
let server: Promise<PostgresServer> | undefined;
after(async () => {
  await (await server?.catch(() => undefined))?.stop();
});

/** `?` placeholders as PostgreSQL's `$n`. */
const numbered = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

function postgres<S>(make: (db: PgDatabase) => S): Open<S> {
  return async () => {
    server ??= startPostgres();
    const db = await PgDatabase.open(await (await server).createDatabase(), pgMigrations);
    const fixtures: RegionFixtures = {
      async addVolume(v) {
        await db.run(numbered(VOLUME_SQL), [
          v.id,
          v.ownerId,
          v.sizeGiB,
          v.state ?? "available",
          v.volumeType,
          v.iops ?? null,
        ]);
      },
      async addSnapshot(id, ownerId, state) {
        await db.run(numbered(SNAPSHOT_SQL), [id, ownerId, state]);
      },
    };
    return { store: make(db), fixtures, close: () => db.close() };
  };
}

catalogStoreContract(
  "SQLite",
  sqlite((db) => new SqliteCatalogStore(db)),
);
catalogStoreContract(
  "PostgreSQL",
  postgres((db) => new PgCatalogStore(db)),
);
instanceStoreContract(
  "SQLite",
  sqlite((db) => ({ instances: new SqliteInstanceStore(db), catalog: new SqliteCatalogStore(db) })),
);
instanceStoreContract(
  "PostgreSQL",
  postgres((db) => ({ instances: new PgInstanceStore(db), catalog: new PgCatalogStore(db) })),
);
quotaUsageContract(
  "SQLite",
  sqlite((db) => ({
    usage: new SqliteQuotaUsage(db),
    catalog: new SqliteCatalogStore(db),
    instances: new SqliteInstanceStore(db),
  })),
);
quotaUsageContract(
  "PostgreSQL",
  postgres((db) => ({
    usage: new PgQuotaUsage(db),
    catalog: new PgCatalogStore(db),
    instances: new PgInstanceStore(db),
  })),
);
securityGroupStoreContract(
  "SQLite",
  sqlite((db) => new SqliteSecurityGroupStore(db)),
);
securityGroupStoreContract(
  "PostgreSQL",
  postgres((db) => new PgSecurityGroupStore(db)),
);
