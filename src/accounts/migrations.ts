import type { Migration } from "../storage/metadata/sqlite/migrations.ts";

// Versioned schema of <data-dir>/accounts.db. Append new versions; never edit an applied one.
export const accountMigrations: Migration[] = [
  {
    version: 1,
    name: "accounts and access keys",
    sql: `
      CREATE TABLE accounts (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        alias TEXT UNIQUE,
        created_at TEXT NOT NULL
      );
      -- SigV4 is an HMAC, so the server needs the secret itself, not a hash of it: the database
      -- file is created 0600 for that reason.
      CREATE TABLE access_keys (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts (id),
        secret TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX access_keys_account ON access_keys (account_id);
    `,
  },
  {
    version: 2,
    name: "per-account quota overrides",
    sql: `
      -- Only what the operator set (strata accounts set-quota); defaults live in the code, so a
      -- new default applies to every account that has no override.
      CREATE TABLE account_quotas (
        account_id TEXT NOT NULL REFERENCES accounts (id),
        name TEXT NOT NULL,
        value REAL NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (account_id, name)
      ) WITHOUT ROWID;
    `,
  },
];
