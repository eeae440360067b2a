// Image attribute, deprecation, deregistration-protection and tag actions through
// @aws-sdk/client-ec2 against the live daemon, each success checked by the state it leaves
// (what DescribeImages, DescribeImageAttribute, DescribeTags and other accounts then see).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  CreateSnapshotCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DeleteTagsCommand,
  DeregisterImageCommand,
  DescribeAvailabilityZonesCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  DescribeTagsCommand,
  DescribeVolumesCommand,
  DisableImageDeprecationCommand,
  DisableImageDeregistrationProtectionCommand,
  type EC2Client,
  EnableImageDeprecationCommand,
  EnableImageDeregistrationProtectionCommand,
  type Image,
  ModifyImageAttributeCommand,
  RegisterImageCommand,
  ResetImageAttributeCommand,
  waitUntilSnapshotCompleted,
} from "@aws-sdk/client-ec2";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import { type Account, adminCredentials, createAccount, ec2 } from "./ec2-helpers.ts";
import { BLOCK_SIZE, seededBytes, tempDir } from "./helpers.ts";

const dataDir = tempDir();
let daemon: Daemon;
let admin: EC2Client;
let bob: Account;
let bobEc2: EC2Client;
let volumeId = "";
let snapshotId = "";

before(async () => {
  daemon = await startDaemon(dataDir);
  admin = ec2(daemon, adminCredentials(dataDir));
  bob = await createAccount(dataDir, "bob");
  bobEc2 = ec2(daemon, bob);
  const vol = await admin.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a" }));
  volumeId = vol.VolumeId!;
  await daemon.client().write(volumeId, 0, seededBytes("image-actions", BLOCK_SIZE));
  snapshotId = (await admin.send(new CreateSnapshotCommand({ VolumeId: volumeId }))).SnapshotId!;
  await waitUntilSnapshotCompleted(
    { client: admin, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { SnapshotIds: [snapshotId] },
  );
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

async function register(name: string, description?: string, snapshot = snapshotId): Promise<string> {
  const r = await admin.send(
    new RegisterImageCommand({
      Name: name,
      Description: description,
      RootDeviceName: "/dev/xvda",
      BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: snapshot } }],
    }),
  );
  return r.ImageId!;
}

async function describe(client: EC2Client, imageId: string): Promise<Image> {
  return (await client.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images![0];
}

async function attribute(imageId: string, name: string) {
  return admin.send(new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: name as never }));
}

test("ModifyImageAttribute (description, launchPermission), DescribeImageAttribute, ResetImageAttribute", async () => {
  const id = await register("attributes-1", "first");
  assert.deepEqual((await attribute(id, "description")).Description, { Value: "first" });
  await admin.send(new ModifyImageAttributeCommand({ ImageId: id, Description: { Value: "second" } }));
  assert.deepEqual((await attribute(id, "description")).Description, { Value: "second" });
  assert.equal((await describe(admin, id)).Description, "second");

  assert.deepEqual((await attribute(id, "launchPermission")).LaunchPermissions, []);
  await admin.send(
    new ModifyImageAttributeCommand({
      ImageId: id,
      LaunchPermission: { Add: [{ UserId: bob.accountId }, { Group: "all" }] },
    }),
  );
  const granted = (await attribute(id, "launchPermission")).LaunchPermissions;
  assert.deepEqual(
    granted?.map((p) => p.UserId ?? `group:${p.Group}`).sort(),
    [bob.accountId, "group:all"].sort(),
  );
  assert.equal((await describe(bobEc2, id)).Public, true);
  await admin.send(
    new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Remove: [{ Group: "all" }] } }),
  );
  assert.deepEqual((await attribute(id, "launchPermission")).LaunchPermissions, [{ UserId: bob.accountId }]);
  assert.equal((await describe(bobEc2, id)).Public, false);

  // Reset (launchPermission, the one attribute EC2 resets): private again, description kept.
  await admin.send(new ResetImageAttributeCommand({ ImageId: id, Attribute: "launchPermission" }));
  assert.deepEqual((await attribute(id, "launchPermission")).LaunchPermissions, []);
  await assert.rejects(bobEc2.send(new DescribeImagesCommand({ ImageIds: [id] })), {
    name: "InvalidAMIID.NotFound",
  });
  assert.equal((await describe(admin, id)).Description, "second");
  await assert.rejects(
    admin.send(new ResetImageAttributeCommand({ ImageId: id, Attribute: "description" as never })),
    { name: "InvalidParameterValue" },
  );
});

