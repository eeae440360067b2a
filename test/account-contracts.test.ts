// The AccountStore contract against SQLite (in memory) and PostgreSQL (a private cluster).
import { after, before } from "node:test";
import { PgAccountStore } from "../src/accounts/pg-account-store.ts";
import { SqliteAccountStore } from "../src/accounts/sqlite-account-store.ts";
import { accountStoreContract } from "./contracts/account-store.contract.ts";
import { type PostgresServer, startPostgres } from "./servers/postgres.ts";

let server: PostgresServer | undefined;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

accountStoreContract("SQLite", async () => {
  const store = new SqliteAccountStore(":memory:");
  return { store, close: async () => store.close() };
});

accountStoreContract("PostgreSQL", async () => {
  if (!server) throw new Error("the PostgreSQL test server did not start");
  const store = await PgAccountStore.open(await server.createDatabase());
  return { store, close: () => store.end() };
});
