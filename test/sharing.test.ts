// Sharing as EC2 does it, through the SDK against the live daemon: what an account an image or
// snapshot is shared with may do ends with the owner's permission, it never sees the owner's tags
// or other grantees, and ClientToken retries that race do the work once.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { EBSClient, StartSnapshotCommand } from "@aws-sdk/client-ebs";
import {
  CopyImageCommand,
  CopySnapshotCommand,
  CreateKeyPairCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  type EC2Client,
  ModifyImageAttributeCommand,
  ModifySnapshotAttributeCommand,
  RegisterImageCommand,
  waitUntilImageAvailable,
  waitUntilSnapshotCompleted,
} from "@aws-sdk/client-ec2";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import { type Account, adminCredentials, type Credentials, createAccount, ec2 } from "./ec2-helpers.ts";
import { MiB, seededBytes, tempDir } from "./helpers.ts";

const dataDir = tempDir();
let daemon: Daemon;
let alice: EC2Client;
let bob: Account;
let carol: Account;
const waiter = (client: EC2Client) => ({ client, maxWaitTime: 120, minDelay: 1, maxDelay: 2 });

before(async () => {
  daemon = await startDaemon(dataDir);
  alice = ec2(daemon, adminCredentials(dataDir));
  bob = await createAccount(dataDir, "bob");
  carol = await createAccount(dataDir, "carol");
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

/** Alice's completed snapshot of a volume with some bytes, tagged. */
async function aliceSnapshot(seed: string): Promise<string> {
  const vol = await alice.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a" }));
  await daemon.client().write(vol.VolumeId!, 0, seededBytes(seed, MiB));
  const snap = await alice.send(
    new CreateSnapshotCommand({
      VolumeId: vol.VolumeId,
      TagSpecifications: [{ ResourceType: "snapshot", Tags: [{ Key: "secret", Value: `${seed}-tag` }] }],
    }),
  );
  await waitUntilSnapshotCompleted(waiter(alice), { SnapshotIds: [snap.SnapshotId!] });
  return snap.SnapshotId!;
}

async function register(client: EC2Client, name: string, snapshotId: string) {
  return client.send(
    new RegisterImageCommand({
      Name: name,
      RootDeviceName: "/dev/xvda",
      BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: snapshotId } }],
      TagSpecifications: [{ ResourceType: "image", Tags: [{ Key: "secret", Value: "image-tag" }] }],
    }),
  );
}

const share = (snapshotId: string, op: "Add" | "Remove", userId: string) =>
  alice.send(
    new ModifySnapshotAttributeCommand({
      SnapshotId: snapshotId,
      Attribute: "createVolumePermission",
      CreateVolumePermission: { [op]: [{ UserId: userId }] },
    }),
  );

test("revoking a snapshot share revokes: the grantee built nothing on it, the owner can delete it", async () => {
  const snap = await aliceSnapshot("revoke");
  const bobEc2 = ec2(daemon, bob);
  await share(snap, "Add", bob.accountId);
  // While shared, Bob may restore or copy it (the copy is his), but not register an image on it.
  await assert.rejects(register(bobEc2, "on-alices-snapshot", snap), (e: Error) => {
    assert.equal(e.name, "UnauthorizedOperation");
    assert.match(e.message, /copy it to your account first/);
    return true;
  });
  const bobsCopy = await bobEc2.send(
    new CopySnapshotCommand({ SourceRegion: "us-east-1", SourceSnapshotId: snap }),
  );
  await waitUntilSnapshotCompleted(waiter(bobEc2), { SnapshotIds: [bobsCopy.SnapshotId!] });
  const bobImage = await register(bobEc2, "on-bobs-copy", bobsCopy.SnapshotId!);

  await share(snap, "Remove", bob.accountId);
  await assert.rejects(bobEc2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap] })), {
    name: "InvalidSnapshot.NotFound",
  });
  await assert.rejects(
    bobEc2.send(new CreateVolumeCommand({ SnapshotId: snap, AvailabilityZone: "us-east-1a" })),
    {
      name: "InvalidSnapshot.NotFound",
    },
  );
  // Alice can always delete her own snapshot; Bob's copy and his image on it stay his.
  await alice.send(new DeleteSnapshotCommand({ SnapshotId: snap }));
  const mine = await bobEc2.send(new DescribeImagesCommand({ ImageIds: [bobImage.ImageId!] }));
  assert.equal(mine.Images?.[0].BlockDeviceMappings?.[0].Ebs?.SnapshotId, bobsCopy.SnapshotId);
});

test("an image's own snapshot pins it only for its owner, and the error names only the owner's image", async () => {
  const snap = await aliceSnapshot("pinned");
  const image = await register(alice, "pinned-image", snap);
  await assert.rejects(alice.send(new DeleteSnapshotCommand({ SnapshotId: snap })), (e: Error) => {
    assert.equal(e.name, "InvalidSnapshot.InUse");
    assert.ok(e.message.includes(image.ImageId!), e.message);
    return true;
  });
});

