// Every statement on the connection runs while the caller holds the database's async mutex.
// One connection serves every store of a region (and the account store its own). A unit of work
// (unitOfWork) is a transaction that awaits between its statements, as a PostgreSQL transaction
// does; while it is open, any statement another request ran on the connection would join it: its
// write would vanish with the unit's rollback, and its own BEGIN would fail with "cannot start a
// transaction within a transaction". So nothing touches the connection without the mutex: a
// synchronous body goes through exclusive() or tx() (run at once when the mutex is free), an async
// one through unitOfWork(), and q() refuses to prepare or hand out a statement to a caller that
// does not hold it (inside a unit of work, "holding" is the unit's async context).
import { AsyncLocalStorage } from "node:async_hooks";
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

/** The async context of an open unit of work: its code holds the mutex until the unit ends. */
const unitContext = new AsyncLocalStorage<object>();

/**
 * One SQLite file (WAL) with cached statements, versioned migrations and the mutex that serializes
 * every use of its one connection (see the top of this file).
 */
export class SqliteDatabase {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  /** The mutex is held (by a unit of work, or handed to a waiter). */
  #busy = false;
  readonly #waiters: (() => void)[] = [];
  /** The open unit of work's token (its async context), or null. */
  #unit: object | null = null;
  /** >0 while a synchronous body runs under the mutex. */
  #syncDepth = 0;
  /** Open transaction levels: 0 none, 1 BEGIN, more: savepoints of nested units. */
  #txDepth = 0;

  constructor(path: string, migrations: Migration[]) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    // NORMAL in WAL mode: a crashed process loses nothing committed; power loss may drop the last
    // commits but never breaks consistency (chunk bytes are fsynced before their rows exist).
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    // Nobody else can hold the database while its constructor runs.
    this.#sync(() => {
      for (const m of migrations) {
        if (m.version <= this.#schemaVersion()) continue;
        this.#transaction(() => {
          this.#db.exec(m.sql);
          this.#db.exec(`PRAGMA user_version = ${m.version}`);
        });
      }
    });
  }

  #schemaVersion(): number {
    return Number((this.q("PRAGMA user_version").get() as Row).user_version);
  }

  /** The cached statement; only for a caller holding the mutex (inside exclusive, tx or unitOfWork). */
  q(sql: string): StatementSync {
    if (!this.#holds()) {
      throw new Error(
        "SqliteDatabase.q() outside exclusive()/tx()/unitOfWork(): the statement could join another caller's open transaction",
      );
    }
    let s = this.#statements.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  /** Runs a synchronous body holding the mutex: at once when it is free or already ours. */
  exclusive<T>(fn: () => T): Promise<T> {
    return this.#withMutex(() => this.#sync(fn));
  }

  /**
   * Runs a synchronous body as one transaction (BEGIN IMMEDIATE, COMMIT; ROLLBACK on throw) holding
   * the mutex. Inside a unit of work it is a savepoint of it.
   */
  tx<T>(fn: () => T): Promise<T> {
    return this.exclusive(() => this.#transaction(fn));
  }

  /** tx() for a caller already holding the mutex (inside an exclusive() body): synchronous. */
  transaction<T>(fn: () => T): T {
    if (!this.#holds()) throw new Error("SqliteDatabase.transaction() outside exclusive()/unitOfWork()");
    return this.#sync(() => this.#transaction(fn));
  }

  /**
   * Runs an async body as one transaction: BEGIN IMMEDIATE, COMMIT when it resolves, ROLLBACK when
   * it throws, holding the mutex throughout (other callers wait for it). Inside a unit of work it is
   * a savepoint of it (await nested units one at a time). The body must not wait for anything that
   * itself waits for this database outside the unit (it would wait forever).
   */
  async unitOfWork<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#syncDepth > 0) throw new Error("a unit of work cannot start inside a synchronous body");
    if (this.#inUnit()) return this.#asyncTransaction(fn);
    await this.#acquire();
    const unit = {};
    this.#unit = unit;
    try {
      return await unitContext.run(unit, () => this.#asyncTransaction(fn));
    } finally {
      this.#unit = null;
      this.#release();
    }
  }

  #inUnit(): boolean {
    return this.#unit !== null && unitContext.getStore() === this.#unit;
  }

  #holds(): boolean {
    return this.#syncDepth > 0 || this.#inUnit();
  }

  // Uncontended (or re-entered by the holder), the body runs synchronously: no added tick.
  #withMutex<T>(run: () => T): Promise<T> {
    if (!this.#busy || this.#inUnit()) {
      try {
        return Promise.resolve(run());
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.#acquire().then(() => {
      try {
        return run();
      } finally {
        this.#release();
      }
    });
  }

  async #acquire(): Promise<void> {
    if (!this.#busy) {
      this.#busy = true;
      return;
    }
    // FIFO; #release hands the mutex over without freeing it, so no one can cut in.
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  #release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#busy = false;
  }

  #sync<T>(fn: () => T): T {
    this.#syncDepth++;
    try {
      return fn();
    } finally {
      this.#syncDepth--;
    }
  }

  #begin(): string {
    const level = this.#txDepth;
    const savepoint = `uow${level}`;
    // Counted once begun: a BEGIN that fails (busy past the timeout) leaves nothing open.
    this.#db.exec(level === 0 ? "BEGIN IMMEDIATE" : `SAVEPOINT ${savepoint}`);
    this.#txDepth++;
    return savepoint;
  }

  #end(savepoint: string, commit: boolean): void {
    const outer = --this.#txDepth === 0;
    const undo = () => {
      // SQLite may have rolled back already (e.g. on SQLITE_FULL): then there is nothing to undo.
      if (!outer) this.#db.exec(`ROLLBACK TO ${savepoint}; RELEASE ${savepoint}`);
      else if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
    };
    if (!commit) {
      undo();
      return;
    }
    try {
      this.#db.exec(outer ? "COMMIT" : `RELEASE ${savepoint}`);
    } catch (e) {
      undo();
      throw e;
    }
  }

  #finish(savepoint: string, level: number): void {
    if (this.#txDepth !== level + 1) throw new Error("nested units of work must be awaited one at a time");
    this.#end(savepoint, true);
  }

  #transaction<T>(fn: () => T): T {
    const level = this.#txDepth;
    const savepoint = this.#begin();
    try {
      const result = fn();
      this.#finish(savepoint, level);
      return result;
    } catch (e) {
      if (this.#txDepth > level) this.#end(savepoint, false);
      throw e;
    }
  }

  async #asyncTransaction<T>(fn: () => Promise<T>): Promise<T> {
    const level = this.#txDepth;
    const savepoint = this.#begin();
    try {
      const result = await fn();
      this.#finish(savepoint, level);
      return result;
    } catch (e) {
      if (this.#txDepth > level) this.#end(savepoint, false);
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
