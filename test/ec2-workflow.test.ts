// The seeds' workflow through the official AWS SDK against the live daemon: volume -> data ->
// snapshot -> image -> copy to another region -> volume from the copy (content checked by hash)
// -> deregister keeps snapshots -> re-register -> share with an account -> public -> deprecate.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  CopyImageCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  DescribeTagsCommand,
  type EC2Client,
  EnableImageDeprecationCommand,
  ModifyImageAttributeCommand,
  ModifySnapshotAttributeCommand,
  RegisterImageCommand,
  waitUntilImageAvailable,
  waitUntilSnapshotCompleted,
  waitUntilVolumeAvailable,
} from "@aws-sdk/client-ec2";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import { type Account, adminCredentials, createAccount, ec2 } from "./ec2-helpers.ts";
import { MiB, seededBytes, sha256, tempDir } from "./helpers.ts";

const dataDir = tempDir();
let daemon: Daemon;
let admin: EC2Client;
let adminEu: EC2Client;
const waiter = (client: EC2Client) => ({ client, maxWaitTime: 120, minDelay: 1, maxDelay: 2 });

before(async () => {
  daemon = await startDaemon(dataDir);
  admin = ec2(daemon, adminCredentials(dataDir));
  adminEu = ec2(daemon, adminCredentials(dataDir), "eu-west-1");
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

test("the golden-image workflow, end to end, through @aws-sdk/client-ec2", async () => {
  const content = Buffer.concat([
    seededBytes("golden", 3 * MiB),
    Buffer.alloc(MiB),
    seededBytes("tail", MiB),
  ]);
  const vol = await admin.send(
    new CreateVolumeCommand({
      Size: 2,
      AvailabilityZone: "us-east-1a",
      TagSpecifications: [{ ResourceType: "volume", Tags: [{ Key: "Name", Value: "web-root" }] }],
    }),
  );
  assert.match(vol.VolumeId!, /^vol-[0-9a-f]{17}$/);
  assert.equal(vol.Size, 2);
  assert.deepEqual(vol.Tags, [{ Key: "Name", Value: "web-root" }]);
  await waitUntilVolumeAvailable(waiter(admin), { VolumeIds: [vol.VolumeId!] });
  await daemon.client("us-east-1").write(vol.VolumeId!, 0, content);

  const snap = await admin.send(
    new CreateSnapshotCommand({ VolumeId: vol.VolumeId, Description: "web root" }),
  );
  assert.equal(snap.State, "pending");
  await waitUntilSnapshotCompleted(waiter(admin), { SnapshotIds: [snap.SnapshotId!] });

  const registered = await admin.send(
    new RegisterImageCommand({
      Name: "WebServer-AMI",
      RootDeviceName: "/dev/xvda",
      Architecture: "x86_64",
      VirtualizationType: "hvm",
      BootMode: "legacy-bios",
      BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: snap.SnapshotId } }],
      TagSpecifications: [{ ResourceType: "image", Tags: [{ Key: "team", Value: "platform" }] }],
    }),
  );
  const imageId = registered.ImageId!;
  const mine = await admin.send(
    new DescribeImagesCommand({ Owners: ["self"], Filters: [{ Name: "name", Values: ["WebServer-*"] }] }),
  );
  assert.deepEqual(
    mine.Images?.map((i) => i.ImageId),
    [imageId],
  );
  const image = mine.Images![0];
  assert.equal(image.State, "available");
  assert.equal(image.RootDeviceType, "ebs");
  assert.equal(image.BlockDeviceMappings?.[0].Ebs?.SnapshotId, snap.SnapshotId);
  assert.equal(image.BlockDeviceMappings?.[0].Ebs?.VolumeSize, 2);
  assert.deepEqual(image.Tags, [{ Key: "team", Value: "platform" }]);

  // Copy to another region: a new id, pending until its snapshot copies complete.
  const copied = await adminEu.send(
    new CopyImageCommand({
      SourceRegion: "us-east-1",
      SourceImageId: imageId,
      Name: "WebServer-AMI",
      CopyImageTags: true,
    }),
  );
  assert.notEqual(copied.ImageId, imageId);
  await waitUntilImageAvailable(waiter(adminEu), { ImageIds: [copied.ImageId!] });
  const euImage = (await adminEu.send(new DescribeImagesCommand({ ImageIds: [copied.ImageId!] }))).Images![0];
  assert.equal(euImage.SourceImageId, imageId);
  assert.equal(euImage.SourceImageRegion, "us-east-1");
  assert.deepEqual(euImage.Tags, [{ Key: "team", Value: "platform" }]);
  const euSnapId = euImage.BlockDeviceMappings![0].Ebs!.SnapshotId!;
  assert.notEqual(euSnapId, snap.SnapshotId);
  const euVol = await adminEu.send(
    new CreateVolumeCommand({ SnapshotId: euSnapId, AvailabilityZone: "eu-west-1b" }),
  );
  const back = await daemon.client("eu-west-1").read(euVol.VolumeId!, 0, content.byteLength);
  assert.equal(sha256(back), sha256(content), "the copy in eu-west-1 holds the same bytes");

  // Deregister: the snapshot stays, and a new image can be registered from it.
  await admin.send(new DeregisterImageCommand({ ImageId: imageId }));
  const left = await admin.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap.SnapshotId!] }));
  assert.equal(left.Snapshots?.[0].State, "completed");
  const again = await admin.send(
    new RegisterImageCommand({
      Name: "WebServer-AMI-v2",
      RootDeviceName: "/dev/xvda",
      VirtualizationType: "hvm",
      BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: snap.SnapshotId } }],
    }),
  );
  const v2 = again.ImageId!;

  // Sharing: invisible to Bob until a launch permission names him; Bob owns his copy.
  const bob: Account = await createAccount(dataDir, "bob");
  const bobEc2 = ec2(daemon, bob);
  await assert.rejects(bobEc2.send(new DescribeImagesCommand({ ImageIds: [v2] })), {
    name: "InvalidAMIID.NotFound",
  });
  await admin.send(
    new ModifyImageAttributeCommand({ ImageId: v2, LaunchPermission: { Add: [{ UserId: bob.accountId }] } }),
  );
  const seen = await bobEc2.send(new DescribeImagesCommand({ ImageIds: [v2] }));
  assert.equal(
    seen.Images?.[0].OwnerId,
    (await admin.send(new DescribeImagesCommand({ ImageIds: [v2] }))).Images![0].OwnerId,
  );
  assert.equal(seen.Images?.[0].Public, false);
  // As on EC2, a copy needs read access to the image's snapshot as well.
  await assert.rejects(
    bobEc2.send(new CopyImageCommand({ SourceRegion: "us-east-1", SourceImageId: v2, Name: "bobs" })),
    { name: "UnauthorizedOperation" },
  );
  await admin.send(
    new ModifySnapshotAttributeCommand({
      SnapshotId: snap.SnapshotId,
      Attribute: "createVolumePermission",
      CreateVolumePermission: { Add: [{ UserId: bob.accountId }] },
    }),
  );
  const bobCopy = await bobEc2.send(
    new CopyImageCommand({ SourceRegion: "us-east-1", SourceImageId: v2, Name: "bobs" }),
  );
  await waitUntilImageAvailable(waiter(bobEc2), { ImageIds: [bobCopy.ImageId!] });
  const bobsImage = (await bobEc2.send(new DescribeImagesCommand({ Owners: ["self"] }))).Images!;
  assert.deepEqual(
    bobsImage.map((i) => [i.ImageId, i.OwnerId]),
    [[bobCopy.ImageId, bob.accountId]],
  );

  // The retained snapshot shared with Bob is restorable by him, as its owner sees too.
  const restorable = await admin.send(
    new DescribeSnapshotsCommand({ OwnerIds: ["self"], RestorableByUserIds: [bob.accountId] }),
  );
  assert.deepEqual(
    restorable.Snapshots?.map((s) => s.SnapshotId),
    [snap.SnapshotId],
  );
  const bobSees = await bobEc2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap.SnapshotId!] }));
  assert.equal(bobSees.Snapshots?.[0].OwnerId, restorable.Snapshots?.[0].OwnerId);

  // Public: a third account sees it; deprecation hides it unless IncludeDeprecated.
  await admin.send(
    new ModifyImageAttributeCommand({ ImageId: v2, LaunchPermission: { Add: [{ Group: "all" }] } }),
  );
  const carol = ec2(daemon, await createAccount(dataDir, "carol"));
  const publicImages = await carol.send(new DescribeImagesCommand({ ExecutableUsers: ["all"] }));
  assert.deepEqual(
    publicImages.Images?.map((i) => [i.ImageId, i.Public]),
    [[v2, true]],
  );
  // A whole second a few seconds ahead (EC2 refuses past times; the margin covers a slow call).
  const deprecateAt = new Date(Math.ceil((Date.now() + 3000) / 1000) * 1000);
  await admin.send(new EnableImageDeprecationCommand({ ImageId: v2, DeprecateAt: deprecateAt }));
  const byId = { Filters: [{ Name: "image-id", Values: [v2] }] };
  const early = await carol.send(new DescribeImagesCommand(byId));
  // The daemon shares this machine's clock: an answer received before the deprecation time was
  // computed before it, so the image must still be listed.
  if (Date.now() < deprecateAt.getTime()) {
    assert.deepEqual(
      early.Images?.map((i) => i.ImageId),
      [v2],
    );
  }
  // Wait for the clock to pass the deprecation time (not a guessed sleep), then it is hidden.
  while (Date.now() <= deprecateAt.getTime()) {
    await new Promise((r) => setTimeout(r, deprecateAt.getTime() - Date.now() + 1));
  }
  const hidden = await carol.send(new DescribeImagesCommand(byId));
  assert.deepEqual(hidden.Images, []);
  const shown = await carol.send(new DescribeImagesCommand({ ...byId, IncludeDeprecated: true }));
  assert.equal(shown.Images?.[0].ImageId, v2);
  assert.equal(Date.parse(shown.Images?.[0].DeprecationTime ?? ""), deprecateAt.getTime());

  const tags = await admin.send(
    new DescribeTagsCommand({ Filters: [{ Name: "resource-type", Values: ["volume"] }] }),
  );
  assert.deepEqual(tags.Tags, [
    { ResourceId: vol.VolumeId, ResourceType: "volume", Key: "Name", Value: "web-root" },
  ]);
});
