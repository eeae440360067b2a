// Regions on different object stores: packs of us-east-1 in the data dir, of eu-west-1 in one RGW
// bucket and of us-west-2 in another. A copy moves only the chunks the destination's store lacks,
// whichever stores the two regions use, and the copy restores byte for byte once the source is gone.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Engine } from "../src/services/engine.ts";
import type { RegionStorage } from "../src/services/regions/region-stores.ts";
import { BLOCK_SIZE, seededBytes, sha256, tempDir, textBlock } from "./helpers.ts";
import { type Rgw, startRgw } from "./servers/rgw.ts";

let rgw: Rgw;
let engine: Engine;

before(async () => {
  rgw = await startRgw();
  await rgw.createBucket("eu-packs");
  await rgw.createBucket("west-packs");
  const bucket = (name: string): RegionStorage => ({
    packs: {
      type: "s3",
      endpoint: rgw.endpoint,
      bucket: name,
      accessKeyId: rgw.accessKeyId,
      secretAccessKey: rgw.secretAccessKey,
    },
  });
  const storage: Record<string, RegionStorage> = {
    "us-east-1": {},
    "eu-west-1": bucket("eu-packs"),
    "us-west-2": bucket("west-packs"),
  };
  engine = await Engine.open({
    dataDir: tempDir(),
    regions: Object.keys(storage),
    storage: (region) => storage[region],
  });
});
after(async () => {
  await engine?.close();
  await rgw?.stop();
});

test("a copy between regions on different stores moves only the chunks the destination lacks", async () => {
  const src = engine.region("us-east-1");
  const v = await src.volumes.create({ sizeGiB: 1 });
  const h = await src.volumes.handle(v.id);
  for (let i = 0; i < 16; i++) {
    await h.write(i * BLOCK_SIZE, i % 2 ? textBlock(i + 500) : seededBytes(`cross-${i}`, BLOCK_SIZE));
  }
  const parent = await src.snapshots.wait((await src.snapshots.create(v.id)).id);
  const stored = (await src.snapshots.stats(parent.id)).storedBytes;
  let id = parent.id;
  for (const [from, to] of [
    ["us-east-1", "eu-west-1"],
    ["eu-west-1", "us-west-2"],
  ] as const) {
    const copy = await engine.region(to).snapshots.wait((await engine.copySnapshot(from, id, to)).id);
    assert.equal(copy.state, "completed", copy.stateMessage ?? "");
    assert.equal(copy.bytesTransferred, stored, `${from} -> ${to}: everything is new there`);
    id = copy.id;
  }
  // Two blocks change; the child's copies move those two chunks, and the copy in us-west-2
  // (packs in its own bucket) restores byte for byte with the source region's data gone.
  await h.write(3 * BLOCK_SIZE, seededBytes("cross-child-3", BLOCK_SIZE));
  await h.write(20 * BLOCK_SIZE, textBlock(4242));
  const child = await src.snapshots.wait((await src.snapshots.create(v.id)).id);
  const euChild = await engine
    .region("eu-west-1")
    .snapshots.wait((await engine.copySnapshot("us-east-1", child.id, "eu-west-1")).id);
  assert.equal(euChild.bytesTransferred, child.bytesStored);
  const westChild = await engine
    .region("us-west-2")
    .snapshots.wait((await engine.copySnapshot("eu-west-1", euChild.id, "us-west-2")).id);
  assert.equal(westChild.bytesTransferred, child.bytesStored);
  assert.ok(westChild.bytesTransferred < 3 * BLOCK_SIZE);
  const expected = sha256(await h.read(0, 24 * BLOCK_SIZE));
  await src.snapshots.delete(child.id);
  await src.snapshots.delete(parent.id);
  await src.volumes.delete(v.id);
  const west = engine.region("us-west-2");
  const restored = await west.volumes.handle((await west.volumes.create({ snapshotId: westChild.id })).id);
  assert.equal(sha256(await restored.read(0, 24 * BLOCK_SIZE)), expected);
});
