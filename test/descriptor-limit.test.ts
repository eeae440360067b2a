// One account must not be able to take the daemon down by exhausting its file descriptors: a
// volume is a row of 1 TiB segment files, and the daemon once held every segment of every
// volume open, so a few dozen 16 TiB volumes used up a 1,024 descriptor limit for every account,
// and start-up (which reopened every volume) failed the same way.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DeleteVolumeCommand,
  DescribeVolumesCommand,
  waitUntilSnapshotCompleted,
} from "@aws-sdk/client-ec2";
import { DEFAULT_MAX_OPEN_VOLUME_FILES } from "../src/storage/volume-files/descriptor-pool.ts";
import { mapConcurrent } from "../src/util/concurrency.ts";
import { type Daemon, startDaemon } from "./daemon.ts";
import { type Account, createAccount, ec2 } from "./ec2-helpers.ts";
import { BLOCK_SIZE, seededBytes, sha256, tempDir } from "./helpers.ts";

// Far below the usual 1,024, so a handful of accounts reach it; the daemon itself needs ~45.
const NOFILE = 256;
const LIMITED = ["prlimit", `--nofile=${NOFILE}:${NOFILE}`, "--"];
const REGIONS = "us-east-1,eu-west-1";
const TIB = 1024 ** 4;
const MAX_GIB = 16384;
const SEGMENTS = MAX_GIB / 1024;
// 3 x 16 TiB = 48 TiB each, under EBS's default 50 TiB gp3 quota per account; 7 accounts hold
// 21 volumes, 336 segment files: more than the whole descriptor limit.
const ACCOUNTS = 7;
const VOLUME_REGIONS = ["us-east-1", "us-east-1", "eu-west-1"];

interface Volume {
  owner: Account;
  region: string;
  id: string;
}

/** The daemon's descriptors open on volume segment files right now. */
function volumeDescriptors(daemon: Daemon, dataDir: string): number {
  const fdDir = `/proc/${daemon.proc.pid}/fd`;
  const regions = `${join(dataDir, "regions")}/`;
  let n = 0;
  for (const fd of readdirSync(fdDir)) {
    try {
      const target = readlinkSync(join(fdDir, fd));
      if (target.startsWith(regions) && target.includes("/volumes/")) n++;
    } catch {
      // closed while listing
    }
  }
  return n;
}

/** A distinct 8 KiB pattern somewhere in each segment (not block-aligned, so reads merge). */
function patterns(volumes: Volume[]) {
  return volumes.flatMap((v, i) =>
    Array.from({ length: SEGMENTS }, (_, seg) => ({
      volume: v,
      offset: seg * TIB + (i * SEGMENTS + seg) * 12_345 + 100,
      data: seededBytes(`${v.id}/${seg}`, 8192),
    })),
  );
}

test("many 16 TiB volumes from several accounts fit a low descriptor limit, keep their bytes and survive a restart", {
  timeout: 600_000,
}, async () => {
  const dataDir = tempDir();
  let daemon = await startDaemon(dataDir, REGIONS, { wrapper: LIMITED });
  assert.match(
    readFileSync(`/proc/${daemon.proc.pid}/limits`, "utf8"),
    new RegExp(`Max open files\\s+${NOFILE}\\s+${NOFILE}`),
  );
  const accounts: Account[] = [];
  for (let i = 0; i < ACCOUNTS; i++) accounts.push(await createAccount(dataDir, `tenant-${i}`));

  const volumes: Volume[] = [];
  for (const owner of accounts) {
    for (const region of VOLUME_REGIONS) {
      const v = await ec2(daemon, owner, region).send(
        new CreateVolumeCommand({ Size: MAX_GIB, AvailabilityZone: `${region}a`, VolumeType: "gp3" }),
      );
      assert.equal(v.Size, MAX_GIB);
      volumes.push({ owner, region, id: v.VolumeId! });
    }
  }
  assert.equal(volumes.length * SEGMENTS, 336);

  // Every segment of every volume: far more files than the pool keeps open, so its descriptors
  // are evicted and reopened while the writes are in flight.
  const written = patterns(volumes);
  await mapConcurrent(written, 8, (p) =>
    daemon.client(p.volume.region, p.volume.owner.accountId).write(p.volume.id, p.offset, p.data),
  );
  const readBack = async (d: Daemon) =>
    mapConcurrent(written, 8, async (p) => {
      const got = await d
        .client(p.volume.region, p.volume.owner.accountId)
        .read(p.volume.id, p.offset, p.data.byteLength);
      return { at: `${p.volume.id}@${p.offset}`, sha256: sha256(got) };
    });
  const expected = written.map((p) => ({ at: `${p.volume.id}@${p.offset}`, sha256: sha256(p.data) }));
  assert.deepEqual(await readBack(daemon), expected);
  const held = volumeDescriptors(daemon, dataDir);
  assert.ok(held > 0 && held <= DEFAULT_MAX_OPEN_VOLUME_FILES, `${held} volume descriptors open`);

  // A crash, then a start under the same limit: recovery opens no volume file.
  await daemon.kill("SIGKILL");
  daemon = await startDaemon(dataDir, REGIONS, { wrapper: LIMITED });
  assert.equal(volumeDescriptors(daemon, dataDir), 0);

  for (const owner of accounts) {
    for (const region of new Set(VOLUME_REGIONS)) {
      const client = ec2(daemon, owner, region);
      const described = await client.send(new DescribeVolumesCommand({}));
      assert.deepEqual(
        described.Volumes!.map((v) => [v.VolumeId, v.Size, v.State]).sort(),
        volumes
          .filter((v) => v.owner === owner && v.region === region)
          .map((v) => [v.id, MAX_GIB, "available"])
          .sort(),
      );
      // Still able to create (and delete) volumes.
      const extra = await client.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: `${region}a` }));
      assert.equal(extra.Size, 1);
      await client.send(new DeleteVolumeCommand({ VolumeId: extra.VolumeId }));
    }
  }
  assert.deepEqual(await readBack(daemon), expected);
  // Bytes never written read as zeros (the last TiB's end of the last volume).
  const last = volumes.at(-1)!;
  const tail = await daemon
    .client(last.region, last.owner.accountId)
    .read(last.id, MAX_GIB * 1024 ** 3 - 65536, 65536);
  assert.equal(sha256(tail), sha256(Buffer.alloc(65536)));
  const after = volumeDescriptors(daemon, dataDir);
  assert.ok(after > 0 && after <= DEFAULT_MAX_OPEN_VOLUME_FILES, `${after} volume descriptors open`);
  await daemon.kill("SIGTERM");
});

