// Data at rest is private to the daemon's user: a data dir that already exists with 0755 is
// tightened at start, and everything the daemon (and its children) create is 0600/0700.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { CreateSnapshotCommand, CreateVolumeCommand, waitUntilSnapshotCompleted } from "@aws-sdk/client-ec2";
import { startDaemon } from "./daemon.ts";
import { adminCredentials, createAccount, ec2 } from "./ec2-helpers.ts";
import { MiB, seededBytes, tempDir } from "./helpers.ts";

const run = promisify(execFile);
const STRATA = join(import.meta.dirname, "..", "bin", "strata");

/** Every path under `dir` (itself included) whose group or others bits are set. */
function readableByOthers(dir: string): string[] {
  const out: string[] = [];
  const visit = (path: string) => {
    const s = lstatSync(path);
    if (s.isSymbolicLink()) return;
    if (s.mode & 0o077) out.push(`${path} ${(s.mode & 0o777).toString(8)}`);
    if (s.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(dir);
  return out;
}

function countFiles(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n++;
  return n;
}

test("a 0755 data dir is tightened to 0700 at start, and nothing the daemon writes is readable by others", async () => {
  const dataDir = join(tempDir(), "data");
  // As a user (or an older Strata under umask 022) would have left it.
  mkdirSync(join(dataDir, "regions"), { recursive: true, mode: 0o755 });
  chmodSync(dataDir, 0o755);
  chmodSync(join(dataDir, "regions"), 0o755);
  writeFileSync(join(dataDir, "notes.txt"), "left by the operator\n", { mode: 0o644 });
  chmodSync(join(dataDir, "notes.txt"), 0o644);

  const daemon = await startDaemon(dataDir);
  try {
    assert.equal(lstatSync(dataDir).mode & 0o777, 0o700);
    assert.equal(lstatSync(join(dataDir, "regions")).mode & 0o777, 0o700);
    assert.equal(lstatSync(join(dataDir, "notes.txt")).mode & 0o777, 0o600);
    const line = daemon
      .output()
      .split("\n")
      .filter((l) => l.includes("tightened"));
    assert.equal(line.length, 1, daemon.output());
    assert.match(line[0], /data dir .*: tightened .*data 0755 -> 0700/);
    assert.match(line[0], /regions 0755 -> 0700/);
    assert.match(line[0], /notes\.txt 0644 -> 0600/);

    // Volumes with data, snapshots (chunks), a cross-region copy, through EC2 and the CLI.
    const admin = ec2(daemon, adminCredentials(dataDir));
    const vol = await admin.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a" }));
    await daemon.client().write(vol.VolumeId!, 0, seededBytes("private", 2 * MiB));
    const snap = await admin.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId }));
    await waitUntilSnapshotCompleted({ client: admin, maxWaitTime: 60 }, { SnapshotIds: [snap.SnapshotId!] });
    const cli = async (...args: string[]) =>
      JSON.parse((await run(STRATA, [...args, "--data-dir", dataDir])).stdout) as { id: string };
    const cliVol = await cli("volume", "create", "--size", "1");
    const input = join(tempDir(), "in.bin");
    writeFileSync(input, seededBytes("cli-private", MiB));
    await cli("volume", "write", cliVol.id, input);
    const cliSnap = await cli("snapshot", "create", cliVol.id, "--wait");
    await cli("snapshot", "copy", cliSnap.id, "--to", "eu-west-1", "--wait");
    await createAccount(dataDir, "carol");
    assert.ok(countFiles(dataDir) > 10, "the walk below sees the files the daemon wrote");
    assert.deepEqual(readableByOthers(dataDir), []);
  } finally {
    await daemon.kill("SIGTERM");
  }
  assert.deepEqual(readableByOthers(dataDir), [], "nor what it wrote on the way out");

  // A second start finds nothing to tighten, and says nothing about it.
  const again = await startDaemon(dataDir);
  try {
    assert.doesNotMatch(again.output(), /tightened/);
  } finally {
    await again.kill("SIGTERM");
  }
});