test("Enable/DisableImageDeprecation set and clear the deprecation; a disabled one shows the image again", async () => {
  const id = await register("deprecation-1");
  await admin.send(
    new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Add: [{ Group: "all" }] } }),
  );
  const inADay = new Date(Math.ceil(Date.now() / 1000) * 1000 + 24 * 3600_000);
  const enabled = await admin.send(new EnableImageDeprecationCommand({ ImageId: id, DeprecateAt: inADay }));
  assert.equal(enabled.Return, true);
  assert.equal(Date.parse((await describe(admin, id)).DeprecationTime ?? ""), inADay.getTime());
  const disabled = await admin.send(new DisableImageDeprecationCommand({ ImageId: id }));
  assert.equal(disabled.Return, true);
  assert.equal((await describe(admin, id)).DeprecationTime, undefined);

  // Deprecated in the past for other accounts: hidden from Bob's listing until disabled.
  const soon = new Date(Math.ceil((Date.now() + 2000) / 1000) * 1000);
  await admin.send(new EnableImageDeprecationCommand({ ImageId: id, DeprecateAt: soon }));
  while (Date.now() <= soon.getTime()) {
    await new Promise((r) => setTimeout(r, soon.getTime() - Date.now() + 1));
  }
  const byId = { Filters: [{ Name: "image-id", Values: [id] }] };
  assert.deepEqual((await bobEc2.send(new DescribeImagesCommand(byId))).Images, []);
  await admin.send(new DisableImageDeprecationCommand({ ImageId: id }));
  assert.deepEqual(
    (await bobEc2.send(new DescribeImagesCommand(byId))).Images?.map((i) => [i.ImageId, i.DeprecationTime]),
    [[id, undefined]],
  );
});

test("Enable/DisableImageDeregistrationProtection guard DeregisterImage", async () => {
  const id = await register("protected-1");
  const protection = async () => (await attribute(id, "deregistrationProtection")).DeregistrationProtection;
  assert.deepEqual(await protection(), { Value: "disabled" });
  const on = await admin.send(new EnableImageDeregistrationProtectionCommand({ ImageId: id }));
  assert.equal(on.Return, "enabled");
  assert.deepEqual(await protection(), { Value: "enabled" });
  await assert.rejects(admin.send(new DeregisterImageCommand({ ImageId: id })), {
    name: "InvalidParameterValue",
  });
  assert.equal((await describe(admin, id)).State, "available", "still registered");

  const off = await admin.send(new DisableImageDeregistrationProtectionCommand({ ImageId: id }));
  assert.equal(off.Return, "disabled");
  assert.deepEqual(await protection(), { Value: "disabled" });
  // Deregister with its snapshot (an own snapshot just for this image).
  const vol = await admin.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a" }));
  const own = (await admin.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId }))).SnapshotId!;
  await waitUntilSnapshotCompleted(
    { client: admin, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { SnapshotIds: [own] },
  );
  const withSnapshot = await register("protected-2", undefined, own);
  await admin.send(new EnableImageDeregistrationProtectionCommand({ ImageId: withSnapshot }));
  await admin.send(new DisableImageDeregistrationProtectionCommand({ ImageId: withSnapshot }));
  const gone = await admin.send(
    new DeregisterImageCommand({ ImageId: withSnapshot, DeleteAssociatedSnapshots: true }),
  );
  assert.deepEqual(gone.DeleteSnapshotResults, [{ SnapshotId: own, ReturnCode: "success" }]);
  await assert.rejects(describe(admin, withSnapshot), { name: "InvalidAMIID.NotFound" });
  await assert.rejects(admin.send(new DescribeSnapshotsCommand({ SnapshotIds: [own] })), {
    name: "InvalidSnapshot.NotFound",
  });

  // With a cooldown, disabling leaves it protected for 24 hours (as on EC2).
  const cooled = await admin.send(
    new EnableImageDeregistrationProtectionCommand({ ImageId: id, WithCooldown: true }),
  );
  assert.equal(cooled.Return, "enabled-with-cooldown");
  const until = await admin.send(new DisableImageDeregistrationProtectionCommand({ ImageId: id }));
  assert.match(until.Return ?? "", /^disabled-until /);
  const end = Date.parse((until.Return ?? "").replace("disabled-until ", ""));
  assert.ok(Math.abs(end - (Date.now() + 24 * 3600_000)) < 60_000, String(until.Return));
  await assert.rejects(admin.send(new DeregisterImageCommand({ ImageId: id })), {
    name: "InvalidParameterValue",
  });
});