test("grantees see neither the owner's tags nor the other grantees", async () => {
  const snap = await aliceSnapshot("tags");
  const image = await register(alice, "tagged-image", snap);
  await alice.send(
    new ModifyImageAttributeCommand({
      ImageId: image.ImageId,
      LaunchPermission: { Add: [{ UserId: bob.accountId }, { UserId: carol.accountId }] },
    }),
  );
  await share(snap, "Add", bob.accountId);
  await share(snap, "Add", carol.accountId);
  const bobEc2 = ec2(daemon, bob);

  const owner = await alice.send(new DescribeImagesCommand({ ImageIds: [image.ImageId!] }));
  assert.deepEqual(owner.Images?.[0].Tags, [{ Key: "secret", Value: "image-tag" }]);
  const seen = await bobEc2.send(new DescribeImagesCommand({ ImageIds: [image.ImageId!] }));
  assert.equal(seen.Images?.[0].ImageId, image.ImageId);
  assert.equal(seen.Images?.[0].Tags, undefined);
  const snapSeen = await bobEc2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap] }));
  assert.equal(snapSeen.Snapshots?.[0].Tags, undefined);
  const byTag = await bobEc2.send(
    new DescribeImagesCommand({ Filters: [{ Name: "tag:secret", Values: ["image-tag"] }] }),
  );
  assert.ok(!byTag.Images?.some((i) => i.ImageId === image.ImageId), "Alice's tags match nothing for Bob");

  // Bob asks whether Carol may use Alice's image or snapshot: nothing tells him.
  const asCarol = await bobEc2.send(new DescribeImagesCommand({ ExecutableUsers: [carol.accountId] }));
  assert.deepEqual(asCarol.Images, []);
  const restorable = await bobEc2.send(
    new DescribeSnapshotsCommand({ RestorableByUserIds: [carol.accountId] }),
  );
  assert.deepEqual(restorable.Snapshots, []);
  // What Bob may learn is what he may use himself; Alice, the owner, sees her grants.
  const forBob = await bobEc2.send(new DescribeImagesCommand({ ExecutableUsers: ["self"] }));
  assert.deepEqual(
    forBob.Images?.map((i) => i.ImageId),
    [image.ImageId],
  );
  const forCarol = await alice.send(new DescribeImagesCommand({ ExecutableUsers: [carol.accountId] }));
  assert.deepEqual(
    forCarol.Images?.map((i) => i.ImageId),
    [image.ImageId],
  );
  // Owner's own images are not "shared with self".
  const aliceSelf = await alice.send(new DescribeImagesCommand({ ExecutableUsers: ["self"] }));
  assert.ok(!aliceSelf.Images?.some((i) => i.ImageId === image.ImageId));

  // A grantee's copy does not carry the owner's tags, even with CopyImageTags.
  const copy = await bobEc2.send(
    new CopyImageCommand({
      SourceRegion: "us-east-1",
      SourceImageId: image.ImageId,
      Name: "bobs-tagless-copy",
      CopyImageTags: true,
    }),
  );
  await waitUntilImageAvailable(waiter(bobEc2), { ImageIds: [copy.ImageId!] });
  const copied = await bobEc2.send(new DescribeImagesCommand({ ImageIds: [copy.ImageId!] }));
  assert.equal(copied.Images?.[0].Tags, undefined);
});

test("a public image whose snapshot is private cannot be copied by a third account", async () => {
  const snap = await aliceSnapshot("public");
  const image = await register(alice, "public-image", snap);
  await alice.send(
    new ModifyImageAttributeCommand({
      ImageId: image.ImageId,
      LaunchPermission: { Add: [{ Group: "all" }] },
    }),
  );
  const carolEc2 = ec2(daemon, carol);
  const before = (await carolEc2.send(new DescribeImagesCommand({ Owners: ["self"] }))).Images ?? [];
  await assert.rejects(
    carolEc2.send(
      new CopyImageCommand({ SourceRegion: "us-east-1", SourceImageId: image.ImageId, Name: "carols" }),
    ),
    { name: "UnauthorizedOperation", message: /storage of this ami/ },
  );
  const after = (await carolEc2.send(new DescribeImagesCommand({ Owners: ["self"] }))).Images ?? [];
  assert.deepEqual(after, before);
  const carolSnaps = await carolEc2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }));
  assert.deepEqual(carolSnaps.Snapshots, []);
});

