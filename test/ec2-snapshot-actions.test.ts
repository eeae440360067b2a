// Snapshot and volume actions through @aws-sdk/client-ec2 against the live daemon, each success
// checked by the state it leaves: CopySnapshot within and across regions (the restored copies
// hold the source's bytes, also after the source is deleted), DeleteSnapshot, the
// createVolumePermission attribute (Modify/Describe/Reset), ModifyVolume and DeleteVolume.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  CopySnapshotCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DeleteVolumeCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  type EC2Client,
  ModifySnapshotAttributeCommand,
  ModifyVolumeCommand,
  ResetSnapshotAttributeCommand,
  type Snapshot,
  waitUntilSnapshotCompleted,
} from "@aws-sdk/client-ec2";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import { type Account, adminCredentials, createAccount, ec2 } from "./ec2-helpers.ts";
import { BLOCK_SIZE, MiB, seededBytes, sha256, tempDir, textBlock } from "./helpers.ts";

const dataDir = tempDir();
let daemon: Daemon;
let admin: EC2Client;
let adminEu: EC2Client;
let bob: Account;
let bobEc2: EC2Client;
let adminId = "";

const content = Buffer.concat([seededBytes("copy-source", 3 * MiB), Buffer.alloc(MiB), textBlock(5)]);

before(async () => {
  daemon = await startDaemon(dataDir);
  admin = ec2(daemon, adminCredentials(dataDir));
  adminEu = ec2(daemon, adminCredentials(dataDir), "eu-west-1");
  bob = await createAccount(dataDir, "bob");
  bobEc2 = ec2(daemon, bob);
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

async function completed(client: EC2Client, snapshotId: string): Promise<Snapshot> {
  await waitUntilSnapshotCompleted(
    { client, maxWaitTime: 120, minDelay: 1, maxDelay: 1 },
    { SnapshotIds: [snapshotId] },
  );
  return (await client.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots![0];
}

/** A completed snapshot of a new 1 GiB volume holding `data` at offset 0. */
async function snapshotOf(
  data: Buffer,
  description: string,
): Promise<{ volumeId: string; snapshot: Snapshot }> {
  const vol = await admin.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a" }));
  await daemon.client().write(vol.VolumeId!, 0, data);
  const s = await admin.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId, Description: description }));
  const snapshot = await completed(admin, s.SnapshotId!);
  adminId = snapshot.OwnerId!;
  return { volumeId: vol.VolumeId!, snapshot };
}

/**
 * SHA-256 of the first `length` bytes of a new volume restored from the snapshot in `region`,
 * read through the admin socket as the volume's owner (the account behind `client`).
 */
async function restoredHash(
  client: EC2Client,
  region: string,
  snapshotId: string,
  length: number,
  account = "admin",
) {
  const vol = await client.send(
    new CreateVolumeCommand({ SnapshotId: snapshotId, AvailabilityZone: `${region}a` }),
  );
  return sha256(await daemon.client(region, account).read(vol.VolumeId!, 0, length));
}

test("CopySnapshot within a region and to another one: new completed snapshots with the same bytes", async () => {
  const { snapshot: source } = await snapshotOf(content, "web data");
  const sourceId = source.SnapshotId!;
  const same = await admin.send(
    new CopySnapshotCommand({
      SourceRegion: "us-east-1",
      SourceSnapshotId: sourceId,
      Description: "same-region copy",
      TagSpecifications: [{ ResourceType: "snapshot", Tags: [{ Key: "copy", Value: "same" }] }],
    }),
  );
  const cross = await adminEu.send(
    new CopySnapshotCommand({ SourceRegion: "us-east-1", SourceSnapshotId: sourceId }),
  );
  assert.deepEqual(same.Tags, [{ Key: "copy", Value: "same" }]);
  assert.equal(new Set([sourceId, same.SnapshotId, cross.SnapshotId]).size, 3, "each copy has its own id");

  const sameCopy = await completed(admin, same.SnapshotId!);
  assert.equal(sameCopy.Description, "same-region copy");
  assert.deepEqual(sameCopy.Tags, [{ Key: "copy", Value: "same" }]);
  assert.equal(sameCopy.OwnerId, adminId);
  assert.equal(sameCopy.VolumeSize, 1);
  const crossCopy = await completed(adminEu, cross.SnapshotId!);
  assert.equal(crossCopy.OwnerId, adminId);
  assert.equal(crossCopy.VolumeSize, 1);
  // EC2's default description names the source.
  assert.match(crossCopy.Description ?? "", new RegExp(`Copied ${sourceId} from us-east-1`));
  // The cross-region copy lives in eu-west-1 only.
  await assert.rejects(admin.send(new DescribeSnapshotsCommand({ SnapshotIds: [cross.SnapshotId!] })), {
    name: "InvalidSnapshot.NotFound",
  });

  const expected = sha256(content);
  assert.equal(await restoredHash(admin, "us-east-1", sourceId, content.length), expected);
  assert.equal(await restoredHash(admin, "us-east-1", same.SnapshotId!, content.length), expected);
  assert.equal(await restoredHash(adminEu, "eu-west-1", cross.SnapshotId!, content.length), expected);

  // DeleteSnapshot of the source: it is gone, and both copies still restore its bytes.
  await admin.send(new DeleteSnapshotCommand({ SnapshotId: sourceId }));
  await assert.rejects(admin.send(new DescribeSnapshotsCommand({ SnapshotIds: [sourceId] })), {
    name: "InvalidSnapshot.NotFound",
  });
  const mine = await admin.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }));
  assert.ok(!mine.Snapshots?.some((s) => s.SnapshotId === sourceId));
  assert.equal(await restoredHash(admin, "us-east-1", same.SnapshotId!, content.length), expected);
  assert.equal(await restoredHash(adminEu, "eu-west-1", cross.SnapshotId!, content.length), expected);
});

