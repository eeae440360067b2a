// The storage benchmark's --rgw: the daemon of the CLI restores keeps its packs in a bucket of a
// throw-away Ceph RGW (memstore, loopback, the same cores) instead of the data dir, selected as
// in production by STRATA_STORAGE_CONFIG alone (metadata stays in the data dir's SQLite).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Rgw, startRgw } from "../test/servers/rgw.ts";

/**
 * Runs `body` with STRATA_STORAGE_CONFIG naming a bucket on a fresh RGW (also given to `body`, for
 * reference tools to keep their repositories there too); stops it afterwards.
 */
export async function withRgwPacks<T>(
  dir: string,
  log: (step: string) => void,
  body: (rgw: Rgw) => Promise<T>,
) {
  // 1 GiB of mixed content stores ~0.5 GB; room for it and RGW's own pools.
  const rgw = await startRgw({ memBytes: 3 * 1024 ** 3 });
  log(`RGW (memstore) started in ${(rgw.startMs / 1000).toFixed(1)} s at ${rgw.endpoint}`);
  const before = process.env.STRATA_STORAGE_CONFIG;
  try {
    await rgw.createBucket("strata-bench");
    const config = join(dir, "storage.json");
    const packs = {
      type: "s3",
      endpoint: rgw.endpoint,
      bucket: "strata-bench",
      prefix: "{region}/",
      accessKeyId: rgw.accessKeyId,
      secretAccessKey: rgw.secretAccessKey,
    };
    writeFileSync(config, JSON.stringify({ default: { packs } }));
    process.env.STRATA_STORAGE_CONFIG = config;
    return await body(rgw);
  } finally {
    if (before === undefined) delete process.env.STRATA_STORAGE_CONFIG;
    else process.env.STRATA_STORAGE_CONFIG = before;
    await rgw.stop();
  }
}
