// The chunk store fills up in the middle of a snapshot: a 64 MiB tmpfs is mounted at the region's
// chunk directory (in a private mount namespace the daemon runs in) and a volume with more
// incompressible data than fits is snapshotted. The put of a whole pack fails; the snapshot must
// end in `error` saying the store is full, give back the space its earlier packs (emptied by its
// failure, every chunk of them recorded, so they go at once) and the cut-off pack's temp file
// took, and break nothing else. The rows of failed puts ('writing' packs, no bytes) wait for the
// pack GC: the audits allow those, nothing else.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { CompleteSnapshotCommand, PutSnapshotBlockCommand, StartSnapshotCommand } from "@aws-sdk/client-ebs";
import {
  CreateSnapshotCommand,
  DeleteSnapshotCommand,
  DeleteVolumeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
} from "@aws-sdk/client-ec2";
import { compareMaps, VolumeModel } from "./crash/model.ts";
import { packFiles } from "./crash/pack-audit.ts";
import { Prng } from "./crash/prng.ts";
import { compareVolume } from "./crash/scenarios/volume-ops.ts";
import { canMountTmpfs, mountSmallFilesystem, type SmallFilesystem } from "./crash/small-filesystem.ts";
import { auditStore, chunkRows, storedSnapshotMap } from "./crash/store-audit.ts";
import { createVolume, settledSnapshot, type TrialContext } from "./crash/trial.ts";
import { World } from "./crash/world.ts";
import { BLOCK_SIZE, MiB, seededBytes, sha256, tempDir } from "./helpers.ts";

const REGION = "us-east-1";
const cannot = canMountTmpfs();
const dataDir = tempDir("strata-disk-full-");
const chunksDir = join(dataDir, "regions", REGION, "chunks");
let fs: SmallFilesystem;
let world: World;
let ctx: TrialContext;

before(async () => {
  if (cannot) return;
  fs = await mountSmallFilesystem(chunksDir, 64);
  world = new World(dataDir, { wrap: fs.wrap });
  await world.start();
  ctx = {
    world,
    rng: new Prng("disk-full"),
    tag: "disk-full",
    deadlineMs: 120_000,
    known: new Set(),
    note: () => {},
  };
});
after(async () => {
  if (cannot) return;
  if (world?.daemon?.alive) await world.kill("SIGTERM");
  await fs?.close();
});

/** A volume with `mib` MiB of random (incompressible) data from a seed, and its model. */
async function volumeWith(seed: string, mib: number): Promise<VolumeModel> {
  const v = new VolumeModel(await createVolume(world, REGION), REGION);
  const writes = new Map<number, Buffer>();
  for (let b = 0; b < (mib * MiB) / BLOCK_SIZE; b++) writes.set(b, seededBytes(`${seed}-${b}`, BLOCK_SIZE));
  await world.writeBlocks(v, writes);
  return v;
}

const tmpFiles = () => readdirSync(fs.inside(join(chunksDir, "tmp")));
const packCount = () => packFiles(fs.inside(chunksDir)).size;

test("a snapshot that fills the chunk store fails with a clear message, frees its space and breaks nothing else", {
  skip: cannot ?? false,
}, async () => {
  // Something that fits, first: it must survive the other snapshot's failure intact.
  const kept = await volumeWith("kept", 16);
  const keptSnap = await world.ec2().send(new CreateSnapshotCommand({ VolumeId: kept.id }));
  assert.equal((await settledSnapshot(ctx, REGION, keptSnap.SnapshotId!))?.state, "completed");
  const freeBefore = fs.free();
  assert.ok(
    freeBefore < 50 * MiB,
    `the small file system is what holds the chunks (${freeBefore} bytes free)`,
  );

  // 96 MiB of incompressible data into the ~48 MiB left.
  const big = await volumeWith("big", 96);
  const packsBefore = packCount();
  // The most packs seen while the snapshot runs: it stores some before the store fills up.
  let peak = packsBefore;
  const watch = setInterval(() => {
    peak = Math.max(peak, packCount());
  }, 2);
  const { SnapshotId } = await world.ec2().send(new CreateSnapshotCommand({ VolumeId: big.id }));
  // Writes while it runs (copy-on-write of frozen blocks) are the volume's business: they succeed.
  for (const b of [150, 3, 90]) {
    await world.writeBlocks(big, new Map([[b, seededBytes(`during-${b}`, BLOCK_SIZE)]]));
  }
  const failed = await settledSnapshot(ctx, REGION, SnapshotId!).finally(() => clearInterval(watch));
  assert.equal(failed?.state, "error");
  const { Snapshots } = await world.ec2().send(new DescribeSnapshotsCommand({ SnapshotIds: [SnapshotId!] }));
  assert.match(Snapshots![0].StateMessage ?? "", /no space left/i, "DescribeSnapshots says why");

  // The space the failed snapshot took is back: none of its packs (it had stored some: their
  // removal is what the free space shows), no temp files.
  assert.ok(
    peak > packsBefore,
    `the snapshot stored packs before the store filled up (${peak} > ${packsBefore})`,
  );
  assert.equal(packCount(), packsBefore, "its packs went with its failure");
  assert.deepEqual(tmpFiles(), []);
  assert.ok(
    fs.free() >= freeBefore - MiB,
    `free space back to ${freeBefore} bytes (within 1 MiB of directories): ${fs.free()}`,
  );
  assert.deepEqual(auditStore(fs.inside(dataDir), { noPending: true, awaitingGc: ["unsealed"] }), []);

  // Everything else still works: the daemon answers, the other volume and snapshot read back.
  const { Volumes } = await world.ec2().send(new DescribeVolumesCommand({ VolumeIds: [kept.id, big.id] }));
  assert.deepEqual(
    Volumes?.map((v) => v.State),
    ["available", "available"],
  );
  assert.deepEqual(await compareVolume(ctx, kept, "the other volume"), []);
  assert.deepEqual(await compareVolume(ctx, big, "the volume whose snapshot failed"), []);
  const restored = new VolumeModel(
    await createVolume(world, REGION, keptSnap.SnapshotId!),
    REGION,
    kept.snapshot(),
  );
  assert.deepEqual(await compareVolume(ctx, restored, "a restore of the other snapshot"), []);

  // New small work succeeds: a snapshot that fits in the space left.
  const small = await volumeWith("small", 4);
  const smallSnap = await world.ec2().send(new CreateSnapshotCommand({ VolumeId: small.id }));
  assert.equal((await settledSnapshot(ctx, REGION, smallSnap.SnapshotId!))?.state, "completed");
  assert.deepEqual(auditStore(fs.inside(dataDir), { noPending: true, awaitingGc: ["unsealed"] }), []);
});

