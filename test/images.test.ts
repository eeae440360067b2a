import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Engine } from "../src/services/engine.ts";
import { BLOCK_SIZE, openEngine, seededBytes, sha256, tempDir } from "./helpers.ts";

const ALICE = "111111111111";
const BOB = "222222222222";
const dataDir = tempDir();
let engine: Engine;

before(async () => {
  engine = await openEngine(dataDir);
});
after(() => engine.close());

async function snapshotWith(owner: string, seed: string) {
  const r = engine.region("us-east-1");
  const v = await r.volumes.create({ sizeGiB: 2, ownerId: owner });
  const h = await r.volumes.handle(v.id);
  await h.write(0, seededBytes(seed, 4 * BLOCK_SIZE));
  return r.snapshots.wait((await r.snapshots.create(v.id)).id);
}

const mapping = (snapshotId: string, volumeSize?: number) => [
  { deviceName: "/dev/xvda", ebs: { snapshotId, volumeSize, deleteOnTermination: true, encrypted: false } },
];

test("register, copy to another region, restore the copy's snapshot: same bytes", async () => {
  const src = engine.region("us-east-1");
  const snap = await snapshotWith(ALICE, "image-root");
  const image = await src.images.register(ALICE, { name: "golden-1", blockDeviceMappings: mapping(snap.id) });
  assert.equal(image.state, "available");
  assert.equal(image.rootDeviceName, "/dev/xvda");
  assert.equal(image.blockDeviceMappings[0].ebs?.volumeSize, 2);
  await assert.rejects(
    src.images.register(ALICE, { name: "golden-1", blockDeviceMappings: mapping(snap.id) }),
    { code: "InvalidAMIName.Duplicate" },
  );

  // Holding the destination's lock on the first block's chunk keeps the snapshot copy (and so
  // the image) pending until released: "pending" is known here, not a race the copy may win.
  const eu = engine.region("eu-west-1");
  const release = await eu.meta.lockChunks([
    sha256(seededBytes("image-root", 4 * BLOCK_SIZE).subarray(0, BLOCK_SIZE)),
  ]);
  const copy = await engine
    .copyImage("us-east-1", image.id, "eu-west-1", ALICE, {
      name: "golden-1-eu",
      clientToken: "t1",
    })
    .finally(release);
  assert.equal(copy.state, "pending");
  assert.notEqual(copy.id, image.id);
  const again = await engine.copyImage("us-east-1", image.id, "eu-west-1", ALICE, {
    name: "golden-1-eu",
    clientToken: "t1",
  });
  assert.equal(again.id, copy.id, "same ClientToken, same image");
  await assert.rejects(
    engine.copyImage("us-east-1", image.id, "eu-west-1", ALICE, { name: "other", clientToken: "t1" }),
    { code: "IdempotentParameterMismatch" },
  );
  const ready = await eu.images.wait(copy.id);
  assert.equal(ready.state, "available");
  assert.equal(ready.sourceImageId, image.id);
  assert.equal(ready.sourceRegion, "us-east-1");
  const copiedSnap = ready.blockDeviceMappings[0].ebs!.snapshotId!;
  assert.notEqual(copiedSnap, snap.id);
  const vol = await eu.volumes.handle(
    (await eu.volumes.create({ snapshotId: copiedSnap, ownerId: ALICE })).id,
  );
  assert.equal(sha256(await vol.read(0, 4 * BLOCK_SIZE)), sha256(seededBytes("image-root", 4 * BLOCK_SIZE)));

  // The snapshot is in use while the image exists; deregistering keeps it by default.
  await assert.rejects(src.snapshots.delete(snap.id), { code: "InvalidSnapshot.InUse" });
  assert.deepEqual(await src.images.deregister(image, false), []);
  await assert.rejects(src.images.get(image.id), { code: "InvalidAMIID.NotFound" });
  assert.equal((await src.snapshots.get(snap.id)).state, "completed");
  // Re-register from the retained snapshot, then deregister deleting it.
  const again2 = await src.images.register(ALICE, {
    name: "golden-1",
    blockDeviceMappings: mapping(snap.id),
  });
  assert.deepEqual(await src.images.deregister(again2, true), [
    { snapshotId: snap.id, returnCode: "success" },
  ]);
  await assert.rejects(src.snapshots.get(snap.id), { code: "InvalidSnapshot.NotFound" });
});