test("createVolumePermission: Modify, Describe and ResetSnapshotAttribute; a grantee copies and owns its copy", async () => {
  const data = seededBytes("shared-snapshot", 2 * BLOCK_SIZE);
  const { snapshot } = await snapshotOf(data, "shared");
  const id = snapshot.SnapshotId!;
  const permissions = async () =>
    (
      await admin.send(
        new DescribeSnapshotAttributeCommand({ SnapshotId: id, Attribute: "createVolumePermission" }),
      )
    ).CreateVolumePermissions;
  assert.deepEqual(await permissions(), []);
  await assert.rejects(bobEc2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] })), {
    name: "InvalidSnapshot.NotFound",
  });

  await admin.send(
    new ModifySnapshotAttributeCommand({
      SnapshotId: id,
      Attribute: "createVolumePermission",
      CreateVolumePermission: { Add: [{ UserId: bob.accountId }, { Group: "all" }] },
    }),
  );
  const granted = await permissions();
  assert.deepEqual(
    granted?.map((p) => p.UserId ?? `group:${p.Group}`).sort(),
    [bob.accountId, "group:all"].sort(),
  );
  assert.equal(
    (await bobEc2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }))).Snapshots?.[0].OwnerId,
    adminId,
  );

  // Bob copies the shared snapshot: the copy is his, with the same bytes.
  const bobCopy = await bobEc2.send(
    new CopySnapshotCommand({ SourceRegion: "us-east-1", SourceSnapshotId: id }),
  );
  const copied = await completed(bobEc2, bobCopy.SnapshotId!);
  assert.equal(copied.OwnerId, bob.accountId);
  assert.equal(
    await restoredHash(bobEc2, "us-east-1", copied.SnapshotId!, data.length, bob.accountId),
    sha256(data),
  );

  // Removing one grant keeps the other; a reset removes them all.
  await admin.send(
    new ModifySnapshotAttributeCommand({
      SnapshotId: id,
      Attribute: "createVolumePermission",
      CreateVolumePermission: { Remove: [{ Group: "all" }] },
    }),
  );
  assert.deepEqual(await permissions(), [{ UserId: bob.accountId }]);
  await admin.send(
    new ResetSnapshotAttributeCommand({ SnapshotId: id, Attribute: "createVolumePermission" }),
  );
  assert.deepEqual(await permissions(), []);
  await assert.rejects(bobEc2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] })), {
    name: "InvalidSnapshot.NotFound",
  });
  await assert.rejects(
    bobEc2.send(new CreateVolumeCommand({ SnapshotId: id, AvailabilityZone: "us-east-1a" })),
    { name: "InvalidSnapshot.NotFound" },
  );
  // Bob's own copy is unaffected.
  assert.equal(
    (await bobEc2.send(new DescribeSnapshotsCommand({ SnapshotIds: [copied.SnapshotId!] }))).Snapshots?.[0]
      .State,
    "completed",
  );
});

test("ModifyVolume grows a volume and changes its type, keeping its bytes; DeleteVolume removes it", async () => {
  const vol = await admin.send(
    new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a", VolumeType: "gp2" }),
  );
  const id = vol.VolumeId!;
  const data = seededBytes("grow", 2 * BLOCK_SIZE);
  await daemon.client().write(id, 0, data);
  await assert.rejects(
    admin.send(new ModifyVolumeCommand({ VolumeId: id, Size: 2, VolumeType: "floppy" as never })),
    {
      name: "InvalidParameterValue",
    },
  );

  const modified = await admin.send(new ModifyVolumeCommand({ VolumeId: id, Size: 3, VolumeType: "io1" }));
  assert.equal(modified.VolumeModification?.OriginalSize, 1);
  assert.equal(modified.VolumeModification?.TargetSize, 3);
  assert.equal(modified.VolumeModification?.TargetVolumeType, "io1");
  const described = (await admin.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes![0];
  assert.equal(described.Size, 3);
  assert.equal(described.VolumeType, "io1");
  // The old bytes are there, and the new space is usable: a block past the old end round-trips.
  const client = daemon.client();
  assert.equal(sha256(await client.read(id, 0, data.length)), sha256(data));
  const tail = seededBytes("grown-tail", BLOCK_SIZE);
  await client.write(id, 2 * 1024 * MiB, tail);
  assert.equal(sha256(await client.read(id, 2 * 1024 * MiB, BLOCK_SIZE)), sha256(tail));
  const s = await admin.send(new CreateSnapshotCommand({ VolumeId: id }));
  assert.equal((await completed(admin, s.SnapshotId!)).VolumeSize, 3);
  await assert.rejects(admin.send(new ModifyVolumeCommand({ VolumeId: id, Size: 2 })), {
    name: "InvalidParameterValue",
  });

  await admin.send(new DeleteVolumeCommand({ VolumeId: id }));
  await assert.rejects(admin.send(new DescribeVolumesCommand({ VolumeIds: [id] })), {
    name: "InvalidVolume.NotFound",
  });
  const left = await admin.send(new DescribeVolumesCommand({}));
  assert.ok(!left.Volumes?.some((v) => v.VolumeId === id));
  await assert.rejects(client.read(id, 0, 10), { code: "InvalidVolume.NotFound" });
  // Its snapshot outlives it and restores what the volume held.
  assert.equal(await restoredHash(admin, "us-east-1", s.SnapshotId!, data.length), sha256(data));
});
