import { createHash } from "node:crypto";
import pg from "pg";
import type { ListScope } from "../metadata-store.ts";

export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

export type PgRow = Record<string, unknown>;
/** A client inside a transaction, or the pool itself for single statements. */
export type Queryable = pg.Pool | pg.PoolClient;

const FILTER_COLUMNS = new Set(["id", "owner_id", "state", "name", "volume_id", "description"]);
const RETRIED = new Set(["40001", "40P01"]); // serialization failure, deadlock detected
const MAX_ATTEMPTS = 8;

/**
 * An EC2 filter value (* and ? wildcards, \ escapes, case-sensitive) as a LIKE pattern with the
 * default backslash escape: the same matches as toGlob's GLOB pattern in SQLite.
 */
export function toLike(pattern: string): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\" && i + 1 < pattern.length) out += literal(pattern[++i]);
    else if (c === "*") out += "%";
    else if (c === "?") out += "_";
    else out += literal(c);
  }
  return out;
}

function literal(c: string): string {
  return c === "%" || c === "_" || c === "\\" ? `\\${c}` : c;
}

/** A stable 64-bit advisory lock key for a string (the same on every host). */
export function advisoryKey(key: string): string {
  const hex = createHash("sha256").update(key).digest("hex").slice(0, 16);
  return BigInt.asIntN(64, BigInt(`0x${hex}`)).toString();
}

/**
 * One region's metadata in a PostgreSQL database: a pool, versioned migrations, and transactions
 * as explicit async units of work. Transactions are SERIALIZABLE, so the checks a store makes
 * inside one (duplicates, limits, references) hold as they do in SQLite's single-writer model;
 * a transaction that loses a conflict is retried from the start.
 */
export class PgDatabase {
  readonly pool: pg.Pool;
  #migrationsTable = "schema_migrations";

  private constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /**
   * Connects and migrates. `migrationsTable` names the table recording applied versions, so two
   * schemas (a region's metadata, the global accounts) can share one database.
   */
  static async open(
    connectionString: string,
    migrations: PgMigration[],
    options: { pool?: pg.PoolConfig; migrationsTable?: string } = {},
  ): Promise<PgDatabase> {
    const pool = new pg.Pool({ connectionString, max: 10, ...options.pool });
    // An idle client's error (server restart) must not crash the process; the next query reconnects.
    pool.on("error", () => {});
    const db = new PgDatabase(pool);
    try {
      await db.#migrate(migrations, options.migrationsTable ?? "schema_migrations");
    } catch (e) {
      await pool.end();
      throw e;
    }
    return db;
  }

