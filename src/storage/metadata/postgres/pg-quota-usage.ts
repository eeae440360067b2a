import type { QuotaUsageStore, VolumeUsage } from "../quota-usage.ts";
import type { PgDatabase } from "./pg-database.ts";

/** Quota usage as aggregate queries over the region's tables (each uses an owner index). */
export class PgQuotaUsage implements QuotaUsageStore {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async volumeUsage(ownerId: string): Promise<Map<string, VolumeUsage>> {
    const rows = await this.#db.query(
      `SELECT volume_type, SUM(size_gib) AS size, SUM(COALESCE(iops, 0)) AS iops
       FROM volumes WHERE owner_id = $1 GROUP BY volume_type ORDER BY volume_type`,
      [ownerId],
    );
    // SUM of integers is a bigint, which pg hands over as a string.
    return new Map(
      rows.map((r) => [String(r.volume_type), { sizeGiB: Number(r.size), iops: Number(r.iops) }]),
    );
  }

  async snapshotCount(ownerId: string): Promise<number> {
    return this.#count("SELECT COUNT(*) AS n FROM snapshots WHERE owner_id = $1", ownerId);
  }

  async imageCount(ownerId: string): Promise<number> {
    return this.#count("SELECT COUNT(*) AS n FROM images WHERE owner_id = $1", ownerId);
  }

  async publicImageCount(ownerId: string): Promise<number> {
    return this.#count(
      `SELECT COUNT(*) AS n FROM images i JOIN permissions p ON p.resource_id = i.id
       WHERE i.owner_id = $1 AND p.grantee = 'all'`,
      ownerId,
    );
  }

  async keyPairCount(ownerId: string): Promise<number> {
    return this.#count("SELECT COUNT(*) AS n FROM key_pairs WHERE owner_id = $1", ownerId);
  }

  async activeInstanceTypes(ownerId: string): Promise<string[]> {
    const types = await this.#db.column(
      `SELECT attributes->>'instanceType' AS v FROM instances
       WHERE owner_id = $1 AND state IN ('pending', 'running', 'stopping', 'shutting-down') ORDER BY id`,
      [ownerId],
    );
    return types.map(String);
  }

  async #count(sql: string, ownerId: string): Promise<number> {
    return Number((await this.#db.one(sql, [ownerId]))?.n);
  }
}
