import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import { strataCli } from "./ec2-helpers.ts";
import { MiB, seededBytes, sha256, tempDir } from "./helpers.ts";

const _run = promisify(execFile);
const _STRATA = join(import.meta.dirname, "..", "bin", "strata");
const dataDir = tempDir();
const work = tempDir();
let daemon: Daemon;

before(async () => {
  daemon = await startDaemon(dataDir);
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

const strata = (...args: string[]) => strataCli(dataDir, ...args);

test("the health endpoint reports the version and configured regions", async () => {
  const res = await fetch(`${daemon.url}/health`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: "ok", version: "0.1.0", regions: ["us-east-1", "eu-west-1"] });
});

test("the CLI writes a file to a volume, snapshots it, copies it across regions and reads it back", async () => {
  const input = join(work, "input.bin");
  const data = Buffer.concat([seededBytes("cli", 3 * MiB), Buffer.alloc(MiB), seededBytes("cli2", 12345)]);
  writeFileSync(input, data);
  const vol = JSON.parse((await strata("volume", "create", "--size", "1")).out);
  assert.match(vol.id, /^vol-[0-9a-f]{17}$/);
  assert.equal(JSON.parse((await strata("volume", "write", vol.id, input)).out).written, data.byteLength);
  const snap = JSON.parse(
    (await strata("snapshot", "create", vol.id, "--description", "cli test", "--wait")).out,
  );
  assert.match(snap.id, /^snap-[0-9a-f]{17}$/);
  assert.equal(snap.state, "completed");
  assert.equal(snap.description, "cli test");
  assert.equal(snap.stats.dataBytes, 7 * 512 * 1024, "6 random blocks, 1 partial, 2 zero blocks skipped");

  const copy = JSON.parse((await strata("snapshot", "copy", snap.id, "--to", "eu-west-1", "--wait")).out);
  assert.equal(copy.state, "completed");
  const restored = JSON.parse(
    (await strata("volume", "create", "--snapshot", copy.id, "--region", "eu-west-1")).out,
  );
  const output = join(work, "output.bin");
  const read = await strata(
    "volume",
    "read",
    restored.id,
    "--out",
    output,
    "--length",
    String(data.byteLength),
    "--region",
    "eu-west-1",
  );
  assert.equal(read.code, 0, read.err);
  assert.equal(sha256(readFileSync(output)), sha256(data));
  const list = JSON.parse((await strata("snapshot", "list", "--region", "eu-west-1")).out);
  assert.deepEqual(
    list.map((s: { id: string }) => s.id),
    [copy.id],
  );
});

test("CLI errors carry the EC2-style code and exit non-zero", async () => {
  const bad = await strata("volume", "create", "--size", "20000");
  assert.equal(bad.code, 1);
  assert.match(bad.err, /InvalidParameterValue: Volume size 20000 is out of range/);
  const unknown = await strata("snapshot", "show", "snap-0123456789abcdef0");
  assert.match(unknown.err, /InvalidSnapshot\.NotFound/);
  const region = await strata("volume", "list", "--region", "ap-south-1");
  assert.match(region.err, /InvalidRegion: Region 'ap-south-1' is not configured/);
});
