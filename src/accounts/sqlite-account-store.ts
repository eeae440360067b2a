import { chmodSync, closeSync, mkdirSync, openSync } from "node:fs";
import { dirname, join } from "node:path";
import { StrataError } from "../errors.ts";
import { type Row, SqliteDatabase } from "../storage/metadata/sqlite/sqlite-database.ts";
import { newAccessKeyId, newAccountId, newSecret } from "./account-ids.ts";
import type { AccessKeySecret, Account, AccountStore, CreatedAccount } from "./account-store.ts";
import { accountMigrations } from "./migrations.ts";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
// Lowercase like AWS's owner aliases; never all digits (it would read as an account id) nor
// `self` (DescribeImages' Owners=self).
const ALIAS = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The global accounts database of a data directory. */
export function openAccountStore(dataDir: string): SqliteAccountStore {
  return new SqliteAccountStore(join(dataDir, "accounts.db"));
}

/**
 * Accounts and access keys in one SQLite file (WAL, busy_timeout), so `strata accounts create`
 * can write it while a server has it open.
 */
export class SqliteAccountStore implements AccountStore {
  readonly #db: SqliteDatabase;

  constructor(path: string) {
    if (path !== ":memory:") {
      mkdirSync(dirname(path), { recursive: true });
      // Secrets are stored in clear (SigV4 needs them): keep the file private to the server's
      // user. SQLite gives the -wal and -shm files the database file's mode.
      closeSync(openSync(path, "a", 0o600));
      chmodSync(path, 0o600);
    }
    this.#db = new SqliteDatabase(path, accountMigrations);
  }

  close(): void {
    this.#db.close();
  }

  async createAccount(name: string, options: { alias?: string } = {}): Promise<CreatedAccount> {
    return this.#db.exclusive(() => {
      const alias = options.alias ?? null;
      if (!NAME.test(name)) {
        throw new StrataError(
          "InvalidParameterValue",
          `Invalid account name '${name}': use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.`,
        );
      }
      if (alias !== null && (!ALIAS.test(alias) || /^\d+$/.test(alias) || alias === "self")) {
        throw new StrataError(
          "InvalidParameterValue",
          `Invalid owner alias '${alias}': use 1-63 lowercase letters, digits or '-', not only digits, not 'self'.`,
        );
      }
      const createdAt = new Date().toISOString();
      return this.#db.transaction(() => {
        const clash = this.#db.q("SELECT name FROM accounts WHERE name = ? OR alias = ?").get(name, alias) as
          | Row
          | undefined;
        if (clash) {
          const byName = String(clash.name).toLowerCase() === name.toLowerCase();
          throw new StrataError(
            "AccountAlreadyExists",
            byName
              ? `An account named '${clash.name}' already exists.`
              : `The owner alias '${alias}' already belongs to account '${clash.name}'.`,
          );
        }
        const id = this.#unused("SELECT 1 FROM accounts WHERE id = ?", newAccountId);
        const accessKeyId = this.#unused("SELECT 1 FROM access_keys WHERE id = ?", newAccessKeyId);
        const secretAccessKey = newSecret();
        this.#db
          .q("INSERT INTO accounts (id, name, alias, created_at) VALUES (?, ?, ?, ?)")
          .run(id, name, alias, createdAt);
        this.#db
          .q("INSERT INTO access_keys (id, account_id, secret, created_at) VALUES (?, ?, ?, ?)")
          .run(accessKeyId, id, secretAccessKey, createdAt);
        return { account: { id, name, alias, createdAt }, accessKeyId, secretAccessKey };
      });
    });
  }

  async listAccounts(): Promise<Account[]> {
    return this.#db.exclusive(() => {
      return (this.#db.q("SELECT * FROM accounts ORDER BY created_at, id").all() as Row[]).map(toAccount);
    });
  }

  async getAccount(id: string): Promise<Account | undefined> {
    return this.#one("SELECT * FROM accounts WHERE id = ?", id);
  }

  async findByName(name: string): Promise<Account | undefined> {
    return this.#one("SELECT * FROM accounts WHERE name = ?", name);
  }

  async findByAlias(alias: string): Promise<Account | undefined> {
    return this.#one("SELECT * FROM accounts WHERE alias = ?", alias);
  }

  async lookupAccessKey(accessKeyId: string): Promise<AccessKeySecret | undefined> {
    return this.#db.exclusive(() => {
      const row = this.#db.q("SELECT account_id, secret FROM access_keys WHERE id = ?").get(accessKeyId) as
        | Row
        | undefined;
      return row && { accountId: String(row.account_id), secretAccessKey: String(row.secret) };
    });
  }

  async quotaOverrides(accountId: string): Promise<Record<string, number>> {
    return this.#db.exclusive(() => {
      const rows = this.#db
        .q("SELECT name, value FROM account_quotas WHERE account_id = ?")
        .all(accountId) as Row[];
      return Object.fromEntries(rows.map((r) => [String(r.name), Number(r.value)]));
    });
  }

  async setQuotaOverride(accountId: string, name: string, value: number | null): Promise<void> {
    return this.#db.exclusive(() => {
      if (value === null) {
        this.#db.q("DELETE FROM account_quotas WHERE account_id = ? AND name = ?").run(accountId, name);
        return;
      }
      this.#db
        .q(
          `INSERT INTO account_quotas (account_id, name, value, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (account_id, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        )
        .run(accountId, name, value, new Date().toISOString());
    });
  }

  #one(sql: string, value: string): Promise<Account | undefined> {
    return this.#db.exclusive(() => {
      const row = this.#db.q(sql).get(value) as Row | undefined;
      return row && toAccount(row);
    });
  }

  /** A fresh random id not yet in use (collisions are astronomically rare, but cheap to rule out). */
  #unused(existsSql: string, generate: () => string): string {
    for (;;) {
      const id = generate();
      if (!this.#db.q(existsSql).get(id)) return id;
    }
  }
}

function toAccount(row: Row): Account {
  return {
    id: String(row.id),
    name: String(row.name),
    alias: row.alias === null ? null : String(row.alias),
    createdAt: String(row.created_at),
  };
}
