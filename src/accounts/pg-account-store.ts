import { StrataError } from "../errors.ts";
import { PgDatabase, type PgRow } from "../storage/metadata/postgres/pg-database.ts";
import { newAccessKeyId, newAccountId, newSecret } from "./account-ids.ts";
import type { AccessKeySecret, Account, AccountStore, CreatedAccount } from "./account-store.ts";
import { accountsMigrationsTable, pgAccountMigrations } from "./pg-account-migrations.ts";

// The same rules as SqliteAccountStore's.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ALIAS = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Accounts and access keys in PostgreSQL, shared by every host of a scaled-out server. */
export class PgAccountStore implements AccountStore {
  readonly #db: PgDatabase;

  private constructor(db: PgDatabase) {
    this.#db = db;
  }

  static async open(connectionString: string): Promise<PgAccountStore> {
    const db = await PgDatabase.open(connectionString, pgAccountMigrations, {
      migrationsTable: accountsMigrationsTable,
    });
    return new PgAccountStore(db);
  }

  /** AccountStore.close is synchronous; end() is the same, awaitable. */
  close(): void {
    void this.end();
  }

  end(): Promise<void> {
    return this.#db.close();
  }

  async createAccount(name: string, options: { alias?: string } = {}): Promise<CreatedAccount> {
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
    return this.#db.tx(async (c) => {
      const clash = await this.#db.one(
        'SELECT name FROM accounts WHERE lower(name) = lower($1::text COLLATE "C") OR alias = $2',
        [name, alias],
        c,
      );
      if (clash) {
        const byName = String(clash.name).toLowerCase() === name.toLowerCase();
        throw new StrataError(
          "AccountAlreadyExists",
          byName
            ? `An account named '${clash.name}' already exists.`
            : `The owner alias '${alias}' already belongs to account '${clash.name}'.`,
        );
      }
      const unused = async (table: string, generate: () => string) => {
        for (;;) {
          const id = generate();
          if (!(await this.#db.one(`SELECT 1 FROM ${table} WHERE id = $1`, [id], c))) return id;
        }
      };
      const id = await unused("accounts", newAccountId);
      const accessKeyId = await unused("access_keys", newAccessKeyId);
      const secretAccessKey = newSecret();
      await c.query("INSERT INTO accounts (id, name, alias, created_at) VALUES ($1, $2, $3, $4)", [
        id,
        name,
        alias,
        createdAt,
      ]);
      await c.query("INSERT INTO access_keys (id, account_id, secret, created_at) VALUES ($1, $2, $3, $4)", [
        accessKeyId,
        id,
        secretAccessKey,
        createdAt,
      ]);
      return { account: { id, name, alias, createdAt }, accessKeyId, secretAccessKey };
    });
  }

  async listAccounts(): Promise<Account[]> {
    return (await this.#db.query("SELECT * FROM accounts ORDER BY created_at, id")).map(toAccount);
  }

  async getAccount(id: string): Promise<Account | undefined> {
    return this.#one("SELECT * FROM accounts WHERE id = $1", id);
  }

  async findByName(name: string): Promise<Account | undefined> {
    return this.#one('SELECT * FROM accounts WHERE lower(name) = lower($1::text COLLATE "C")', name);
  }

  async findByAlias(alias: string): Promise<Account | undefined> {
    return this.#one("SELECT * FROM accounts WHERE alias = $1", alias);
  }

  async lookupAccessKey(accessKeyId: string): Promise<AccessKeySecret | undefined> {
    const row = await this.#db.one("SELECT account_id, secret FROM access_keys WHERE id = $1", [accessKeyId]);
    return row && { accountId: String(row.account_id), secretAccessKey: String(row.secret) };
  }

  async quotaOverrides(accountId: string): Promise<Record<string, number>> {
    const rows = await this.#db.query(
      "SELECT name, value FROM account_quotas WHERE account_id = $1 ORDER BY name",
      [accountId],
    );
    return Object.fromEntries(rows.map((r) => [String(r.name), Number(r.value)]));
  }

  async setQuotaOverride(accountId: string, name: string, value: number | null): Promise<void> {
    if (value === null) {
      await this.#db.run("DELETE FROM account_quotas WHERE account_id = $1 AND name = $2", [accountId, name]);
      return;
    }
    await this.#db.run(
      `INSERT INTO account_quotas (account_id, name, value, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (account_id, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      [accountId, name, value, new Date().toISOString()],
    );
  }

  async #one(sql: string, value: string): Promise<Account | undefined> {
    const row = await this.#db.one(sql, [value]);
    return row && toAccount(row);
  }
}

function toAccount(row: PgRow): Account {
  return {
    id: String(row.id),
    name: String(row.name),
    alias: row.alias === null ? null : String(row.alias),
    createdAt: String(row.created_at),
  };
}
