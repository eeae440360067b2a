// Our serializer writes a response; the AWS SDK v3 must read back exactly the object we wrote.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CreateVolumeCommand,
  DeleteVolumeCommand,
  DeregisterImageCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  type EC2Client,
  type EC2ServiceException,
  EnableImageDeregistrationProtectionCommand,
  RegisterImageCommand,
} from "@aws-sdk/client-ec2";
import { received } from "./sdk-harness.ts";
import { serializeEc2Error, serializeEc2Response } from "./xml-serializer.ts";

async function roundTrip(operation: string, output: object, send: (c: EC2Client) => Promise<object>) {
  const { $metadata, ...parsed } = (await received(
    send,
    serializeEc2Response(operation, output, "req-1"),
  )) as {
    $metadata: unknown;
  };
  assert.ok($metadata);
  assert.deepStrictEqual(parsed, output);
}

const created = new Date("2026-11-22T04:48:35.463Z");

test("CreateVolume", () =>
  roundTrip(
    "CreateVolume",
    {
      VolumeId: "vol-0123456789abcdef0",
      Size: 8,
      SnapshotId: "",
      AvailabilityZone: "us-east-1a",
      State: "creating",
      CreateTime: created,
      VolumeType: "gp3",
      Iops: 3000,
      Throughput: 125,
      Encrypted: false,
      MultiAttachEnabled: false,
      Attachments: [],
      Tags: [{ Key: "Name", Value: "  a <b> & 'c' \"d\" é 🎉\r\n\tend  " }],
    },
    (c) => c.send(new CreateVolumeCommand({ AvailabilityZone: "us-east-1a", Size: 8 })),
  ));

test("DescribeSnapshots with tags, timestamps, progress and an empty list", () =>
  roundTrip(
    "DescribeSnapshots",
    {
      Snapshots: [
        {
          SnapshotId: "snap-1",
          VolumeId: "vol-1",
          State: "completed",
          Progress: "100%",
          StartTime: created,
          VolumeSize: 8,
          OwnerId: "123456789012",
          Description: "nightly",
          Encrypted: false,
          StorageTier: "standard",
          Tags: [
            { Key: "Name", Value: "one" },
            { Key: "env", Value: "prod" },
          ],
        },
        {
          SnapshotId: "snap-2",
          VolumeId: "vol-1",
          State: "pending",
          Progress: "42%",
          StartTime: new Date("2026-11-22T05:00:00.000Z"),
          VolumeSize: 16,
          OwnerId: "123456789012",
          Encrypted: true,
          Tags: [],
        },
      ],
      NextToken: "next-page",
    },
    (c) => c.send(new DescribeSnapshotsCommand({})),
  ));

test("DescribeImages with block device mappings, tags and deprecationTime", () =>
  roundTrip(
    "DescribeImages",
    {
      Images: [
        {
          ImageId: "ami-1",
          ImageLocation: "123456789012/golden",
          State: "available",
          OwnerId: "123456789012",
          CreationDate: "2026-11-22T04:48:35.000Z",
          DeprecationTime: "2028-11-22T04:48:00.000Z",
          Public: false,
          Architecture: "x86_64",
          ImageType: "machine",
          Name: "golden",
          RootDeviceType: "ebs",
          RootDeviceName: "/dev/xvda",
          VirtualizationType: "hvm",
          Hypervisor: "xen",
          EnaSupport: true,
          BootMode: "uefi-preferred",
          BlockDeviceMappings: [
            {
              DeviceName: "/dev/xvda",
              Ebs: {
                SnapshotId: "snap-1",
                VolumeSize: 8,
                VolumeType: "gp3",
                DeleteOnTermination: true,
                Encrypted: false,
              },
            },
            { DeviceName: "/dev/sdb", VirtualName: "ephemeral0" },
          ],
          ProductCodes: [],
          Tags: [{ Key: "Name", Value: "golden" }],
        },
      ],
    },
    (c) => c.send(new DescribeImagesCommand({})),
  ));

test("RegisterImage", () =>
  roundTrip("RegisterImage", { ImageId: "ami-1" }, (c) => c.send(new RegisterImageCommand({ Name: "n" }))));

test("DescribeSnapshots with no snapshots", () =>
  roundTrip("DescribeSnapshots", { Snapshots: [] }, (c) => c.send(new DescribeSnapshotsCommand({}))));

test("members and actions newer than the botocore model, added by model-patches.json", async () => {
  const image = {
    ImageId: "ami-2",
    DeregistrationProtection: "enabled-with-cooldown",
    LastLaunchedTime: "2026-11-22T04:48:35Z",
    SourceImageId: "ami-1",
    SourceImageRegion: "us-west-2",
  };
  await roundTrip("DescribeImages", { Images: [image], NextToken: "more" }, (c) =>
    c.send(new DescribeImagesCommand({})),
  );
  await roundTrip(
    "DeregisterImage",
    { Return: true, DeleteSnapshotResults: [{ SnapshotId: "snap-1", ReturnCode: "success" }] },
    (c) => c.send(new DeregisterImageCommand({ ImageId: "ami-2" })),
  );
  await roundTrip("EnableImageDeregistrationProtection", { Return: "enabled" }, (c) =>
    c.send(new EnableImageDeregistrationProtectionCommand({ ImageId: "ami-2" })),
  );
  await roundTrip(
    "DescribeImageAttribute",
    { ImageId: "ami-2", DeregistrationProtection: { Value: "disabled" } },
    (c) =>
      c.send(new DescribeImageAttributeCommand({ ImageId: "ami-2", Attribute: "deregistrationProtection" })),
  );
  await roundTrip(
    "DescribeSnapshots",
    { Snapshots: [{ SnapshotId: "snap-1", CompletionTime: created }] },
    (c) => c.send(new DescribeSnapshotsCommand({})),
  );
});

test("an action without output (DeleteVolume)", async () => {
  const body = serializeEc2Response("DeleteVolume", undefined, "req-1");
  const { $metadata, ...parsed } = await received(
    (c) => c.send(new DeleteVolumeCommand({ VolumeId: "v" })),
    body,
  );
  assert.deepStrictEqual(parsed, {});
});

test("an error", async () => {
  const body = serializeEc2Error("InvalidVolume.NotFound", "The volume 'vol-<1>' does not exist.", "req-9");
  const error = await received((c) => c.send(new DeleteVolumeCommand({ VolumeId: "vol-1" })), body, 400).then(
    () => assert.fail("the SDK should throw"),
    (e: EC2ServiceException & { Code?: string }) => e,
  );
  assert.equal(error.name, "InvalidVolume.NotFound");
  assert.equal(error.Code, "InvalidVolume.NotFound");
  assert.equal(error.message, "The volume 'vol-<1>' does not exist.");
  assert.equal(error.$metadata.httpStatusCode, 400);
});
