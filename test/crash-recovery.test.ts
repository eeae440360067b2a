// SIGKILL the daemon in the middle of a snapshot, a copy and a restore; after a restart the
// interrupted work resumes, content is exact (checked by hash), and nothing leaks.
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import type { AdminClient } from "../src/cli/admin-client.ts";
import { assertStoreConsistent, startDaemon } from "./daemon.ts";
import { BLOCK_SIZE, MiB, seededBytes, sha256, tempDir } from "./helpers.ts";

const DATA_MiB = 384;

interface Snap {
  id: string;
  state: string;
  progress: number;
}

async function fill(client: AdminClient, volumeId: string, seed: string): Promise<void> {
  for (let off = 0; off < DATA_MiB * MiB; off += 8 * MiB) {
    await client.write(volumeId, off, seededBytes(`${seed}-${off}`, 8 * MiB));
  }
}

async function readAll(client: AdminClient, volumeId: string, length = DATA_MiB * MiB): Promise<string> {
  const parts: Buffer[] = [];
  for (let off = 0; off < length; off += 32 * MiB)
    parts.push(await client.read(volumeId, off, Math.min(32 * MiB, length - off)));
  return sha256(Buffer.concat(parts));
}

/** Polls until `ready` says the work is under way, returning what it saw at that moment. */
async function whenUnderWay<T>(get: () => Promise<T>, ready: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 2000; i++) {
    const v = await get();
    if (ready(v)) return v;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error("work never got under way");
}

/**
 * Where the kill really cut the work, read from the region's database once the daemon is dead:
 * a poll before the kill shows only that the work had started, not that it had not finished.
 */
function afterKill(dataDir: string, region: string, sql: string, id: string): Record<string, unknown> {
  const db = new DatabaseSync(join(dataDir, "regions", region, "metadata.db"), { readOnly: true });
  try {
    return db.prepare(sql).get(id) as Record<string, unknown>;
  } finally {
    db.close();
  }
}

test("SIGKILL during a snapshot with concurrent writes: it resumes and holds the point-in-time content", async () => {
  const dataDir = tempDir();
  let daemon = await startDaemon(dataDir);
  let c = daemon.client();
  const v = (await c.createVolume({ sizeGiB: 1 })) as { id: string };
  await fill(c, v.id, "snap");
  const before = await readAll(c, v.id);
  const s = (await c.createSnapshot(v.id)) as Snap;
  // Acknowledged overwrites after the snapshot began must not leak into it (copy-on-write).
  for (let i = 0; i < 8; i++) await c.write(v.id, i * 40 * MiB, seededBytes(`after-${i}`, BLOCK_SIZE));
  const seen = (await whenUnderWay(
    () => c.getSnapshot(s.id) as Promise<Snap>,
    (x) => x.progress > 0,
  )) as Snap;
  await daemon.kill("SIGKILL");
  assert.equal(seen.state, "pending", "the kill must land mid-snapshot for this test to mean anything");
  assert.equal(
    afterKill(dataDir, "us-east-1", "SELECT state FROM snapshots WHERE id = ?", s.id).state,
    "pending",
    "the snapshot was still pending when the daemon died",
  );

  daemon = await startDaemon(dataDir);
  c = daemon.client();
  const done = (await c.getSnapshot(s.id, true)) as Snap;
  assert.equal(done.state, "completed");
  const restored = (await c.createVolume({ snapshotId: s.id })) as { id: string };
  assert.equal(await readAll(c, restored.id), before, "snapshot content is the content at its start");
  const after = (await c.createSnapshot(v.id)) as Snap;
  const next = (await c.getSnapshot(after.id, true)) as Snap & { blocksRead: number };
  assert.equal(next.blocksRead, 8, "the 8 writes made during the snapshot belong to the next one");
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

test("SIGKILL during a cross-region copy: the copy resumes and completes with the same content", async () => {
  const dataDir = tempDir();
  let daemon = await startDaemon(dataDir);
  let c = daemon.client();
  const v = (await c.createVolume({ sizeGiB: 1 })) as { id: string };
  await fill(c, v.id, "copy");
  const expected = await readAll(c, v.id);
  const s = (await c.getSnapshot(((await c.createSnapshot(v.id)) as Snap).id, true)) as Snap;
  const copy = (await c.copySnapshot(s.id, "eu-west-1")) as Snap;
  const eu = daemon.client("eu-west-1");
  const seen = await whenUnderWay(
    () => eu.getSnapshot(copy.id) as Promise<Snap>,
    (x) => x.progress > 0,
  );
  await daemon.kill("SIGKILL");
  assert.equal(seen.state, "pending", "the kill must land mid-copy");
  assert.equal(
    afterKill(dataDir, "eu-west-1", "SELECT state FROM snapshots WHERE id = ?", copy.id).state,
    "pending",
    "the copy was still pending when the daemon died",
  );

  daemon = await startDaemon(dataDir);
  c = daemon.client("eu-west-1");
  const done = (await c.getSnapshot(copy.id, true)) as Snap;
  assert.equal(done.state, "completed");
  const restored = (await c.createVolume({ snapshotId: copy.id })) as { id: string };
  assert.equal(await readAll(c, restored.id), expected);
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

test("SIGKILL during a restore: hydration resumes and the volume reads the snapshot's content", async () => {
  const dataDir = tempDir();
  let daemon = await startDaemon(dataDir);
  let c = daemon.client();
  const v = (await c.createVolume({ sizeGiB: 1 })) as { id: string };
  await fill(c, v.id, "restore");
  const expected = await readAll(c, v.id);
  const s = (await c.getSnapshot(((await c.createSnapshot(v.id)) as Snap).id, true)) as Snap;
  const restored = (await c.createVolume({ snapshotId: s.id })) as { id: string };
  type Vol = { hydration: { total: number; remaining: number } };
  const seen = await whenUnderWay(
    () => c.getVolume(restored.id) as Promise<Vol>,
    (x) => x.hydration.remaining < x.hydration.total,
  );
  await daemon.kill("SIGKILL");
  assert.ok(seen.hydration.remaining > 0, "the kill must land mid-hydration");
  const remote = afterKill(
    dataDir,
    "us-east-1",
    "SELECT COUNT(*) AS n FROM volume_blocks WHERE volume_id = ? AND local = 0",
    restored.id,
  );
  assert.ok(Number(remote.n) > 0, "blocks were still to hydrate when the daemon died");

  daemon = await startDaemon(dataDir);
  c = daemon.client();
  assert.equal(await readAll(c, restored.id), expected);
  const vol = await whenUnderWay(
    () => c.getVolume(restored.id) as Promise<Vol>,
    (x) => x.hydration.remaining === 0,
  );
  assert.equal(vol.hydration.total, (DATA_MiB * MiB) / BLOCK_SIZE);
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});
