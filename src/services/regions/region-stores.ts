// The backend factory: which stores a region runs on, chosen by configuration. The embedded
// default is SQLite + packs in the region's data dir; packs may instead live in an S3-compatible
// bucket (Ceph RGW, MinIO, AWS S3). Everything above gets the interfaces only.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { BlockStore } from "../../storage/chunks/block-store.ts";
import type { CodecPool } from "../../storage/chunks/codec-pool.ts";
import { LocalChunkStore } from "../../storage/chunks/local-chunk-store.ts";
import { LocalPackStore } from "../../storage/chunks/local-pack-store.ts";
import type { PackStore } from "../../storage/chunks/pack-store.ts";
import { S3PackStore } from "../../storage/chunks/s3-pack-store.ts";
import type { CatalogStore } from "../../storage/metadata/catalog-store.ts";
import type { HostStore } from "../../storage/metadata/host-store.ts";
import type { InstanceStore } from "../../storage/metadata/instance-store.ts";
import type { MetadataStore } from "../../storage/metadata/metadata-store.ts";
import type { NetworkStore } from "../../storage/metadata/network-store.ts";
import { pgMigrations } from "../../storage/metadata/postgres/migrations.ts";
import { PgAdvisoryLocks } from "../../storage/metadata/postgres/pg-advisory-locks.ts";
import { PgCatalogStore } from "../../storage/metadata/postgres/pg-catalog-store.ts";
import { PgDatabase } from "../../storage/metadata/postgres/pg-database.ts";
import { PgHostStore } from "../../storage/metadata/postgres/pg-host-store.ts";
import { PgInstanceStore } from "../../storage/metadata/postgres/pg-instance-store.ts";
import { PgMetadataStore } from "../../storage/metadata/postgres/pg-metadata-store.ts";
import { PgNetworkStore } from "../../storage/metadata/postgres/pg-network-store.ts";
import { PgPackIndex } from "../../storage/metadata/postgres/pg-pack-index.ts";
import { PgQuotaUsage } from "../../storage/metadata/postgres/pg-quota-usage.ts";
import { PgSecurityGroupStore } from "../../storage/metadata/postgres/pg-security-group-store.ts";
import type { QuotaUsageStore } from "../../storage/metadata/quota-usage.ts";
import { LocalRegionLocks, type RegionLocks } from "../../storage/metadata/region-locks.ts";
import type { SecurityGroupStore } from "../../storage/metadata/security-group-store.ts";
import { migrations } from "../../storage/metadata/sqlite/migrations.ts";
import { SqliteCatalogStore } from "../../storage/metadata/sqlite/sqlite-catalog-store.ts";
import { SqliteDatabase } from "../../storage/metadata/sqlite/sqlite-database.ts";
import { SqliteHostStore } from "../../storage/metadata/sqlite/sqlite-host-store.ts";
import { SqliteInstanceStore } from "../../storage/metadata/sqlite/sqlite-instance-store.ts";
import { SqliteMetadataStore } from "../../storage/metadata/sqlite/sqlite-metadata-store.ts";
import { SqliteNetworkStore } from "../../storage/metadata/sqlite/sqlite-network-store.ts";
import { SqlitePackIndex } from "../../storage/metadata/sqlite/sqlite-pack-index.ts";
import { SqliteQuotaUsage } from "../../storage/metadata/sqlite/sqlite-quota-usage.ts";
import { SqliteSecurityGroupStore } from "../../storage/metadata/sqlite/sqlite-security-group-store.ts";

/** Where a region's packs live. */
export type PackBackend = { type: "local" } | ({ type: "s3" } & S3Location);

export interface S3Location {
  bucket: string;
  /** Key prefix inside the bucket (e.g. "us-east-1/"), default none. */
  prefix?: string;
  /** e.g. http://127.0.0.1:7480; default: AWS S3 of `region`. */
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Path-style addressing (default: true when an endpoint is given). */
  forcePathStyle?: boolean;
}

/** Where a region's metadata lives. */
export type MetadataBackend =
  | { type: "sqlite" }
  | {
      type: "postgres";
      /** postgres://user:password@host:port/database */
      url: string;
      /** The schema holding this region's tables (created if missing), default "public". */
      schema?: string;
    };

/** A region's storage configuration (the server's `--storage-config` file, per region). */
export interface RegionStorage {
  metadata?: MetadataBackend;
  packs?: PackBackend;
  /** Pack size target in bytes (default 16 MiB). */
  packBytes?: number;
  gc?: { graceMs?: number; intervalMs?: number };
}

