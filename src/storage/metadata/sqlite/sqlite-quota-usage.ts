import type { QuotaUsageStore, VolumeUsage } from "../quota-usage.ts";
import type { Row, SqliteDatabase } from "./sqlite-database.ts";

/** Quota usage as aggregate queries over the region's tables (each uses an owner index). */
export class SqliteQuotaUsage implements QuotaUsageStore {
  readonly #db: SqliteDatabase;

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  async volumeUsage(ownerId: string): Promise<Map<string, VolumeUsage>> {
    return this.#db.exclusive(() => {
      const rows = this.#db
        .q(
          `SELECT volume_type, SUM(size_gib) AS size, SUM(COALESCE(iops, 0)) AS iops
           FROM volumes WHERE owner_id = ? GROUP BY volume_type`,
        )
        .all(ownerId) as Row[];
      return new Map(
        rows.map((r) => [String(r.volume_type), { sizeGiB: Number(r.size), iops: Number(r.iops) }]),
      );
    });
  }

  async snapshotCount(ownerId: string): Promise<number> {
    return this.#count("SELECT COUNT(*) AS n FROM snapshots WHERE owner_id = ?", ownerId);
  }

  async imageCount(ownerId: string): Promise<number> {
    return this.#count("SELECT COUNT(*) AS n FROM images WHERE owner_id = ?", ownerId);
  }

  async publicImageCount(ownerId: string): Promise<number> {
    return this.#count(
      `SELECT COUNT(*) AS n FROM images i JOIN permissions p ON p.resource_id = i.id
       WHERE i.owner_id = ? AND p.grantee = 'all'`,
      ownerId,
    );
  }

  async keyPairCount(ownerId: string): Promise<number> {
    return this.#count("SELECT COUNT(*) AS n FROM key_pairs WHERE owner_id = ?", ownerId);
  }

  async activeInstanceTypes(ownerId: string): Promise<string[]> {
    return this.#db.exclusive(() => {
      return this.#db
        .q(
          `SELECT json_extract(attributes, '$.instanceType') AS type FROM instances
           WHERE owner_id = ? AND state IN ('pending', 'running', 'stopping', 'shutting-down')`,
        )
        .all(ownerId)
        .map((r) => String((r as Row).type));
    });
  }

  #count(sql: string, ownerId: string): Promise<number> {
    return this.#db.exclusive(() => Number((this.#db.q(sql).get(ownerId) as Row).n));
  }
}
