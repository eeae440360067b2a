// What an account that A shares an image or snapshot with may learn, and no more: not A's tags
// (EC2 shows tags only to the account that set them), not whom else A shares with, nothing of
// A's private resources when it names A as owner or user; and copying needs read access to the
// snapshots behind an image, not only a launch permission.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  CopyImageCommand,
  CopySnapshotCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  type DescribeImagesCommandInput,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  type DescribeSnapshotsCommandInput,
  DescribeTagsCommand,
  type EC2Client,
  RunInstancesCommand,
  waitUntilImageAvailable,
  waitUntilSnapshotCompleted,
} from "@aws-sdk/client-ec2";
import { assertStoreConsistent, type Daemon, startDaemon } from "../daemon.ts";
import { tempDir } from "../helpers.ts";
import { Findings } from "./findings.ts";
import { ownedIds } from "./observe.ts";
import { describe, outcomeOf } from "./outcome.ts";
import type { Party } from "./probes.ts";
import { type StorageWorld, storageWorld } from "./world.ts";

const NEVER_ACCOUNT = "999999999999";
const dataDir = tempDir();
let daemon: Daemon;
let w: StorageWorld;
let A = "";
let B = "";
let C = "";
const waiter = (client: EC2Client) => ({ client, maxWaitTime: 120, minDelay: 1, maxDelay: 1 });

before(async () => {
  daemon = await startDaemon(dataDir, "us-east-1,eu-west-1", { args: ["--cpu-allocation-ratio", "0.001"] });
  w = await storageWorld(daemon, dataDir);
  [A, B, C] = [w.a, w.b, w.c].map((p) => p.account.accountId);
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

async function imageIds(p: Party, input: DescribeImagesCommandInput): Promise<string[]> {
  const r = await p.ec2.send(new DescribeImagesCommand(input));
  return (r.Images ?? []).map((i) => i.ImageId!).sort();
}

async function snapshotIds(p: Party, input: DescribeSnapshotsCommandInput): Promise<string[]> {
  const r = await p.ec2.send(new DescribeSnapshotsCommand(input));
  return (r.Snapshots ?? []).map((s) => s.SnapshotId!).sort();
}

test("an account A shares with sees none of A's tags, nor finds A's resources by them", async () => {
  const { imageId, snapshotId, launchOnlyImageId } = w.aShared;
  const f = new Findings();
  // The owner sees its tags (else this test could not fail).
  const own = await w.a.ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
  assert.deepEqual(own.Images?.[0].Tags, [{ Key: "secret", Value: "a-private-tag" }]);
  for (const [name, p] of [
    ["B", w.b],
    ["C", w.c],
  ] as const) {
    const images = await p.ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
    f.equal(images.Images?.[0].Tags ?? [], [], `${name}'s DescribeImages shows A's tags on the shared image`);
    const snaps = await p.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }));
    f.equal(
      snaps.Snapshots?.[0].Tags ?? [],
      [],
      `${name}'s DescribeSnapshots shows A's tags on the shared snapshot`,
    );
    for (const filter of [
      { Name: "tag:secret", Values: ["a-private-tag"] },
      { Name: "tag-key", Values: ["secret"] },
    ]) {
      f.equal(await imageIds(p, { Filters: [filter] }), [], `${name}'s DescribeImages by ${filter.Name}`);
      f.equal(
        await snapshotIds(p, { Filters: [filter] }),
        [],
        `${name}'s DescribeSnapshots by ${filter.Name}`,
      );
    }
    const tags = await p.ec2.send(
      new DescribeTagsCommand({ Filters: [{ Name: "resource-id", Values: [imageId, snapshotId] }] }),
    );
    f.equal(tags.Tags, [], `${name}'s DescribeTags lists A's tags`);
  }
  const launchOnly = await w.b.ec2.send(new DescribeImagesCommand({ ImageIds: [launchOnlyImageId] }));
  f.equal(
    launchOnly.Images?.[0].Tags ?? [],
    [],
    "B's DescribeImages shows A's tags on the launch-only image",
  );
  f.done();
});

test("an account A shares with does not learn whom else A shares with", async () => {
  const { imageId, snapshotId } = w.aShared;
  const f = new Findings();
  // B shared its own image and snapshot with C, so B may see C's access to those, and only those.
  f.equal(await imageIds(w.b, { ExecutableUsers: [C] }), [w.bOwn.imageId], "B: ExecutableUsers [C]");
  f.equal(await imageIds(w.b, { ExecutableUsers: [NEVER_ACCOUNT] }), [], "B: ExecutableUsers [never]");
  f.equal(
    await imageIds(w.b, { ExecutableUsers: [C], ImageIds: [imageId] }),
    [],
    "B: ExecutableUsers [C] on A's",
  );
  f.equal(
    await snapshotIds(w.b, { RestorableByUserIds: [C] }),
    [w.bOwn.snapshotId],
    "B: RestorableByUserIds [C]",
  );
  f.equal(
    await snapshotIds(w.b, { RestorableByUserIds: [NEVER_ACCOUNT] }),
    [],
    "B: RestorableByUserIds [never]",
  );
  f.equal(
    await snapshotIds(w.b, { RestorableByUserIds: [C], SnapshotIds: [snapshotId] }),
    [],
    "B: RestorableByUserIds [C] on A's",
  );
  // And C does not learn that B has access to A's resources.
  f.check(
    !(await imageIds(w.c, { ExecutableUsers: [B] })).includes(imageId),
    "C: ExecutableUsers [B] shows A's",
  );
  f.check(
    !(await snapshotIds(w.c, { RestorableByUserIds: [B] })).includes(snapshotId),
    "C: RestorableByUserIds [B] shows A's",
  );
  // The permission lists are the owner's to read.
  const launch = await outcomeOf(() =>
    w.b.ec2.send(new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: "launchPermission" })),
  );
  f.check(!launch.text.includes(C), `B reads A's launch permissions: ${describe(launch)}`);
  const restore = await outcomeOf(() =>
    w.b.ec2.send(
      new DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: "createVolumePermission" }),
    ),
  );
  f.check(!restore.text.includes(C), `B reads A's createVolumePermissions: ${describe(restore)}`);
  f.done();
});

