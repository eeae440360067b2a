// SIGKILL the daemon while it puts packs into a real S3-compatible bucket (Ceph RGW): after a
// restart no completed snapshot points at a pack the bucket lacks, the interrupted snapshot
// resumes and holds its content (checked by hash), and the restart's sweep leaves no pack in the
// bucket that no row knows.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, test } from "node:test";
import { AdminClient } from "../src/cli/admin-client.ts";
import { adminSocketPath } from "../src/server/admin-socket.ts";
import { storageFor } from "../src/services/regions/storage-config.ts";
import { S3PackStore } from "../src/storage/chunks/s3-pack-store.ts";
import { DaemonProcess } from "./crash/daemon-process.ts";
import { MiB, seededBytes, sha256, tempDir } from "./helpers.ts";
import { type Rgw, startRgw } from "./servers/rgw.ts";

const DATA_MiB = 48;
let rgw: Rgw;
let configFile: string;

before(async () => {
  rgw = await startRgw();
  await rgw.createBucket("crash");
  configFile = join(tempDir(), "storage.json");
  // Small packs: one snapshot of 48 MiB puts a dozen, so a kill at the N-th lands mid-snapshot.
  writeFileSync(
    configFile,
    JSON.stringify({
      default: {
        packBytes: 2 * MiB,
        packs: {
          type: "s3",
          endpoint: rgw.endpoint,
          bucket: "crash",
          prefix: "{data-dir}/{region}/",
          accessKeyId: rgw.accessKeyId,
          secretAccessKey: rgw.secretAccessKey,
        },
      },
    }),
  );
});
after(() => rgw?.stop());

async function daemon(dataDir: string, env: Record<string, string> = {}) {
  const d = new DaemonProcess(dataDir, {
    regions: "us-east-1",
    env: { STRATA_STORAGE_CONFIG: configFile, ...env },
  });
  const ready = d.ready.then(() => true);
  return { d, ready, client: () => new AdminClient(adminSocketPath(dataDir), "us-east-1", "admin") };
}

async function readAll(c: AdminClient, volumeId: string): Promise<string> {
  return sha256(await c.read(volumeId, 0, DATA_MiB * MiB));
}

/** Packs the region's rows point at, and those its prefix in the bucket holds. */
async function packsOf(dataDir: string) {
  const db = new DatabaseSync(join(dataDir, "regions", "us-east-1", "metadata.db"), { readOnly: true });
  const rows = db.prepare("SELECT DISTINCT pack AS v FROM chunks WHERE pack IS NOT NULL").all();
  const known = db.prepare("SELECT id AS v, state FROM packs").all();
  db.close();
  const s = storageFor(JSON.parse(readFileSync(configFile, "utf8")), "us-east-1", dataDir);
  if (s.packs?.type !== "s3") throw new Error("not on S3");
  const store = new S3PackStore({
    endpoint: s.packs.endpoint,
    region: "us-east-1",
    bucket: s.packs.bucket,
    prefix: s.packs.prefix,
    credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
  });
  const stored: string[] = [];
  for await (const p of store.list()) stored.push(p.id);
  return {
    referenced: rows.map((r) => String(r.v)),
    rows: known.map((r) => ({ id: String(r.v), state: String(r.state) })),
    stored: stored.sort(),
  };
}

// 96 blocks: 3 batches of 32 (chunks.uploaded once each), a dozen 2 MiB packs.
for (const point of ["pack-writer.put-done@4", "chunks.uploaded@2"]) {
  test(`SIGKILL at ${point} while packs go to S3: nothing completed misses a pack; the snapshot resumes exact`, async () => {
    const dataDir = tempDir();
    let { d, ready, client } = await daemon(dataDir, { STRATA_CRASH_AT: point });
    await ready;
    let c = client();
    const v = (await c.createVolume({ sizeGiB: 1 })) as { id: string };
    for (let off = 0; off < DATA_MiB * MiB; off += 8 * MiB) {
      await c.write(v.id, off, seededBytes(`s3-crash-${point}-${off}`, 8 * MiB));
    }
    const expected = await readAll(c, v.id);
    const s = (await c.createSnapshot(v.id)) as { id: string };
    // Dead at the crash point (SIGKILL: no exit code), not done with the snapshot.
    const outcome = await Promise.race([
      d.exited.then((code) => ({ died: code })),
      c.getSnapshot(s.id, true).then(
        (x) => ({ finished: x }),
        () => d.exited.then((code) => ({ died: code })),
      ),
    ]);
    assert.deepEqual(outcome, { died: null }, "the daemon must die at the crash point, mid-snapshot");
    const cut = await packsOf(dataDir);
    const stored = new Set(cut.stored);
    assert.deepEqual(
      cut.referenced.filter((p) => !stored.has(p)),
      [],
      "every chunk row points at a pack the bucket holds, even right after the kill",
    );

    ({ d, ready, client } = await daemon(dataDir));
    await ready;
    c = client();
    const done = (await c.getSnapshot(s.id, true)) as { state: string };
    assert.equal(done.state, "completed");
    const restored = (await c.createVolume({ snapshotId: s.id })) as { id: string };
    assert.equal(await readAll(c, restored.id), expected, "the resumed snapshot holds the volume's content");
    d.proc.kill("SIGTERM");
    await d.exited;
    const end = await packsOf(dataDir);
    assert.deepEqual(end.stored, end.rows.map((r) => r.id).sort(), "bucket and pack rows match one to one");
    assert.ok(
      end.rows.every((r) => r.state === "sealed"),
      "no pack is left half-written",
    );
  });
}
