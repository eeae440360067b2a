// DescribeVolumeStatus (a restored volume's initialization, i.e. Strata's background hydration) and
// the DescribeStorageUsage extension, through @aws-sdk/client-ec2 and the console's typed command
// (src/console/api/storage-usage.ts) against the live daemon. The cross-account case is the point
// of the unique/shared definition: chunks dedupe across accounts, and the numbers must not tell.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumeStatusCommand,
  type EC2Client,
  ModifySnapshotAttributeCommand,
  paginateDescribeVolumeStatus,
  RegisterImageCommand,
  waitUntilSnapshotCompleted,
} from "@aws-sdk/client-ec2";
import {
  DescribeStorageUsageCommand,
  type DescribeStorageUsageCommandInput,
} from "../src/console/api/storage-usage.ts";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import { type Account, adminCredentials, awsCli, createAccount, ec2 } from "./ec2-helpers.ts";
import { BLOCK_SIZE, MiB, seededBytes, tempDir } from "./helpers.ts";

const dataDir = tempDir();
let daemon: Daemon;
let admin: EC2Client;
let bob: Account;
let bobEc2: EC2Client;

before(async () => {
  daemon = await startDaemon(dataDir);
  admin = ec2(daemon, adminCredentials(dataDir));
  bob = await createAccount(dataDir, "bob");
  bobEc2 = ec2(daemon, bob);
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

async function volumeWith(client: EC2Client, account: string, data: Buffer): Promise<string> {
  const vol = await client.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a" }));
  await daemon.client("us-east-1", account).write(vol.VolumeId!, 0, data);
  return vol.VolumeId!;
}

async function snapshot(client: EC2Client, volumeId: string): Promise<string> {
  const s = await client.send(new CreateSnapshotCommand({ VolumeId: volumeId }));
  await waitUntilSnapshotCompleted(
    { client, maxWaitTime: 120, minDelay: 1, maxDelay: 1 },
    { SnapshotIds: [s.SnapshotId!] },
  );
  return s.SnapshotId!;
}

async function usage(client: EC2Client, ids: DescribeStorageUsageCommandInput) {
  const out = await client.send(new DescribeStorageUsageCommand(ids));
  return out.StorageUsages ?? [];
}

async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).name;
  }
  return "no error";
}

