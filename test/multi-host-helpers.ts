// Several Strata hosts serving the same regions, as in production: one PostgreSQL (accounts and
// every region's metadata) and one Ceph RGW (packs), each host with its own data dir and port.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { EC2Client } from "@aws-sdk/client-ec2";
import { type Daemon, startDaemon } from "./daemon.ts";
import { adminCredentials, ec2 } from "./ec2-helpers.ts";
import { tempDir } from "./helpers.ts";
import { baseImageId } from "./instance-helpers.ts";
import { type PostgresServer, startPostgres } from "./servers/postgres.ts";
import { type Rgw, startRgw } from "./servers/rgw.ts";

export interface Host {
  daemon: Daemon;
  dir: string;
  /** EC2 as the admin account (whose credentials the first host wrote), in us-east-1. */
  ec2: EC2Client;
}

export interface Hosts {
  pg: PostgresServer;
  rgw: Rgw;
  databaseUrl: string;
  /** The first host, which built the base image; then the second. */
  a: Host;
  b: Host;
  /** EC2 through `host` as the admin account, in `region` (default us-east-1). */
  ec2(host: Daemon, region?: string): EC2Client;
  /** Starts one more host on the shared stores (its data dir named after its id). */
  add(id: string, args: string[]): Promise<Host>;
  /** Stops every host, last started first, then RGW and PostgreSQL. */
  stop(): Promise<void>;
}

export interface HostsOptions {
  /** The regions every host serves (comma-separated). */
  regions: string;
  /** The bucket of the packs of regions not listed under `default`, and of those listed. */
  buckets: { default: string } & Record<string, string>;
  /** The first two hosts: their ids (which name their data dirs) and server flags. */
  hosts: [{ id: string; args: string[] }, { id: string; args: string[] }];
}

/** Whether the VM of instance `id` runs on the host of data dir `dir`. */
export const hasVm = (dir: string, id: string) => existsSync(join(dir, "instances", id));

/** PostgreSQL, RGW with the buckets, and the first two hosts (the second once the base image is in). */
export async function startHosts(options: HostsOptions): Promise<Hosts> {
  const [pg, rgw] = await Promise.all([startPostgres(), startRgw({ memBytes: 2 * 1024 ** 3 })]);
  const started: Daemon[] = [];
  const stop = async () => {
    for (const d of [...started].reverse()) await d.kill("SIGTERM");
    await Promise.all([pg.stop(), rgw.stop()]);
  };
  try {
    const { default: defaultBucket, ...regionBuckets } = options.buckets;
    for (const bucket of new Set(Object.values(options.buckets))) await rgw.createBucket(bucket);
    const databaseUrl = await pg.createDatabase();
    const packs = (bucket: string) => ({
      type: "s3",
      endpoint: rgw.endpoint,
      bucket,
      accessKeyId: rgw.accessKeyId,
      secretAccessKey: rgw.secretAccessKey,
    });
    const metadata = { type: "postgres", url: databaseUrl, schema: "r_{region}" };
    const regions = Object.entries(regionBuckets).map(([r, bucket]) => [
      r,
      { metadata, packs: packs(bucket) },
    ]);
    const config = join(tempDir(`strata-${options.hosts[0].id}-config-`), "storage.json");
    writeFileSync(
      config,
      JSON.stringify({
        accounts: { type: "postgres", url: databaseUrl },
        default: { metadata, packs: packs(defaultBucket) },
        regions: regions.length > 0 ? Object.fromEntries(regions) : undefined,
      }),
    );
    let credentialsDir = "";
    const client = (host: Daemon, region?: string) => ec2(host, adminCredentials(credentialsDir), region);
    const add = async (id: string, args: string[], baseImage = false): Promise<Host> => {
      const dir = tempDir(`strata-${id}-`);
      const daemon = await startDaemon(dir, options.regions, {
        baseImage,
        args: ["--storage-config", config, "--host-id", id, ...args],
      });
      started.push(daemon);
      credentialsDir ||= dir;
      return { daemon, dir, ec2: client(daemon) };
    };
    const [first, second] = options.hosts;
    const a = await add(first.id, first.args, true);
    await baseImageId(a.ec2);
    // The second host finds the accounts, the base image and everything else in the shared stores.
    const b = await add(second.id, second.args);
    return { pg, rgw, databaseUrl, a, b, ec2: client, add: (id, args) => add(id, args), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