/** Resolves once the daemon answers /health again (its connection slots freed). */
async function healthy(daemon: Daemon): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      if ((await fetch(`${daemon.url}/health`)).ok) return;
    } catch (e) {
      if (attempt === 200) throw e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("a flood of idle connections is capped below the descriptor limit, and the daemon serves again once it ends", async () => {
  const dataDir = tempDir();
  const daemon = await startDaemon(dataDir, REGIONS, { wrapper: LIMITED });
  const client = daemon.client("us-east-1");
  const volume = (await client.createVolume({ sizeGiB: 1 })) as { id: string };
  // 256 descriptors, less 128 for volume files and 256 reserved: the floor of 64 connections.
  const cap = 64;
  const flood = 300;
  const port = Number(new URL(daemon.url).port);
  let dropped = 0;
  let sockets: Socket[] = [];
  await new Promise<void>((resolve) => {
    sockets = Array.from({ length: flood }, () =>
      connect(port, "127.0.0.1")
        .on("error", () => {})
        .on("close", () => {
          if (++dropped === flood - cap) resolve();
        }),
    );
  });
  const held = readdirSync(`/proc/${daemon.proc.pid}/fd`).length;
  assert.ok(held < NOFILE - 100, `${held} descriptors open during the flood: room left for the storage`);
  for (const s of sockets) s.destroy();
  await healthy(daemon);
  const data = seededBytes("after the flood", 65536);
  await client.write(volume.id, 4096, data);
  assert.equal(sha256(await client.read(volume.id, 4096, data.byteLength)), sha256(data));
  await daemon.kill("SIGTERM");
});

test("snapshots of several accounts' volumes taken at once complete under the low limit and restore their bytes", async () => {
  const dataDir = tempDir();
  const daemon = await startDaemon(dataDir, REGIONS, { wrapper: LIMITED });
  // A snapshot job stores whole batches of chunks at once: ~100 distinct blocks each keep one busy.
  const size = 100 * BLOCK_SIZE;
  const owners = await Promise.all([0, 1, 2, 3].map((i) => createAccount(dataDir, `snapper-${i}`)));
  const sources = await Promise.all(
    owners.map(async (owner, i) => {
      const client = ec2(daemon, owner, "us-east-1");
      const v = await client.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a" }));
      const data = seededBytes(`snapshot source ${i}`, size);
      await daemon.client("us-east-1", owner.accountId).write(v.VolumeId!, 0, data);
      return { client, owner, volumeId: v.VolumeId!, data };
    }),
  );
  const snapshots = await Promise.all(
    sources.map((s) => s.client.send(new CreateSnapshotCommand({ VolumeId: s.volumeId }))),
  );
  for (const [i, s] of sources.entries()) {
    const id = snapshots[i].SnapshotId!;
    await waitUntilSnapshotCompleted(
      { client: s.client, maxWaitTime: 300, minDelay: 1, maxDelay: 2 },
      {
        SnapshotIds: [id],
      },
    );
    const restored = await s.client.send(
      new CreateVolumeCommand({ SnapshotId: id, AvailabilityZone: "us-east-1a" }),
    );
    const got = await daemon.client("us-east-1", s.owner.accountId).read(restored.VolumeId!, 0, size);
    assert.equal(sha256(got), sha256(s.data));
  }
  await daemon.kill("SIGTERM");
});
