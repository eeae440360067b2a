// PostgreSQL's side of the shared row mapping (../metadata-rows.ts): the snapshot INSERT with its
// placeholders, and block numbers (bigint, so strings from the driver).

import type pg from "pg";
import { SNAPSHOT_COLUMNS } from "../metadata-rows.ts";
import type { PgDatabase } from "./pg-database.ts";

export { snapshotParams, toBlockRef, toSnapshot, toVolume } from "../metadata-rows.ts";

export const INSERT_SNAPSHOT = `INSERT INTO snapshots (${SNAPSHOT_COLUMNS})
  VALUES (${Array.from({ length: 19 }, (_, i) => `$${i + 1}`).join(", ")})`;

/** Block numbers (bigint, so strings from the driver) of the `v` column. */
export async function blockNumbers(
  db: PgDatabase,
  sql: string,
  params: unknown[],
  on?: pg.PoolClient,
): Promise<number[]> {
  return (await db.column(sql, params, on)).map(Number);
}
