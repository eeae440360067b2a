// The AccountStore contract against SQLite (in memory) and PostgreSQL (a private cluster).
import { after } from "node:test";
import { PgAccountStore } from "../src/accounts/pg-account-store.ts";
import { SqliteAccountStore } from "../src/accounts/sqlite-account-store.ts";
import { accountStoreContract } from "./contracts/account-store.contract.ts";
import { type PostgresServer, startPostgres } from "./servers/postgres.ts";

let server: Promise<PostgresServer> | undefined;
after(async () => {
  await (await server?.catch(() => undefined))?.stop();
});

accountStoreContract("SQLite", async () => {
  const store = new SqliteAccountStore(":memory:");
  return { store, close: async () => store.close() };
});

accountStoreContract("PostgreSQL", async () => {
  server ??= startPostgres();
  const store = await PgAccountStore.open(await (await server).createDatabase());
  return { store, close: () => store.end() };
});
