// The server's storage configuration (`strata server --storage-config FILE`, or the
// STRATA_STORAGE_CONFIG environment variable): which backends each region runs on. JSON:
//   { "default": { "packs": { "type": "s3", "endpoint": "http://127.0.0.1:7480",
//                             "bucket": "strata", "prefix": "{region}/" } },
//     "regions": { "eu-west-1": { "packs": { "type": "local" } } } }
// `{region}` in a bucket or prefix is the region's name; `{data-dir}` a short hash of the data
// dir's path, for independent installations sharing one bucket (tests do). Hosts serving one
// region share its bucket, prefix and database, and their accounts:
//   "accounts": { "type": "postgres", "url": "postgres://..." }. A bad file stops the start with a message naming the
// field, never a half-configured region.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { MetadataBackend, PackBackend, RegionStorage } from "./region-stores.ts";

export interface StorageConfig {
  /** Where accounts and keys live (default: the data dir's SQLite); hosts of one region share them. */
  accounts?: { type: "postgres"; url: string };
  default?: RegionStorage;
  regions?: Record<string, RegionStorage>;
}

export function readStorageConfig(path: string): StorageConfig {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`storage config ${path}: ${(e as Error).message}`);
  }
  return parseStorageConfig(json, path);
}

export function parseStorageConfig(json: unknown, source: string): StorageConfig {
  const at = (where: string, problem: string) => new Error(`storage config ${source}: ${where}: ${problem}`);
  const obj = (v: unknown, where: string): Record<string, unknown> => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw at(where, "must be an object");
    return v as Record<string, unknown>;
  };
  const only = (o: Record<string, unknown>, where: string, keys: string[]) => {
    for (const k of Object.keys(o)) if (!keys.includes(k)) throw at(where, `unknown field '${k}'`);
  };
  const str = (o: Record<string, unknown>, k: string, where: string, required = false) => {
    const v = o[k];
    if (v === undefined && !required) return undefined;
    if (typeof v !== "string" || v === "") throw at(`${where}.${k}`, "must be a non-empty string");
    return v;
  };
  const num = (o: Record<string, unknown>, k: string, where: string, min: number) => {
    const v = o[k];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min)
      throw at(`${where}.${k}`, `must be an integer >= ${min}`);
    return v;
  };
  const packs = (v: unknown, where: string): PackBackend => {
    const o = obj(v, where);
    if (o.type === "local") {
      only(o, where, ["type"]);
      return { type: "local" };
    }
    if (o.type !== "s3") throw at(`${where}.type`, "must be 'local' or 's3'");
    only(o, where, [
      "type",
      "bucket",
      "prefix",
      "endpoint",
      "region",
      "accessKeyId",
      "secretAccessKey",
      "forcePathStyle",
    ]);
    if (o.forcePathStyle !== undefined && typeof o.forcePathStyle !== "boolean") {
      throw at(`${where}.forcePathStyle`, "must be true or false");
    }
    if ((o.accessKeyId === undefined) !== (o.secretAccessKey === undefined)) {
      throw at(where, "accessKeyId and secretAccessKey go together");
    }
    return {
      type: "s3",
      bucket: str(o, "bucket", where, true) as string,
      prefix: o.prefix === "" ? "" : str(o, "prefix", where),
      endpoint: str(o, "endpoint", where),
      region: str(o, "region", where),
      accessKeyId: str(o, "accessKeyId", where),
      secretAccessKey: str(o, "secretAccessKey", where),
      forcePathStyle: o.forcePathStyle as boolean | undefined,
    };
  };
  const metadata = (v: unknown, where: string): MetadataBackend => {
    const o = obj(v, where);
    if (o.type === "sqlite") {
      only(o, where, ["type"]);
      return { type: "sqlite" };
    }
    if (o.type !== "postgres") throw at(`${where}.type`, "must be 'sqlite' or 'postgres'");
    only(o, where, ["type", "url", "schema"]);
    const url = str(o, "url", where, true) as string;
    if (!/^postgres(ql)?:\/\//.test(url)) throw at(`${where}.url`, "must be a postgres:// URL");
    const schema = str(o, "schema", where);
    if (schema !== undefined && !/^[a-z_][a-z0-9_{}-]*$/.test(schema)) {
      throw at(`${where}.schema`, "must be lowercase letters, digits and _ (placeholders allowed)");
    }
    return { type: "postgres", url, schema };
  };
  const region = (v: unknown, where: string): RegionStorage => {
    const o = obj(v, where);
    only(o, where, ["metadata", "packs", "packBytes", "gc"]);
    const gc = o.gc === undefined ? undefined : obj(o.gc, `${where}.gc`);
    if (gc) only(gc, `${where}.gc`, ["graceMs", "intervalMs"]);
    return {
      metadata: o.metadata === undefined ? undefined : metadata(o.metadata, `${where}.metadata`),
      packs: o.packs === undefined ? undefined : packs(o.packs, `${where}.packs`),
      packBytes: num(o, "packBytes", where, 1024 * 1024),
      gc: gc && {
        graceMs: num(gc, "graceMs", `${where}.gc`, 0),
        intervalMs: num(gc, "intervalMs", `${where}.gc`, 1000),
      },
    };
  };
  const top = obj(json, "the file");
  only(top, "the file", ["accounts", "default", "regions"]);
  let accounts: StorageConfig["accounts"];
  if (top.accounts !== undefined) {
    const o = obj(top.accounts, "accounts");
    only(o, "accounts", ["type", "url"]);
    if (o.type !== "postgres") throw at("accounts.type", "must be 'postgres'");
    const url = str(o, "url", "accounts", true) as string;
    if (!/^postgres(ql)?:\/\//.test(url)) throw at("accounts.url", "must be a postgres:// URL");
    accounts = { type: "postgres", url };
  }
  const regions = top.regions === undefined ? undefined : obj(top.regions, "regions");
  return {
    ...(accounts ? { accounts } : {}),
    default: top.default === undefined ? undefined : region(top.default, "default"),
    regions:
      regions && Object.fromEntries(Object.entries(regions).map(([n, v]) => [n, region(v, `regions.${n}`)])),
  };
}

/** The storage of one region: its own entry, else the default, with placeholders filled in. */
export function storageFor(config: StorageConfig, region: string, dataDir = ""): RegionStorage {
  const s = config.regions?.[region] ?? config.default ?? {};
  const dirId = createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 12);
  const fill = (v: string | undefined) => v?.replaceAll("{region}", region).replaceAll("{data-dir}", dirId);
  const out: RegionStorage = { ...s };
  if (s.packs?.type === "s3")
    out.packs = { ...s.packs, bucket: fill(s.packs.bucket) as string, prefix: fill(s.packs.prefix) };
  // A schema name is an identifier: the region's dashes become underscores.
  if (s.metadata?.type === "postgres" && s.metadata.schema) {
    out.metadata = { ...s.metadata, schema: fill(s.metadata.schema)?.replaceAll("-", "_") };
  }
  return out;
}
