// The accounts store a server or a `strata accounts` command uses: PostgreSQL when the storage
// config names one (every host of a scaled-out region shares it), else the data dir's SQLite.
import type { StorageConfig } from "../services/regions/storage-config.ts";
import type { AccountStore } from "./account-store.ts";

export async function openAccounts(dataDir: string, storage?: StorageConfig): Promise<AccountStore> {
  let config = storage;
  if (!config && process.env.STRATA_STORAGE_CONFIG) {
    const { readStorageConfig } = await import("../services/regions/storage-config.ts");
    config = readStorageConfig(process.env.STRATA_STORAGE_CONFIG);
  }
  if (config?.accounts) {
    const { PgAccountStore } = await import("./pg-account-store.ts");
    return PgAccountStore.open(config.accounts.url);
  }
  const { openAccountStore } = await import("./sqlite-account-store.ts");
  return openAccountStore(dataDir);
}