test("concurrent retries with one ClientToken do the work once (CopyImage, StartSnapshot)", async () => {
  const snap = await aliceSnapshot("token");
  const image = await register(alice, "token-image", snap);
  const copies = await Promise.all(
    Array.from({ length: 4 }, () =>
      alice.send(
        new CopyImageCommand({
          SourceRegion: "us-east-1",
          SourceImageId: image.ImageId,
          Name: "token-copy",
          ClientToken: "copy-token-1",
        }),
      ),
    ),
  );
  assert.equal(new Set(copies.map((c) => c.ImageId)).size, 1);
  const named = await alice.send(
    new DescribeImagesCommand({ Owners: ["self"], Filters: [{ Name: "name", Values: ["token-copy"] }] }),
  );
  assert.deepEqual(
    named.Images?.map((i) => i.ImageId),
    [copies[0].ImageId],
  );
  await assert.rejects(
    alice.send(
      new CopyImageCommand({
        SourceRegion: "us-east-1",
        SourceImageId: image.ImageId,
        Name: "other-name",
        ClientToken: "copy-token-1",
      }),
    ),
    { name: "IdempotentParameterMismatch" },
  );

  const ebs = new EBSClient({
    endpoint: daemon.url,
    region: "us-east-1",
    credentials: adminCredentials(dataDir) as Credentials,
    maxAttempts: 1,
  });
  const before = (await alice.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }))).Snapshots!.length;
  const started = await Promise.all(
    Array.from({ length: 4 }, () =>
      ebs.send(new StartSnapshotCommand({ VolumeSize: 1, ClientToken: "start-token-1", Timeout: 60 })),
    ),
  );
  assert.equal(new Set(started.map((s) => s.SnapshotId)).size, 1);
  const afterStart = (await alice.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }))).Snapshots!
    .length;
  assert.equal(afterStart, before + 1);
});

test("tags are checked wherever they are given: EBS StartSnapshot, key pairs", async () => {
  const ebs = new EBSClient({
    endpoint: daemon.url,
    region: "us-east-1",
    credentials: adminCredentials(dataDir),
    maxAttempts: 1,
  });
  const before = (await alice.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }))).Snapshots!.length;
  await assert.rejects(
    ebs.send(new StartSnapshotCommand({ VolumeSize: 1, Tags: [{ Key: "aws:reserved", Value: "x" }] })),
    { name: "ValidationException" },
  );
  await assert.rejects(
    ebs.send(new StartSnapshotCommand({ VolumeSize: 1, Tags: [{ Key: "k", Value: "v".repeat(257) }] })),
    { name: "ValidationException" },
  );
  assert.equal(
    (await alice.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }))).Snapshots!.length,
    before,
  );
  await assert.rejects(
    alice.send(
      new CreateKeyPairCommand({
        KeyName: "tagged",
        TagSpecifications: [{ ResourceType: "key-pair", Tags: [{ Key: "aws:x", Value: "y" }] }],
      }),
    ),
    { name: "InvalidParameterValue" },
  );
});

test("RegisterImage checks descriptions and device names", async () => {
  const snap = await aliceSnapshot("register-checks");
  const before = (await alice.send(new DescribeImagesCommand({ Owners: ["self"] }))).Images!.length;
  await assert.rejects(
    alice.send(
      new RegisterImageCommand({
        Name: "long-description",
        Description: "d".repeat(256),
        RootDeviceName: "/dev/xvda",
        BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: snap } }],
      }),
    ),
    { name: "InvalidParameterValue" },
  );
  await assert.rejects(
    alice.send(
      new RegisterImageCommand({
        Name: "bad-device",
        RootDeviceName: "/etc/passwd",
        BlockDeviceMappings: [{ DeviceName: "/etc/passwd", Ebs: { SnapshotId: snap } }],
      }),
    ),
    { name: "InvalidBlockDeviceMapping" },
  );
  assert.equal((await alice.send(new DescribeImagesCommand({ Owners: ["self"] }))).Images!.length, before);
});

test("an EBS child snapshot takes only the caller's own parent: a shared one would outlive the share", async () => {
  const snap = await aliceSnapshot("ebs-parent");
  await share(snap, "Add", bob.accountId);
  const bobEbs = new EBSClient({
    endpoint: daemon.url,
    region: "us-east-1",
    credentials: bob,
    maxAttempts: 1,
  });
  const bobEc2 = ec2(daemon, bob);
  const before = (await bobEc2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }))).Snapshots ?? [];
  await assert.rejects(
    bobEbs.send(new StartSnapshotCommand({ VolumeSize: 1, ParentSnapshotId: snap, Timeout: 60 })),
    (e: Error) => {
      assert.equal(e.name, "AccessDeniedException");
      assert.match(e.message, /copy it to your account first/);
      return true;
    },
  );
  const after = (await bobEc2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }))).Snapshots ?? [];
  assert.deepEqual(after, before);
});

test("ClientToken: at most 64 characters, and CreateVolume's retries make one volume", async () => {
  const ebs = new EBSClient({
    endpoint: daemon.url,
    region: "us-east-1",
    credentials: adminCredentials(dataDir),
    maxAttempts: 1,
  });
  await assert.rejects(ebs.send(new StartSnapshotCommand({ VolumeSize: 1, ClientToken: "t".repeat(65) })), {
    name: "ValidationException",
  });
  await assert.rejects(
    alice.send(
      new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a", ClientToken: "v".repeat(65) }),
    ),
    { name: "InvalidParameterValue" },
  );
  const retries = await Promise.all(
    Array.from({ length: 3 }, () =>
      alice.send(
        new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a", ClientToken: "vol-token-1" }),
      ),
    ),
  );
  assert.equal(new Set(retries.map((v) => v.VolumeId)).size, 1);
  await assert.rejects(
    alice.send(
      new CreateVolumeCommand({ Size: 2, AvailabilityZone: "us-east-1a", ClientToken: "vol-token-1" }),
    ),
    { name: "IdempotentParameterMismatch" },
  );
});