test("DescribeVolumeStatus: a restored volume's initialization reaches 100 %; foreign ids are unknown", async () => {
  const source = await volumeWith(admin, "admin", seededBytes("status", 8 * MiB));
  const snap = await snapshot(admin, source);
  const restored = (
    await admin.send(new CreateVolumeCommand({ SnapshotId: snap, AvailabilityZone: "us-east-1b" }))
  ).VolumeId!;
  let progress = -1;
  for (let i = 0; i < 600 && progress < 100; i++) {
    const s = await admin.send(new DescribeVolumeStatusCommand({ VolumeIds: [restored] }));
    const item = s.VolumeStatuses![0];
    assert.equal(item.VolumeId, restored);
    assert.equal(item.VolumeStatus?.Status, "ok");
    assert.equal(item.InitializationStatusDetails?.InitializationType, "default");
    const p = item.InitializationStatusDetails!.Progress!;
    assert.ok(p >= progress && p <= 100, `progress goes up: ${progress} -> ${p}`);
    progress = p;
    if (p < 100) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(progress, 100);
  const done = (await admin.send(new DescribeVolumeStatusCommand({ VolumeIds: [restored] })))
    .VolumeStatuses![0];
  assert.deepEqual(done.VolumeStatus?.Details, [
    { Name: "io-enabled", Status: "passed" },
    { Name: "initialization-state", Status: "completed" },
  ]);
  // A volume not restored from a snapshot has nothing to initialize.
  const plain = (await admin.send(new DescribeVolumeStatusCommand({ VolumeIds: [source] })))
    .VolumeStatuses![0];
  assert.equal(plain.InitializationStatusDetails, undefined);

  // Filters and pagination, as EC2 documents them.
  const inB = await admin.send(
    new DescribeVolumeStatusCommand({ Filters: [{ Name: "availability-zone", Values: ["us-east-1b"] }] }),
  );
  assert.deepEqual(
    inB.VolumeStatuses!.map((v) => v.VolumeId),
    [restored],
  );
  const impaired = await admin.send(
    new DescribeVolumeStatusCommand({ Filters: [{ Name: "volume-status.status", Values: ["impaired"] }] }),
  );
  assert.deepEqual(impaired.VolumeStatuses, []);
  for (let i = 0; i < 5; i++)
    await admin.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a" }));
  const seen: string[] = [];
  for await (const page of paginateDescribeVolumeStatus({ client: admin, pageSize: 5 }, {})) {
    assert.ok(page.VolumeStatuses!.length <= 5);
    seen.push(...page.VolumeStatuses!.map((v) => v.VolumeId!));
  }
  assert.equal(seen.length, 7);
  assert.equal(new Set(seen).size, 7);

  // Another account: the id is unknown to it (as DescribeVolumes answers), its list lacks it.
  assert.equal(
    await errorOf(bobEc2.send(new DescribeVolumeStatusCommand({ VolumeIds: [restored] }))),
    "InvalidVolume.NotFound",
  );
  const bobs = await bobEc2.send(new DescribeVolumeStatusCommand({}));
  assert.deepEqual(bobs.VolumeStatuses, []);
  // The aws CLI parses the answer too (the 2025 member is unknown to older models, and ignored).
  const cli = (await awsCli(daemon, dataDir, [
    "ec2",
    "describe-volume-status",
    "--volume-ids",
    restored,
  ])) as {
    VolumeStatuses: { VolumeStatus: { Status: string } }[];
  };
  assert.equal(cli.VolumeStatuses[0].VolumeStatus.Status, "ok");
});

test("DescribeStorageUsage: unique bytes are the changed chunks, relative to the account's own snapshots only", async () => {
  const base = seededBytes("usage-base", 4 * MiB); // 8 blocks
  const vol = await volumeWith(admin, "admin", base);
  const first = await snapshot(admin, vol);
  // Change the first two blocks: the second snapshot shares the other six with the first.
  await daemon.client("us-east-1", "admin").write(vol, 0, seededBytes("usage-change", 2 * BLOCK_SIZE));
  const second = await snapshot(admin, vol);

  const [u1, u2] = await usage(admin, { SnapshotIds: [first, second] });
  for (const [u, id] of [
    [u1, first],
    [u2, second],
  ] as const) {
    assert.equal(u.ResourceId, id);
    assert.equal(u.ResourceType, "snapshot");
    assert.equal(u.LogicalBytes, 1024 * MiB);
    assert.equal(u.DataBytes, 8 * BLOCK_SIZE);
    assert.equal(u.UniqueBytes! + u.SharedBytes!, u.StoredBytes);
    // Random bytes do not compress: a chunk is stored in about a block.
    assert.ok(u.StoredBytes! >= 8 * BLOCK_SIZE && u.StoredBytes! < 8 * BLOCK_SIZE * 1.01, `${u.StoredBytes}`);
    assert.ok(u.UniqueBytes! >= 2 * BLOCK_SIZE && u.UniqueBytes! < 2 * BLOCK_SIZE * 1.01, `${u.UniqueBytes}`);
  }
  assert.equal(u1.SharedBytes, u2.SharedBytes, "the six common chunks");

  // An image of the second snapshot: the same chunks, unique relative to the first snapshot.
  const image = await admin.send(
    new RegisterImageCommand({
      Name: "usage-image",
      RootDeviceName: "/dev/xvda",
      BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: second } }],
    }),
  );
  const [img] = await usage(admin, { ImageIds: [image.ImageId!] });
  assert.deepEqual(img, { ...u2, ResourceId: image.ImageId, ResourceType: "image" });

  // Bob stores the very same bytes (both versions): admin's numbers do not move, so they tell
  // admin nothing of what bob stores; bob's own are computed against bob's snapshots alone.
  const bobVol = await volumeWith(bobEc2, "bob", base);
  const bobFirst = await snapshot(bobEc2, bobVol);
  await daemon.client("us-east-1", "bob").write(bobVol, 0, seededBytes("usage-change", 2 * BLOCK_SIZE));
  await snapshot(bobEc2, bobVol);
  assert.deepEqual(await usage(admin, { SnapshotIds: [first, second], ImageIds: [image.ImageId!] }), [
    u1,
    u2,
    img,
  ]);
  const [bobU] = await usage(bobEc2, { SnapshotIds: [bobFirst] });
  assert.deepEqual({ ...bobU, ResourceId: first }, u1);

  // Only the owner may ask, even of a snapshot or image shared with the asker.
  await admin.send(
    new ModifySnapshotAttributeCommand({
      SnapshotId: first,
      Attribute: "createVolumePermission",
      OperationType: "add",
      UserIds: [bob.accountId],
    }),
  );
  assert.equal(await errorOf(usage(bobEc2, { SnapshotIds: [first] })), "InvalidSnapshot.NotFound");
  assert.equal(await errorOf(usage(bobEc2, { SnapshotIds: [second] })), "InvalidSnapshot.NotFound");
  assert.equal(
    await errorOf(usage(bobEc2, { SnapshotIds: ["snap-0123456789abcdef0"] })),
    "InvalidSnapshot.NotFound",
  );
  assert.equal(await errorOf(usage(bobEc2, { ImageIds: [image.ImageId!] })), "InvalidAMIID.NotFound");
  assert.equal(await errorOf(usage(admin, { SnapshotIds: ["bogus"] })), "InvalidSnapshotID.Malformed");
  assert.equal(await errorOf(usage(admin, { SnapshotIds: [first], DryRun: true })), "DryRunOperation");
  assert.deepEqual(await usage(admin, {}), []);

  // A public snapshot: listed by RestorableBy all (the console's "Public"), its usage still private.
  await admin.send(
    new ModifySnapshotAttributeCommand({
      SnapshotId: second,
      Attribute: "createVolumePermission",
      CreateVolumePermission: { Add: [{ Group: "all" }] },
    }),
  );
  const pub = await bobEc2.send(new DescribeSnapshotsCommand({ RestorableByUserIds: ["all"] }));
  assert.deepEqual(
    pub.Snapshots!.map((s) => s.SnapshotId),
    [second],
  );
  // The legacy form (aws ec2 modify-snapshot-attribute --group-names all --operation-type add).
  await admin.send(
    new ModifySnapshotAttributeCommand({ SnapshotId: first, OperationType: "add", GroupNames: ["all"] }),
  );
  const both = await bobEc2.send(new DescribeSnapshotsCommand({ RestorableByUserIds: ["all"] }));
  assert.deepEqual(both.Snapshots!.map((s) => s.SnapshotId).sort(), [first, second].sort());
  assert.equal(await errorOf(usage(bobEc2, { SnapshotIds: [second] })), "InvalidSnapshot.NotFound");
});
