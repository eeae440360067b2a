// The seeds' own commands, unchanged but for --endpoint-url, with Debian's aws CLI.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import { AWS_CLI, awsCli, awsCliError, createAccount } from "./ec2-helpers.ts";
import { MiB, seededBytes, sha256, tempDir } from "./helpers.ts";

const _run = promisify(execFile);
const dataDir = tempDir();
let daemon: Daemon;

before(async () => {
  daemon = await startDaemon(dataDir);
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

const aws = (args: string[], env?: Record<string, string>) => awsCli(daemon, dataDir, args, env);
const awsError = (args: string[]) => awsCliError(daemon, dataDir, args);

test("create-snapshot, register-image, copy-image, describe, deregister with the aws CLI", {
  skip: !existsSync(AWS_CLI) && "Debian's awscli is not installed (scripts/setup.sh installs it)",
}, async () => {
  const regions = (await aws(["ec2", "describe-regions"])) as { Regions: { RegionName: string }[] };
  assert.deepEqual(regions.Regions.map((r) => r.RegionName).sort(), ["eu-west-1", "us-east-1"]);
  const zones = (await aws(["ec2", "describe-availability-zones"])) as {
    AvailabilityZones: { ZoneName: string }[];
  };
  assert.deepEqual(
    zones.AvailabilityZones.map((z) => z.ZoneName),
    ["us-east-1a", "us-east-1b", "us-east-1c"],
  );

  const vol = (await aws(["ec2", "create-volume", "--size", "1", "--availability-zone", "us-east-1a"])) as {
    VolumeId: string;
  };
  await aws(["ec2", "wait", "volume-available", "--volume-ids", vol.VolumeId]);
  const data = seededBytes("awscli", 2 * MiB);
  await daemon.client().write(vol.VolumeId, 0, data);

  // Step 1 of the seed: create-snapshot.
  const snap = (await aws([
    "ec2",
    "create-snapshot",
    "--volume-id",
    vol.VolumeId,
    "--description",
    "My Web Server Backup",
  ])) as {
    SnapshotId: string;
    Description: string;
  };
  assert.equal(snap.Description, "My Web Server Backup");
  await aws(["ec2", "wait", "snapshot-completed", "--snapshot-ids", snap.SnapshotId]);

  // Step 2: register-image, with the seed's JSON block device mappings.
  const mappings = JSON.stringify([{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: snap.SnapshotId } }]);
  const register = ["ec2", "register-image", "--name", "WebServer-AMI", "--root-device-name", "/dev/xvda"];
  register.push("--block-device-mappings", mappings);
  const image = (await aws(register)) as { ImageId: string };
  assert.match(image.ImageId, /^ami-[0-9a-f]{17}$/);
  const described = (await aws(["ec2", "describe-images", "--owners", "self"])) as {
    Images: { ImageId: string; Name: string }[];
  };
  assert.deepEqual(
    described.Images.map((i) => [i.ImageId, i.Name]),
    [[image.ImageId, "WebServer-AMI"]],
  );
  assert.match(await awsError(register), /InvalidAMIName\.Duplicate/);

  // Copy AMI to another region and wait there.
  const copy = (await aws([
    "ec2",
    "copy-image",
    "--source-region",
    "us-east-1",
    "--source-image-id",
    image.ImageId,
    "--name",
    "WebServer-AMI",
    "--region",
    "eu-west-1",
  ])) as { ImageId: string };
  await aws(["ec2", "wait", "image-available", "--image-ids", copy.ImageId, "--region", "eu-west-1"]);
  const eu = (await aws([
    "ec2",
    "describe-images",
    "--image-ids",
    copy.ImageId,
    "--region",
    "eu-west-1",
  ])) as {
    Images: { BlockDeviceMappings: { Ebs: { SnapshotId: string } }[] }[];
  };
  const euSnap = eu.Images[0].BlockDeviceMappings[0].Ebs.SnapshotId;
  const euVol = (await aws([
    "ec2",
    "create-volume",
    "--snapshot-id",
    euSnap,
    "--availability-zone",
    "eu-west-1a",
    "--region",
    "eu-west-1",
  ])) as { VolumeId: string };
  assert.equal(
    sha256(await daemon.client("eu-west-1").read(euVol.VolumeId, 0, data.byteLength)),
    sha256(data),
  );

  // Deregister: the snapshot remains; share the retained snapshot's new image with another account.
  await aws(["ec2", "deregister-image", "--image-id", image.ImageId]);
  const snaps = (await aws([
    "ec2",
    "describe-snapshots",
    "--owner-ids",
    "self",
    "--filters",
    `Name=volume-id,Values=${vol.VolumeId}`,
  ])) as {
    Snapshots: { SnapshotId: string; State: string }[];
  };
  assert.deepEqual(
    snaps.Snapshots.map((s) => [s.SnapshotId, s.State]),
    [[snap.SnapshotId, "completed"]],
  );
  const v2 = (await aws(register)) as { ImageId: string };
  const dave = await createAccount(dataDir, "dave");
  const asDave = {
    AWS_ACCESS_KEY_ID: dave.accessKeyId,
    AWS_SECRET_ACCESS_KEY: dave.secretAccessKey,
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  };
  await assert.rejects(
    aws(["ec2", "describe-images", "--image-ids", v2.ImageId], asDave),
    /InvalidAMIID\.NotFound/,
  );
  await aws([
    "ec2",
    "modify-image-attribute",
    "--image-id",
    v2.ImageId,
    "--launch-permission",
    `Add=[{UserId=${dave.accountId}}]`,
  ]);
  const attr = (await aws([
    "ec2",
    "describe-image-attribute",
    "--image-id",
    v2.ImageId,
    "--attribute",
    "launchPermission",
  ])) as {
    LaunchPermissions: { UserId: string }[];
  };
  assert.deepEqual(attr.LaunchPermissions, [{ UserId: dave.accountId }]);
  const seen = (await aws(["ec2", "describe-images", "--image-ids", v2.ImageId], asDave)) as {
    Images: { ImageId: string }[];
  };
  assert.equal(seen.Images[0].ImageId, v2.ImageId);

  // Tags.
  await aws([
    "ec2",
    "create-tags",
    "--resources",
    v2.ImageId,
    snap.SnapshotId,
    "--tags",
    "Key=env,Value=prod",
  ]);
  const tagged = (await aws([
    "ec2",
    "describe-images",
    "--owners",
    "self",
    "--filters",
    "Name=tag:env,Values=prod",
  ])) as { Images: unknown[] };
  assert.equal(tagged.Images.length, 1);
  await assert.rejects(
    aws(["ec2", "delete-snapshot", "--snapshot-id", snap.SnapshotId]),
    /InvalidSnapshot\.InUse/,
  );
});