test("an EBS PutSnapshotBlock into a full store is refused cleanly, and the upload finishes once space is back", {
  skip: cannot ?? false,
}, async () => {
  const ebs = world.ebs();
  const { SnapshotId } = await ebs.send(new StartSnapshotCommand({ VolumeSize: 1, Description: "upload" }));
  const put = (block: number, data: Buffer) =>
    ebs.send(
      new PutSnapshotBlockCommand({
        SnapshotId,
        BlockIndex: block,
        BlockData: data,
        DataLength: BLOCK_SIZE,
        Checksum: createHash("sha256").update(data).digest("base64"),
        ChecksumAlgorithm: "SHA256",
      }),
    );
  // Random blocks until the store is full: that put fails with a server-side, retryable error.
  const written = new Map<number, Buffer>();
  let refused: { name?: string; $metadata?: { httpStatusCode?: number }; message?: string } | undefined;
  for (let b = 0; b < 256 && !refused; b++) {
    const data = seededBytes(`upload-${b}`, BLOCK_SIZE);
    await put(b, data).then(
      () => written.set(b, data),
      (e) => {
        refused = e;
      },
    );
  }
  assert.ok(refused, "the store filled up");
  assert.equal(refused.$metadata?.httpStatusCode, 503);
  assert.equal(refused.name, "InsufficientVolumeCapacity");
  assert.match(refused.message ?? "", /no space left/i);
  assert.deepEqual(tmpFiles(), [], "the cut-off put left no temp file");
  assert.deepEqual(
    world.daemon.stderr.filter((l) => /InternalError|request .*:/.test(l)),
    [],
    "no internal error was logged",
  );
  // Completing now counts only the blocks that were written (the refused one is not).
  const linear = () => {
    const h = createHash("sha256");
    for (const b of [...written.keys()].sort((x, y) => x - y))
      h.update(createHash("sha256").update(written.get(b)!).digest());
    return h.digest("base64");
  };
  // Space comes back (the first test's volumes and snapshots go), and the upload goes on.
  for (const s of (await world.ec2().send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }))).Snapshots ??
    []) {
    if (s.SnapshotId !== SnapshotId)
      await world.ec2().send(new DeleteSnapshotCommand({ SnapshotId: s.SnapshotId }));
  }
  for (const v of (await world.ec2().send(new DescribeVolumesCommand({}))).Volumes ?? []) {
    await world.ec2().send(new DeleteVolumeCommand({ VolumeId: v.VolumeId }));
  }
  const next = written.size;
  for (let b = next; b < next + 8; b++) {
    const data = seededBytes(`upload-${b}`, BLOCK_SIZE);
    await put(b, data);
    written.set(b, data);
  }
  const done = await ebs.send(
    new CompleteSnapshotCommand({
      SnapshotId,
      ChangedBlocksCount: written.size,
      Checksum: linear(),
      ChecksumAlgorithm: "SHA256",
      ChecksumAggregationMethod: "LINEAR",
    }),
  );
  assert.equal(done.Status, "completed");
  const expected = new Map([...written].map(([b, d]) => [b, sha256(d)]));
  const stored = storedSnapshotMap(fs.inside(dataDir), REGION, SnapshotId!);
  assert.equal(compareMaps(expected, stored), null);
  assert.deepEqual(auditStore(fs.inside(dataDir), { noPending: true, awaitingGc: ["unsealed"] }), []);
  // And deleting it gives the whole file system back.
  await world.ec2().send(new DeleteSnapshotCommand({ SnapshotId }));
  assert.equal(chunkRows(fs.inside(dataDir), REGION).size, 0);
  assert.ok(fs.free() > 62 * MiB, `all but the directories is free again: ${fs.free()} bytes`);
});
