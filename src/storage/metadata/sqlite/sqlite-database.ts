import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import type { ListScope } from "../metadata-store.ts";
import type { Migration } from "./migrations.ts";

export type Row = Record<string, SQLInputValue>;

const FILTER_COLUMNS = new Set(["id", "owner_id", "state", "name", "volume_id", "description"]);

/** An EC2 filter value (* and ? wildcards, \ escapes) as a SQLite GLOB pattern (same semantics). */
export function toGlob(pattern: string): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\" && i + 1 < pattern.length) out += literal(pattern[++i]);
    else if (c === "*" || c === "?") out += c;
    else out += literal(c);
  }
  return out;
}

function literal(c: string): string {
  return c === "*" || c === "?" || c === "[" ? `[${c}]` : c;
}

// Up to this many values are bound one by one (the planner sees `owner_id = ?` and seeks the
// index); more go as one JSON array, since SQLite caps an expression's depth at 1000 and a
// statement's variables at 32766 (5,000 filter values were an InternalError, found by the fuzzer).
const MAX_INLINE_VALUES = 64;

/** `column op value` for any of the values (none: false), adding its parameters to `params`. */
function anyOf(column: string, op: "=" | "GLOB", values: string[], params: SQLInputValue[]): string {
  if (values.length > MAX_INLINE_VALUES) {
    params.push(JSON.stringify(values));
    return `EXISTS (SELECT 1 FROM json_each(?) AS v WHERE ${column} ${op} v.value)`;
  }
  params.push(...values);
  return `(${values.map(() => `${column} ${op} ?`).join(" OR ") || "0"})`;
}

/**
 * One SQLite file (WAL) with cached statements and versioned migrations. Calls are synchronous,
 * so everything inside tx() is one transaction with nothing interleaved.
 */
export class SqliteDatabase {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(path: string, migrations: Migration[]) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    // NORMAL in WAL mode: a crashed process loses nothing committed; power loss may drop the last
    // commits but never breaks consistency (chunk bytes are fsynced before their rows exist).
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    for (const m of migrations) {
      if (m.version <= this.schemaVersion) continue;
      this.tx(() => {
        this.#db.exec(m.sql);
        this.#db.exec(`PRAGMA user_version = ${m.version}`);
      });
    }
  }

  get schemaVersion(): number {
    return Number((this.#db.prepare("PRAGMA user_version").get() as Row).user_version);
  }

  q(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  tx<T>(fn: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      this.#db.exec("COMMIT");
      return result;
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
  }

  /**
   * Rows of `table` (snapshots or images) the account owns or has a permission for (to it or to
   * 'all'), ordered by id, narrowed by owner and by a page window: one indexed query, so a page
   * of 100 out of 10,000 reads 101 rows.
   */
  visibleTo(table: "snapshots" | "images", accountId: string, scope: ListScope): Row[] {
    const where = [
      "(owner_id = ? OR id IN (SELECT resource_id FROM permissions WHERE grantee IN (?, 'all')))",
    ];
    const params: SQLInputValue[] = [accountId, accountId];
    if (scope.ownerIds) where.push(anyOf("owner_id", "=", scope.ownerIds, params));
    for (const { column, patterns } of scope.where ?? []) {
      if (!FILTER_COLUMNS.has(column)) throw new Error(`not a filterable column: ${column}`);
      where.push(anyOf(column, "GLOB", patterns.map(toGlob), params));
    }
    if (scope.hideDeprecatedAt !== undefined) {
      where.push("(owner_id = ? OR coalesce(json_extract(attributes, '$.deprecationTime') > ?, 1))");
      params.push(accountId, scope.hideDeprecatedAt);
    }
    if (scope.after !== undefined) {
      where.push("id > ?");
      params.push(scope.after);
    }
    const limit = scope.limit === undefined ? "" : ` LIMIT ${Math.floor(scope.limit)}`;
    return this.q(`SELECT * FROM ${table} WHERE ${where.join(" AND ")} ORDER BY id${limit}`).all(
      ...params,
    ) as Row[];
  }

  /** Writes tags for resources inside the caller's transaction (a create and its tags commit together). */
  insertTags(resourceIds: string[], tags: { key: string; value: string }[]): void {
    const up = this.q(
      "INSERT INTO tags (resource_id, key, value) VALUES (?, ?, ?) ON CONFLICT (resource_id, key) DO UPDATE SET value = excluded.value",
    );
    for (const id of resourceIds) for (const t of tags) up.run(id, t.key, t.value);
  }

  /** The `v` column of every row. */
  column(sql: string, ...params: SQLInputValue[]): SQLInputValue[] {
    return (this.q(sql).all(...params) as Row[]).map((r) => r.v);
  }

  close(): void {
    this.#db.close();
  }
}