test("private images and snapshots are invisible to other accounts until shared", async () => {
  const r = engine.region("us-east-1");
  const snap = await snapshotWith(ALICE, "private");
  const image = await r.images.register(ALICE, { name: "private-1", blockDeviceMappings: mapping(snap.id) });
  await assert.rejects(r.images.visible(BOB, image.id), { code: "InvalidAMIID.NotFound" });
  await assert.rejects(r.images.register(BOB, { name: "stolen", blockDeviceMappings: mapping(snap.id) }), {
    code: "InvalidSnapshot.NotFound",
  });
  await assert.rejects(
    engine.copyImage("us-east-1", image.id, "eu-west-1", BOB, { name: "not-shared-yet" }),
    {
      code: "InvalidAMIID.NotFound",
    },
  );
  await r.images.share(ALICE, image.id, [BOB], []);
  assert.equal((await r.images.visible(BOB, image.id)).id, image.id);
  await assert.rejects(r.images.owned(BOB, image.id), { code: "AuthFailure" });
  // As on EC2, copying needs read access to the image's snapshots too, not only its launch permission.
  const euImages = (await engine.region("eu-west-1").images.list()).length;
  await assert.rejects(
    engine.copyImage("us-east-1", image.id, "eu-west-1", BOB, { name: "no-storage-access" }),
    { code: "UnauthorizedOperation", message: /permission to access the storage of this ami/ },
  );
  assert.equal((await engine.region("eu-west-1").images.list()).length, euImages);
  await r.snapshots.share(ALICE, snap.id, [BOB], []);
  // A shared snapshot is Bob's to restore or copy, not to register an image on (EC2: copy it first).
  await assert.rejects(r.images.register(BOB, { name: "on-shared", blockDeviceMappings: mapping(snap.id) }), {
    code: "UnauthorizedOperation",
  });
  // Bob owns his copy (and its snapshots).
  const bobs = await engine
    .region("eu-west-1")
    .images.wait((await engine.copyImage("us-east-1", image.id, "eu-west-1", BOB, { name: "bobs-copy" })).id);
  assert.equal(bobs.ownerId, BOB);
  const bobSnap = await engine
    .region("eu-west-1")
    .snapshots.get(bobs.blockDeviceMappings[0].ebs!.snapshotId!);
  assert.equal(bobSnap.ownerId, BOB);
});

test("bad registrations change nothing", async () => {
  const r = engine.region("us-east-1");
  const snap = await snapshotWith(ALICE, "bad");
  const before = (await r.images.list()).length;
  const cases: [object, string][] = [
    [{ name: "x", blockDeviceMappings: mapping(snap.id) }, "InvalidAMIName.Malformed"],
    [{ name: "bad<name>", blockDeviceMappings: mapping(snap.id) }, "InvalidAMIName.Malformed"],
    [
      { name: "ok-name", architecture: "sparc", blockDeviceMappings: mapping(snap.id) },
      "InvalidParameterValue",
    ],
    [{ name: "ok-name", blockDeviceMappings: [] }, "InvalidParameterValue"],
    [{ name: "ok-name", blockDeviceMappings: mapping("snap-00000000000000000") }, "InvalidSnapshot.NotFound"],
    [{ name: "ok-name", blockDeviceMappings: mapping(snap.id, 1) }, "InvalidBlockDeviceMapping"],
    [
      { name: "ok-name", rootDeviceName: "/dev/sda1", blockDeviceMappings: mapping(snap.id) },
      "InvalidBlockDeviceMapping",
    ],
  ];
  for (const [input, code] of cases) {
    await assert.rejects(r.images.register(ALICE, input as never), { code }, JSON.stringify(input));
  }
  assert.equal((await r.images.list()).length, before);
});

test("a CopyImage with a bad or taken name copies no snapshots", async () => {
  const snap = await snapshotWith(ALICE, "copy-name");
  const src = engine.region("us-east-1");
  await src.images.register(ALICE, { name: "named-1", blockDeviceMappings: mapping(snap.id) });
  const image = await src.images.register(ALICE, { name: "named-2", blockDeviceMappings: mapping(snap.id) });
  const eu = engine.region("eu-west-1");
  await eu.images.register(ALICE, {
    name: "taken-in-eu",
    blockDeviceMappings: mapping(
      (await engine.copySnapshot("us-east-1", snap.id, "eu-west-1", { ownerId: ALICE })).id,
    ),
  });
  await eu.images.wait((await eu.images.list()).find((i) => i.name === "taken-in-eu")!.id);
  const before = (await eu.snapshots.list()).length;
  await assert.rejects(engine.copyImage("us-east-1", image.id, "eu-west-1", ALICE, { name: "x" }), {
    code: "InvalidAMIName.Malformed",
  });
  await assert.rejects(engine.copyImage("us-east-1", image.id, "eu-west-1", ALICE, { name: "taken-in-eu" }), {
    code: "InvalidAMIName.Duplicate",
  });
  assert.equal((await eu.snapshots.list()).length, before);
});
