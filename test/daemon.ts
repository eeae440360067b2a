// Runs the real `strata server` as a child process (so tests can SIGKILL it) and checks the
// on-disk invariants a crash must never break.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after } from "node:test";
import { AdminClient } from "../src/cli/admin-client.ts";
import { adminSocketPath } from "../src/server/admin-socket.ts";
import type { RegionStorage } from "../src/services/regions/region-stores.ts";
import { readStorageConfig, storageFor } from "../src/services/regions/storage-config.ts";
import { auditPacks } from "./crash/pack-audit.ts";

const ROOT = join(import.meta.dirname, "..");

export interface Daemon {
  url: string;
  proc: ChildProcess;
  /** The admin API on the data dir's socket, acting as `account` (id, alias or name; default admin). */
  client(region?: string, account?: string): AdminClient;
  /** Everything the daemon printed so far (stdout and stderr). */
  output(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

// Daemons still running when a test file ends (a failed test never reached its kill) are killed,
// so no server outlives its test file or keeps it from exiting.
const live = new Set<ChildProcess>();
after(async () => {
  await Promise.all(
    [...live].map((p) => {
      const gone = new Promise((r) => p.once("exit", r));
      p.kill("SIGTERM");
      return gone;
    }),
  );
});

/**
 * Server flags for VPC networking, with a public pool of its own (a random /24 of 100.64.0.0/11):
 * daemons of test files running in parallel must not claim the same pool.
 */
export function vpcNetworkArgs(): string[] {
  const pool = `100.${64 + Math.floor(Math.random() * 32)}.${Math.floor(Math.random() * 256)}.0/24`;
  return ["--network", "vpc", "--public-pool", pool];
}

/**
 * Starts `strata server`. Tests about storage and the API skip the base image (it would appear
 * among the images they list); instance tests pass `baseImage: true` and extra server flags.
 * `wrapper` runs it through a command that execs it (e.g. `prlimit --nofile=256:256 --`).
 */
export async function startDaemon(
  dataDir: string,
  regions = "us-east-1,eu-west-1",
  options: { baseImage?: boolean; args?: string[]; wrapper?: string[] } = {},
): Promise<Daemon> {
  const args = [
    "server",
    "--data-dir",
    dataDir,
    "--port",
    "0",
    "--regions",
    regions,
    ...(options.args ?? []),
  ];
  if (!options.baseImage) args.push("--no-base-image");
  // User-mode networking unless a test asks for the VPC data plane (vpcNetworkArgs): instance tests
  // that do not test networking SSH in through the host port, as a host without the data plane does.
  if (!args.includes("--network")) args.push("--network", "user");
  const [command, ...commandArgs] = [...(options.wrapper ?? []), join(ROOT, "bin/strata"), ...args];
  const proc = spawn(command, commandArgs, {
    env: { ...process.env, STRATA_LOG_REQUESTS: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /listening on (https?:\/\/\S+)/.exec(output);
      if (m) resolve(m[1]);
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", (d: Buffer) => {
      output += d.toString();
      // The daemon's errors belong in the test output (an InternalError's stack is only there).
      process.stderr.write(d);
    });
    proc.once("exit", (code) => reject(new Error(`strata server exited (${code}): ${output}`)));
  });
  live.add(proc);
  const exited = new Promise<void>((r) =>
    proc.once("exit", () => {
      live.delete(proc);
      r();
    }),
  );
  return {
    url,
    proc,
    client: (region = "us-east-1", account = "admin") =>
      new AdminClient(adminSocketPath(dataDir), region, account),
    output: () => output,
    async kill(signal) {
      proc.kill(signal);
      await exited;
    },
  };
}

/**
 * The invariants: no completed snapshot references a missing chunk, every chunk row's bytes are in
 * its sealed pack where the pack's own index says and decode to its hash, nothing leaked. The
 * daemon was stopped without a restart: packs the pack GC has not taken yet (a put never sealed,
 * one emptied but not all of whose chunks were recorded) are garbage awaiting it, not a leak (see
 * test/crash/pack-audit.ts); their rows, files and bytes are still checked to agree.
 */
export function assertStoreConsistent(dataDir: string): void {
  // Metadata in PostgreSQL (the suite's second pass): no region database in the data dir; the
  // PostgreSQL stores' invariants are the contract suites' business.
  if (configured(dataDir, "us-east-1").metadata?.type === "postgres") return;
  for (const region of readdirSync(join(dataDir, "regions"))) {
    const dir = join(dataDir, "regions", region);
    const db = new DatabaseSync(join(dir, "metadata.db"), { readOnly: true });
    try {
      // Packs in a bucket (the suite's S3 pass): the database's own invariants below still hold;
      // rows against the bucket's objects are checked by test/crash-s3.test.ts.
      if (packsInS3(dataDir, region)) continue;
      const packs = auditPacks(join(dir, "chunks"), db);
      assert.deepEqual(
        packs.problems.map((p) => `${p.what}: ${p.items.slice(0, 5).join(", ")}`),
        [],
        `${region}: chunk rows and packs disagree, or bytes leaked`,
      );
      assert.deepEqual(
        packs.awaitingGc.filter((g) => g.kind === "emptied").flatMap((g) => g.items),
        [],
        `${region}: packs that deletes emptied, every chunk of them recorded: they should have gone at once`,
      );
      assert.deepEqual(readdirSync(join(dir, "chunks", "tmp")), [], `${region}: temp files left`);
    } finally {
      db.close();
    }
  }
  for (const region of readdirSync(join(dataDir, "regions"))) {
    const dir = join(dataDir, "regions", region);
    const db = new DatabaseSync(join(dir, "metadata.db"), { readOnly: true });
    try {
      const missing = db
        .prepare(
          `SELECT s.id, b.chunk_hash FROM snapshots s JOIN snapshot_blocks b ON b.snapshot_id = s.id
           WHERE s.state = 'completed' AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.hash = b.chunk_hash)`,
        )
        .all();
      assert.deepEqual(missing, [], `${region}: completed snapshots with missing chunks`);
      const unreferenced = db
        .prepare(
          `SELECT hash FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM snapshot_blocks s WHERE s.chunk_hash = c.hash)
           AND NOT EXISTS (SELECT 1 FROM volume_blocks v WHERE v.chunk_hash = c.hash)`,
        )
        .all();
      assert.deepEqual(unreferenced, [], `${region}: leaked chunks`);
      const volumes = (db.prepare("SELECT id FROM volumes").all() as { id: string }[]).map((r) => r.id);
      const volumeDirs = existsSync(join(dir, "volumes")) ? readdirSync(join(dir, "volumes")) : [];
      assert.deepEqual(volumeDirs.sort(), volumes.sort(), `${region}: volume files match volume rows`);
    } finally {
      db.close();
    }
  }
}

function configured(dataDir: string, region: string): RegionStorage {
  const file = process.env.STRATA_STORAGE_CONFIG;
  return file ? storageFor(readStorageConfig(file), region, dataDir) : {};
}

function packsInS3(dataDir: string, region: string): boolean {
  return configured(dataDir, region).packs?.type === "s3";
}