test("naming A as owner or user shows another account only what A shared with it", async () => {
  const { imageId, snapshotId, launchOnlyImageId } = w.aShared;
  const f = new Findings();
  const sharedWithB = [imageId, launchOnlyImageId].sort();
  for (const owner of [A, "alpha-corp"]) {
    f.equal(await imageIds(w.b, { Owners: [owner] }), sharedWithB, `B: Owners [${owner}]`);
    f.equal(await snapshotIds(w.b, { OwnerIds: [owner] }), [snapshotId], `B: OwnerIds [${owner}]`);
    f.equal(await imageIds(w.c, { Owners: [owner] }), [imageId], `C: Owners [${owner}]`);
  }
  const executable = await imageIds(w.b, { ExecutableUsers: [A] });
  f.equal(
    executable.filter((id) => !sharedWithB.includes(id)),
    [],
    "B: ExecutableUsers [A] shows more than A shared with B",
  );
  const restorable = await snapshotIds(w.b, { RestorableByUserIds: [A] });
  f.equal(
    restorable.filter((id) => id !== snapshotId),
    [],
    "B: RestorableByUserIds [A] shows more than A shared with B",
  );
  const privateImages = w.targets.filter((t) => t.kind === "image").map((t) => t.id);
  f.equal(
    await imageIds(w.b, { Owners: [A], Filters: [{ Name: "image-id", Values: privateImages }] }),
    [],
    "B: Owners [A] with A's private image ids",
  );
  f.done();
});

test("CopyImage with CopyImageTags and CopySnapshot of A's shared resources copy none of A's tags", async () => {
  const f = new Findings();
  const copy = await w.b.ec2Eu.send(
    new CopyImageCommand({
      SourceImageId: w.aShared.imageId,
      SourceRegion: "us-east-1",
      Name: "b-copy-of-shared",
      CopyImageTags: true,
    }),
  );
  await waitUntilImageAvailable(waiter(w.b.ec2Eu), { ImageIds: [copy.ImageId!] });
  const image = (await w.b.ec2Eu.send(new DescribeImagesCommand({ ImageIds: [copy.ImageId!] }))).Images![0];
  assert.equal(image.OwnerId, B);
  f.equal(image.Tags ?? [], [], "CopyImage (CopyImageTags) put A's tags on B's image");
  const snap = await w.b.ec2.send(
    new CopySnapshotCommand({ SourceSnapshotId: w.aShared.snapshotId, SourceRegion: "us-east-1" }),
  );
  await waitUntilSnapshotCompleted(waiter(w.b.ec2), { SnapshotIds: [snap.SnapshotId!] });
  const tags = await w.b.ec2.send(
    new DescribeTagsCommand({ Filters: [{ Name: "resource-id", Values: [snap.SnapshotId!] }] }),
  );
  f.equal(tags.Tags, [], "CopySnapshot put A's tags on B's snapshot");
  f.done();
});

test("an image shared without its snapshot can be launched but not copied, and B gains nothing", async () => {
  const imageId = w.aShared.launchOnlyImageId;
  // Launching is allowed: with no capacity, a launch that passed every check answers this.
  const launch = await outcomeOf(() =>
    w.b.ec2.send(
      new RunInstancesCommand({ ImageId: imageId, InstanceType: "t3.nano", MinCount: 1, MaxCount: 1 }),
    ),
  );
  assert.equal(launch.code, "InsufficientInstanceCapacity", describe(launch));
  // EC2: to copy an AMI shared from another account, its owner must grant read access to the
  // snapshots behind it; a launch permission alone does not give A's data to B to keep.
  const f = new Findings();
  const before = await ownedIds(w.b);
  for (const [region, client] of [
    ["us-east-1", w.b.ec2],
    ["eu-west-1", w.b.ec2Eu],
  ] as const) {
    const copy = await outcomeOf(() =>
      client.send(
        new CopyImageCommand({
          SourceImageId: imageId,
          SourceRegion: "us-east-1",
          Name: "b-copy-launch-only",
        }),
      ),
    );
    f.check(copy.code !== "OK", `B's CopyImage to ${region} answered ${copy.text}`);
  }
  for (const id of await ownedIds(w.b)) f.check(before.includes(id), `B gained ${id}`);
  f.done();
});
