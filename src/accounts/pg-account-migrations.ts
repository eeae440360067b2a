import type { PgMigration } from "../storage/metadata/postgres/pg-database.ts";

// Versioned schema of the global accounts in PostgreSQL (SQLite's accounts.db at its version 2,
// in one step). Append new versions; never edit an applied one. Recorded in its own migrations
// table, so it can live in the same database as a region's metadata.
export const accountsMigrationsTable = "account_schema_migrations";

export const pgAccountMigrations: PgMigration[] = [
  {
    version: 1,
    name: "accounts, access keys, per-account quota overrides",
    sql: `
      -- Names are unique case-insensitively (SQLite's NOCASE: ASCII letters; lower() under "C").
      CREATE TABLE accounts (
        id text COLLATE "C" PRIMARY KEY,
        name text COLLATE "C" NOT NULL,
        alias text COLLATE "C" UNIQUE,
        created_at text COLLATE "C" NOT NULL
      );
      CREATE UNIQUE INDEX accounts_name ON accounts (lower(name));
      -- SigV4 is an HMAC, so the server needs the secret itself, not a hash of it: restrict who
      -- may read this table.
      CREATE TABLE access_keys (
        id text COLLATE "C" PRIMARY KEY,
        account_id text COLLATE "C" NOT NULL REFERENCES accounts (id),
        secret text COLLATE "C" NOT NULL,
        created_at text COLLATE "C" NOT NULL
      );
      CREATE INDEX access_keys_account ON access_keys (account_id);
      -- Only what the operator set; defaults live in the code.
      CREATE TABLE account_quotas (
        account_id text COLLATE "C" NOT NULL REFERENCES accounts (id),
        name text COLLATE "C" NOT NULL,
        value double precision NOT NULL,
        updated_at text COLLATE "C" NOT NULL,
        PRIMARY KEY (account_id, name)
      );
    `,
  },
];
