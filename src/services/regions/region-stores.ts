// The backend factory: which stores a region runs on, chosen by configuration. The embedded
// default is SQLite + packs in the region's data dir; packs may instead live in an S3-compatible
// bucket (Ceph RGW, MinIO, AWS S3). Everything above gets the interfaces only.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { BlockStore } from "../../storage/chunks/block-store.ts";
import type { CodecPool } from "../../storage/chunks/codec-pool.ts";
import { LocalChunkStore } from "../../storage/chunks/local-chunk-store.ts";
import { LocalPackStore } from "../../storage/chunks/local-pack-store.ts";
import type { PackStore } from "../../storage/chunks/pack-store.ts";
import { S3PackStore } from "../../storage/chunks/s3-pack-store.ts";
import type { CatalogStore } from "../../storage/metadata/catalog-store.ts";
import type { InstanceStore } from "../../storage/metadata/instance-store.ts";
import type { MetadataStore } from "../../storage/metadata/metadata-store.ts";
import type { NetworkStore } from "../../storage/metadata/network-store.ts";
import type { QuotaUsageStore } from "../../storage/metadata/quota-usage.ts";
import type { SecurityGroupStore } from "../../storage/metadata/security-group-store.ts";
import { migrations } from "../../storage/metadata/sqlite/migrations.ts";
import { SqliteCatalogStore } from "../../storage/metadata/sqlite/sqlite-catalog-store.ts";
import { SqliteDatabase } from "../../storage/metadata/sqlite/sqlite-database.ts";
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

/** A region's storage configuration (the server's `--config` file, per region). */
export interface RegionStorage {
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
  blocks: BlockStore;
  /**
   * Only this process uses these stores (SQLite in this host's data dir): the start-up sweep may
   * then take everything unreferenced at once. Shared stores (PostgreSQL, several hosts) may not.
   */
  exclusive: boolean;
  close(): Promise<void>;
}

export function openRegionStores(dir: string, codec: CodecPool, storage: RegionStorage): RegionStores {
  const db = new SqliteDatabase(join(dir, "metadata.db"), migrations);
  const chunksDir = join(dir, "chunks");
  const packs = openPackStore(chunksDir, storage.packs ?? { type: "local" });
  const blocks = new BlockStore(packs, new SqlitePackIndex(db), codec, {
    legacy: hasLegacyChunks(chunksDir) ? new LocalChunkStore(chunksDir) : undefined,
    writer: { targetBytes: storage.packBytes },
  });
  return {
    meta: new SqliteMetadataStore(db),
    catalog: new SqliteCatalogStore(db),
    quotaUsage: new SqliteQuotaUsage(db),
    instances: new SqliteInstanceStore(db),
    network: new SqliteNetworkStore(db),
    securityGroups: new SqliteSecurityGroupStore(db),
    blocks,
    exclusive: true,
    // After the unit of work in flight, if any (closing mid-unit would fail its next statement).
    close: () => db.exclusive(() => db.close()),
  };
}

function openPackStore(chunksDir: string, backend: PackBackend): PackStore {
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
