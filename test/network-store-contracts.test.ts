// The NetworkStore contract, run against SQLite (a fresh in-memory database) and PostgreSQL (a
// private cluster for this file, a fresh database for the suite).
import assert from "node:assert/strict";
import { after, before } from "node:test";
import { pgMigrations } from "../src/storage/metadata/postgres/migrations.ts";
import { PgCatalogStore } from "../src/storage/metadata/postgres/pg-catalog-store.ts";
import { PgDatabase } from "../src/storage/metadata/postgres/pg-database.ts";
import { PgNetworkStore } from "../src/storage/metadata/postgres/pg-network-store.ts";
import { PgSecurityGroupStore } from "../src/storage/metadata/postgres/pg-security-group-store.ts";
import { migrations } from "../src/storage/metadata/sqlite/migrations.ts";
import { SqliteCatalogStore } from "../src/storage/metadata/sqlite/sqlite-catalog-store.ts";
import { SqliteDatabase } from "../src/storage/metadata/sqlite/sqlite-database.ts";
import { SqliteNetworkStore } from "../src/storage/metadata/sqlite/sqlite-network-store.ts";
import { SqliteSecurityGroupStore } from "../src/storage/metadata/sqlite/sqlite-security-group-store.ts";
import type { RegionFixtures } from "./contracts/harness.ts";
import type { NetworkStores } from "./contracts/network-fixtures.ts";
import { networkStoreContract } from "./contracts/network-store.contract.ts";
import { type PostgresServer, startPostgres } from "./servers/postgres.ts";

// The network store writes its own rows; the contract needs no fixtures.
const noFixtures: RegionFixtures = {
  addVolume: async () => assert.fail("not used"),
  addSnapshot: async () => assert.fail("not used"),
};

let server: PostgresServer | undefined;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

networkStoreContract("SQLite", async () => {
  const db = new SqliteDatabase(":memory:", migrations);
  const store: NetworkStores = {
    network: new SqliteNetworkStore(db),
    catalog: new SqliteCatalogStore(db),
    securityGroups: new SqliteSecurityGroupStore(db),
  };
  return { store, fixtures: noFixtures, close: async () => db.close() };
});

networkStoreContract("PostgreSQL", async () => {
  if (!server) throw new Error("the PostgreSQL test server did not start");
  const db = await PgDatabase.open(await server.createDatabase(), pgMigrations);
  const store: NetworkStores = {
    network: new PgNetworkStore(db),
    catalog: new PgCatalogStore(db),
    securityGroups: new PgSecurityGroupStore(db),
  };
  return { store, fixtures: noFixtures, close: () => db.close() };
});
