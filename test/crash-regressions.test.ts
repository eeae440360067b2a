// Regression tests for what the crash harness found, each at the exact point it found it: the
// daemon is restarted with a crash point armed (src/util/crash-points.ts), dies there, and
// after a restart the state must be one a user can reason about, with nothing leaked.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import {
  CopyImageCommand,
  CreateSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  RegisterImageCommand,
} from "@aws-sdk/client-ec2";
import { Prng } from "./crash/prng.ts";
import { auditStore, chunkRows, storedResources, storedSnapshotMap } from "./crash/store-audit.ts";
import { createVolume, settledImage, settledSnapshot, type TrialContext } from "./crash/trial.ts";
import { World } from "./crash/world.ts";
import { seededBytes, tempDir } from "./helpers.ts";
import { baseImageId } from "./instance-helpers.ts";

const worlds: World[] = [];
after(async () => {
  for (const w of worlds) if (w.daemon?.alive) await w.kill("SIGTERM");
});

function context(world: World): TrialContext {
  return {
    world,
    rng: new Prng("regressions"),
    tag: "r",
    deadlineMs: 120_000,
    known: new Set(),
    note: () => {},
  };
}

/** An image in us-east-1 of `count` volumes, each with 8 MiB of its own data. */
async function sourceImage(ctx: TrialContext, count: number): Promise<string> {
  const w = ctx.world;
  const mappings = [];
  for (let k = 0; k < count; k++) {
    const volumeId = await createVolume(w, "us-east-1");
    await w.admin().write(volumeId, 0, seededBytes(`image-${k}`, 8 * 1024 * 1024));
    const { SnapshotId } = await w.ec2().send(new CreateSnapshotCommand({ VolumeId: volumeId }));
    await settledSnapshot(ctx, "us-east-1", SnapshotId!);
    mappings.push({ DeviceName: `/dev/xvd${String.fromCharCode(97 + k)}`, Ebs: { SnapshotId } });
  }
  const { ImageId } = await w.ec2().send(
    new RegisterImageCommand({
      Name: "source",
      RootDeviceName: "/dev/xvda",
      BlockDeviceMappings: mappings,
    }),
  );
  return ImageId!;
}

/** Restarts the daemon armed with a crash point, runs `fn` (which the crash cuts off), restarts it clean. */
async function crashDuring(w: World, point: string, fn: () => Promise<unknown>): Promise<void> {
  await w.kill("SIGTERM");
  w.spawn({ STRATA_CRASH_AT: point });
  await w.daemon.ready;
  await assert.rejects(fn(), "the call is cut off by the crash");
  await w.daemon.exited;
  assert.equal(w.daemon.proc.signalCode, "SIGKILL", `the daemon died at ${point}`);
  await w.start();
}

for (const [point, created] of [
  ["image.recorded", 0],
  ["image.copy-snapshot-started@1", 1],
] as const) {
  test(`CopyImage cut off at ${point}: the copy turns failed, and no snapshot copy is left outside it`, async () => {
    const w = new World(tempDir());
    worlds.push(w);
    await w.start();
    const ctx = context(w);
    const source = await sourceImage(ctx, 2);
    await crashDuring(w, point, () =>
      w
        .ec2("eu-west-1")
        .send(new CopyImageCommand({ SourceRegion: "us-east-1", SourceImageId: source, Name: "copy" })),
    );
    const { Images } = await w.ec2("eu-west-1").send(new DescribeImagesCommand({ Owners: ["self"] }));
    assert.equal(Images?.length, 1, "the image was recorded before any snapshot copy began");
    const image = Images![0];
    const state = await settledImage(ctx, "eu-west-1", image.ImageId!);
    assert.equal(state?.state, "failed");
    assert.match(state!.message, /was never created/);
    // Every snapshot copy in the region belongs to the image; the ones begun completed.
    const named = new Set(image.BlockDeviceMappings!.map((m) => m.Ebs!.SnapshotId!));
    const { Snapshots } = await w.ec2("eu-west-1").send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }));
    assert.equal(Snapshots?.length, created);
    for (const s of Snapshots ?? []) {
      assert.ok(named.has(s.SnapshotId!), `${s.SnapshotId} is one of the image's`);
      assert.equal((await settledSnapshot(ctx, "eu-west-1", s.SnapshotId!))?.state, "completed");
    }
    // Deregistering the failed image with its snapshots leaves the region as before the copy.
    await w
      .ec2("eu-west-1")
      .send(new DeregisterImageCommand({ ImageId: image.ImageId!, DeleteAssociatedSnapshots: true }));
    assert.deepEqual(storedResources(w.dataDir, "eu-west-1").snapshots, []);
    assert.equal(chunkRows(w.dataDir, "eu-west-1").size, 0);
    assert.deepEqual(auditStore(w.dataDir, { noPending: true }), []);
    await w.kill("SIGTERM");
  });
}

test("a crash while the base image is being published leaves no scratch volume or stray snapshot behind", async () => {
  const w = new World(tempDir(), { baseImage: true });
  worlds.push(w);
  w.spawn({ STRATA_CRASH_AT: "base-image.snapshot-started" });
  await w.daemon.exited;
  assert.equal(w.daemon.proc.signalCode, "SIGKILL", "the daemon died while publishing");
  await w.start();
  for (const region of ["us-east-1", "eu-west-1"]) await baseImageId(w.ec2(region));
  await w.kill("SIGTERM");
  for (const region of ["us-east-1", "eu-west-1"]) {
    const r = storedResources(w.dataDir, region);
    assert.equal(r.images.length, 1, `${region}: one base image`);
    assert.deepEqual(r.volumes, [], `${region}: no scratch volume left`);
    assert.deepEqual(
      r.snapshots.map((s) => s.id),
      r.images[0].snapshotIds,
      `${region}: the image's snapshot and no other`,
    );
    const needed = new Set(storedSnapshotMap(w.dataDir, region, r.images[0].snapshotIds[0]).values());
    assert.deepEqual(
      [...chunkRows(w.dataDir, region)].sort(),
      [...needed].sort(),
      `${region}: only its chunks`,
    );
  }
  assert.deepEqual(auditStore(w.dataDir, { noPending: true }), []);
});