test("CreateTags and DeleteTags (by key, by key and value, all of a resource); DescribeTags and filters follow", async () => {
  const imageId = await register("tagged-1");
  await admin.send(
    new CreateTagsCommand({
      Resources: [volumeId, snapshotId],
      Tags: [
        { Key: "a", Value: "1" },
        { Key: "b", Value: "2" },
        { Key: "c", Value: "3" },
        { Key: "e", Value: "" },
      ],
    }),
  );
  await admin.send(new CreateTagsCommand({ Resources: [imageId], Tags: [{ Key: "env", Value: "prod" }] }));
  const tagsOf = async (id: string) =>
    (
      await admin.send(new DescribeTagsCommand({ Filters: [{ Name: "resource-id", Values: [id] }] }))
    ).Tags?.map((t) => `${t.Key}=${t.Value}`);
  assert.deepEqual(await tagsOf(volumeId), ["a=1", "b=2", "c=3", "e="]);
  assert.deepEqual(await tagsOf(snapshotId), ["a=1", "b=2", "c=3", "e="]);
  const byTag = { Owners: ["self"], Filters: [{ Name: "tag:env", Values: ["prod"] }] };
  assert.deepEqual(
    (await admin.send(new DescribeImagesCommand(byTag))).Images?.map((i) => i.ImageId),
    [imageId],
  );

  // A key alone deletes whatever the value; a key with a value only when it matches (EC2: an
  // empty value matches only an empty value).
  await admin.send(new DeleteTagsCommand({ Resources: [volumeId], Tags: [{ Key: "a" }] }));
  await admin.send(new DeleteTagsCommand({ Resources: [volumeId], Tags: [{ Key: "b", Value: "wrong" }] }));
  await admin.send(new DeleteTagsCommand({ Resources: [volumeId], Tags: [{ Key: "c", Value: "" }] }));
  assert.deepEqual(await tagsOf(volumeId), ["b=2", "c=3", "e="]);
  await admin.send(
    new DeleteTagsCommand({
      Resources: [volumeId],
      Tags: [
        { Key: "b", Value: "2" },
        { Key: "e", Value: "" },
      ],
    }),
  );
  assert.deepEqual(await tagsOf(volumeId), ["c=3"]);
  assert.deepEqual(
    (await admin.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }))).Volumes?.[0].Tags,
    [{ Key: "c", Value: "3" }],
  );
  // No tags named: all of the resource's tags go; the other resource keeps its own.
  await admin.send(new DeleteTagsCommand({ Resources: [snapshotId] }));
  assert.deepEqual(await tagsOf(snapshotId), []);
  assert.deepEqual(await tagsOf(volumeId), ["c=3"]);
  await admin.send(new DeleteTagsCommand({ Resources: [imageId], Tags: [{ Key: "env" }] }));
  assert.deepEqual((await admin.send(new DescribeImagesCommand(byTag))).Images, []);
  // Another account can neither tag nor untag them.
  await assert.rejects(bobEc2.send(new DeleteTagsCommand({ Resources: [volumeId] })), {
    name: "InvalidVolume.NotFound",
  });
  assert.deepEqual(await tagsOf(volumeId), ["c=3"]);
});

test("DescribeAvailabilityZones: the region's three zones, by name, id and filter", async () => {
  const { AvailabilityZones } = await admin.send(new DescribeAvailabilityZonesCommand({}));
  assert.deepEqual(
    AvailabilityZones?.map((z) => [z.ZoneName, z.RegionName, z.State]),
    [
      ["us-east-1a", "us-east-1", "available"],
      ["us-east-1b", "us-east-1", "available"],
      ["us-east-1c", "us-east-1", "available"],
    ],
  );
  const b = AvailabilityZones![1];
  const byId = await admin.send(new DescribeAvailabilityZonesCommand({ ZoneIds: [b.ZoneId!] }));
  assert.deepEqual(
    byId.AvailabilityZones?.map((z) => z.ZoneName),
    ["us-east-1b"],
  );
  const filtered = await admin.send(
    new DescribeAvailabilityZonesCommand({ Filters: [{ Name: "zone-name", Values: ["*c"] }] }),
  );
  assert.deepEqual(
    filtered.AvailabilityZones?.map((z) => z.ZoneName),
    ["us-east-1c"],
  );
  const eu = ec2(daemon, adminCredentials(dataDir), "eu-west-1");
  const euZones = await eu.send(new DescribeAvailabilityZonesCommand({}));
  assert.deepEqual(
    euZones.AvailabilityZones?.map((z) => z.ZoneName),
    ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
  );
});
