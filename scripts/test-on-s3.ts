// The storage test files again, with every region's packs in a real S3-compatible bucket (a
// throw-away Ceph RGW on loopback) instead of the data dir, and with --postgres every region's
// metadata in a private PostgreSQL 15 instead of SQLite: the same code path, selected by the
// STRATA_STORAGE_CONFIG variable alone. Each engine gets its own prefix and schema ({data-dir}),
// so test files sharing the bucket and the database never see (or sweep) each other's data.
// Run: bin/node scripts/test-on-s3.ts [--postgres] [test files...] (default: the list below).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPostgres } from "../test/servers/postgres.ts";
import { startRgw } from "../test/servers/rgw.ts";

const ROOT = join(import.meta.dirname, "..");

// Where the pack store matters and nothing reads pack files from the data dir directly.
const FILES = [
  "test/pack-gc.test.ts",
  "test/regions-and-chunks.test.ts",
  "test/snapshots.test.ts",
  "test/volumes.test.ts",
  "test/direct-snapshots.test.ts",
  "test/ebs-direct.test.ts",
  "test/images.test.ts",
  "test/sharing.test.ts",
  "test/storage-usage.test.ts",
  "test/import-export.test.ts",
  "test/ec2-snapshot-actions.test.ts",
  "test/ec2-image-actions.test.ts",
  // The one VM file run twice: the seeds' workflow (launch, CreateImage, launch it, CopyImage to
  // another region and launch there) with every image's snapshots in the bucket.
  "test/instances.test.ts",
];

const args = process.argv.slice(2);
const postgres = args.includes("--postgres");
const named = args.filter((a) => a !== "--postgres");
const files = named.length > 0 ? named : FILES;
const rgw = await startRgw({ memBytes: 3 * 1024 ** 3 });
const pg = postgres ? await startPostgres() : undefined;
const dir = mkdtempSync(join(tmpdir(), "strata-s3-tests-"));
let code = 1;
try {
  await rgw.createBucket("strata-tests");
  const metadata = pg && { type: "postgres", url: await pg.createDatabase(), schema: "s_{data-dir}_{region}" };
  const config = join(dir, "storage.json");
  writeFileSync(
    config,
    JSON.stringify({
      default: {
        ...(metadata ? { metadata } : {}),
        packs: {
          type: "s3",
          endpoint: rgw.endpoint,
          bucket: "strata-tests",
          prefix: "{data-dir}/{region}/",
          accessKeyId: rgw.accessKeyId,
          secretAccessKey: rgw.secretAccessKey,
        },
      },
    }),
  );
  console.log(
    `RGW at ${rgw.endpoint} (started in ${(rgw.startMs / 1000).toFixed(1)} s)${pg ? `, PostgreSQL on port ${pg.port}` : ""}; ${files.length} files`,
  );
  code = await new Promise<number>((resolve) => {
    const child = spawn(
      join(ROOT, "bin/node"),
      ["--test", "--test-concurrency=2", "--test-timeout=600000", ...files],
      { cwd: ROOT, stdio: "inherit", env: { ...process.env, STRATA_STORAGE_CONFIG: config } },
    );
    child.once("exit", (c) => resolve(c ?? 1));
  });
} finally {
  await rgw.stop();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(code);