  async #migrate(migrations: PgMigration[], table: string): Promise<void> {
    if (!/^[a-z_]+$/.test(table)) throw new Error(`not a table name: ${table}`);
    this.#migrationsTable = table;
    // Held (session-level) while migrating, so hosts starting together migrate once.
    const lock = advisoryKey(`strata:${table}`);
    const client = await this.pool.connect();
    try {
      await client.query("SELECT pg_advisory_lock($1::bigint)", [lock]);
      try {
        await client.query(`CREATE TABLE IF NOT EXISTS ${table} (
          version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
        const { rows } = await client.query(`SELECT coalesce(max(version), 0) AS v FROM ${table}`);
        const current = Number(rows[0].v);
        for (const m of migrations) {
          if (m.version <= current) continue;
          await client.query("BEGIN");
          try {
            await client.query(m.sql);
            await client.query(`INSERT INTO ${table} (version, name) VALUES ($1, $2)`, [m.version, m.name]);
            await client.query("COMMIT");
          } catch (e) {
            await client.query("ROLLBACK");
            throw e;
          }
        }
      } finally {
        await client.query("SELECT pg_advisory_unlock($1::bigint)", [lock]);
      }
    } finally {
      client.release();
    }
  }

  async schemaVersion(): Promise<number> {
    return Number((await this.one(`SELECT coalesce(max(version), 0) AS v FROM ${this.#migrationsTable}`))?.v);
  }

  /** Rows of one statement (outside a transaction unless `on` is a transaction's client). */
  async query<R extends PgRow = PgRow>(sql: string, params: unknown[] = [], on: Queryable = this.pool) {
    return (await on.query<R>(sql, params)).rows;
  }

  async one<R extends PgRow = PgRow>(sql: string, params: unknown[] = [], on: Queryable = this.pool) {
    return (await this.query<R>(sql, params, on))[0] as R | undefined;
  }

  /** The `v` column of every row. */
  async column(sql: string, params: unknown[] = [], on: Queryable = this.pool): Promise<unknown[]> {
    return (await this.query(sql, params, on)).map((r) => r.v);
  }

  /** Rows changed by one statement. */
  async run(sql: string, params: unknown[] = [], on: Queryable = this.pool): Promise<number> {
    return (await on.query(sql, params)).rowCount ?? 0;
  }

  /**
   * BEGIN ... COMMIT on one pooled client, ROLLBACK if `fn` throws. On a serialization failure
   * or a deadlock the whole unit is run again (so `fn` must not have effects outside the database).
   */
  async tx<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let broken = false;
      try {
        await client.query("BEGIN ISOLATION LEVEL SERIALIZABLE");
        const result = await fn(client);
        await client.query("COMMIT");
        return result;
      } catch (e) {
        try {
          await client.query("ROLLBACK");
        } catch {
          broken = true; // the connection is gone: do not give it back to the pool
        }
        const code = (e as { code?: string }).code;
        if (!code || !RETRIED.has(code) || attempt >= MAX_ATTEMPTS) throw e;
      } finally {
        client.release(broken);
      }
      await new Promise((r) => setTimeout(r, Math.random() * 5 * 2 ** attempt));
    }
  }

  /**
   * Runs `fn` in a transaction holding transaction-scoped advisory locks on the keys, taken in
   * sorted order (two units locking overlapping sets cannot deadlock) and released at its end.
   */
  async withAdvisoryLocks<T>(keys: string[], fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    return this.tx(async (client) => {
      for (const k of sorted)
        await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [advisoryKey(k)]);
      return fn(client);
    });
  }

  /**
   * Rows of `table` (snapshots or images) the account owns or has a permission for (to it or to
   * 'all'), ordered by id, narrowed by owner, column filters and a page window (as SQLite's).
   */
  async visibleTo(table: "snapshots" | "images", accountId: string, scope: ListScope): Promise<PgRow[]> {
    const params: unknown[] = [accountId];
    const where = [
      "(owner_id = $1 OR id IN (SELECT resource_id FROM permissions WHERE grantee IN ($1, 'all')))",
    ];
    const param = (v: unknown) => `$${params.push(v)}`;
    if (scope.ownerIds) where.push(`owner_id = ANY(${param(scope.ownerIds)}::text[])`);
    for (const { column, patterns } of scope.where ?? []) {
      if (!FILTER_COLUMNS.has(column)) throw new Error(`not a filterable column: ${column}`);
      where.push(`${column} LIKE ANY(${param(patterns.map(toLike))}::text[])`);
    }
    if (scope.hideDeprecatedAt !== undefined) {
      where.push(
        `(owner_id = $1 OR coalesce((attributes->>'deprecationTime') COLLATE "C" > ${param(scope.hideDeprecatedAt)}, true))`,
      );
    }
    if (scope.after !== undefined) where.push(`id > ${param(scope.after)}`);
    const limit = scope.limit === undefined ? "" : ` LIMIT ${Math.floor(scope.limit)}`;
    return this.query(`SELECT * FROM ${table} WHERE ${where.join(" AND ")} ORDER BY id${limit}`, params);
  }

  /** Writes tags inside the caller's transaction; a key given twice for a resource keeps the last value. */
  async insertTags(client: Queryable, resourceIds: string[], tags: { key: string; value: string }[]) {
    const last = new Map<string, string>();
    for (const t of tags) last.set(t.key, t.value);
    if (resourceIds.length === 0 || last.size === 0) return;
    const ids = resourceIds.flatMap((id) => [...last.keys()].map(() => id));
    const keys = resourceIds.flatMap(() => [...last.keys()]);
    const values = resourceIds.flatMap(() => [...last.values()]);
    await client.query(
      `INSERT INTO tags (resource_id, key, value) SELECT DISTINCT ON (r, k) r, k, v
       FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS t(r, k, v, n) ORDER BY r, k, n DESC
       ON CONFLICT (resource_id, key) DO UPDATE SET value = excluded.value`,
      [ids, keys, values],
    );
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