export interface RegionStores {
  meta: MetadataStore;
  catalog: CatalogStore;
  quotaUsage: QuotaUsageStore;
  instances: InstanceStore;
  network: NetworkStore;
  securityGroups: SecurityGroupStore;
  hosts: HostStore;
  blocks: BlockStore;
  /** Named locks every writer of the region honours (this process's, or all hosts' on PostgreSQL). */
  locks: RegionLocks;
  /**
   * Only this process uses these stores (SQLite in this host's data dir): the start-up sweep may
   * then take everything unreferenced at once. Shared stores (PostgreSQL, several hosts) may not.
   */
  exclusive: boolean;
  close(): Promise<void>;
}

export async function openRegionStores(
  dir: string,
  codec: CodecPool,
  storage: RegionStorage,
): Promise<RegionStores> {
  const chunksDir = join(dir, "chunks");
  const packs = openPackStore(chunksDir, storage.packs ?? { type: "local" });
  const blockOptions = {
    legacy: hasLegacyChunks(chunksDir) ? new LocalChunkStore(chunksDir) : undefined,
    writer: { targetBytes: storage.packBytes },
  };
  const metadata = storage.metadata ?? { type: "sqlite" };
  if (metadata.type === "postgres") {
    const db = await openPostgres(metadata.url, metadata.schema);
    const meta = new PgMetadataStore(db);
    // A pool of their own: holders wait on creates that need the database's pool (and chunk locks').
    const locks = new PgAdvisoryLocks({ ...db.pool.options, max: 16 }, "strata:region-lock:");
    return {
      meta,
      catalog: new PgCatalogStore(db),
      quotaUsage: new PgQuotaUsage(db),
      instances: new PgInstanceStore(db),
      network: new PgNetworkStore(db),
      securityGroups: new PgSecurityGroupStore(db),
      hosts: new PgHostStore(db),
      blocks: new BlockStore(packs, new PgPackIndex(db), codec, blockOptions),
      // Other hosts may share the database and the packs: the start-up sweep keeps the grace period.
      locks,
      exclusive: false,
      // Ends the lock pools and the database's (see PgMetadataStore.end).
      close: async () => {
        await Promise.allSettled([locks.close(), meta.end()]);
      },
    };
  }
  const db = new SqliteDatabase(join(dir, "metadata.db"), migrations);
  return {
    meta: new SqliteMetadataStore(db),
    catalog: new SqliteCatalogStore(db),
    quotaUsage: new SqliteQuotaUsage(db),
    instances: new SqliteInstanceStore(db),
    network: new SqliteNetworkStore(db),
    securityGroups: new SqliteSecurityGroupStore(db),
    hosts: new SqliteHostStore(db),
    blocks: new BlockStore(packs, new SqlitePackIndex(db), codec, blockOptions),
    locks: new LocalRegionLocks(),
    exclusive: true,
    // After the unit of work in flight, if any (closing mid-unit would fail its next statement).
    close: () => db.exclusive(() => db.close()),
  };
}

function poolConfig(url: string, schema?: string): pg.PoolConfig {
  return { connectionString: url, ...(schema ? { options: `-c search_path=${schema}` } : {}) };
}

/** The region's database, its schema created first when one is named. */
async function openPostgres(url: string, schema?: string): Promise<PgDatabase> {
  if (schema) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`not a schema name: '${schema}'`);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } finally {
      await client.end();
    }
  }
  return PgDatabase.open(url, pgMigrations, { pool: poolConfig(url, schema) });
}

export function openPackStore(chunksDir: string, backend: PackBackend): PackStore {
  switch (backend.type) {
    case "local":
      return new LocalPackStore(chunksDir);
    case "s3":
      return new S3PackStore({
        endpoint: backend.endpoint,
        region: backend.region ?? "us-east-1",
        bucket: backend.bucket,
        prefix: backend.prefix,
        credentials:
          backend.accessKeyId && backend.secretAccessKey
            ? { accessKeyId: backend.accessKeyId, secretAccessKey: backend.secretAccessKey }
            : undefined,
        forcePathStyle: backend.forcePathStyle,
      });
    default:
      throw new Error(`unknown pack backend '${(backend as { type: string }).type}'`);
  }
}

/** Chunk files of the format before packs (`<chunks>/ab/cd/<hash>`): read and freed, never written. */
function hasLegacyChunks(chunksDir: string): boolean {
  return existsSync(chunksDir) && readdirSync(chunksDir).some((d) => /^[0-9a-f]{2}$/.test(d));
}
