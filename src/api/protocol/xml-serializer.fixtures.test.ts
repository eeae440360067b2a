// The serializer must keep writing byte for byte what it wrote when these fixtures were recorded
// (with the fast-xml-parser implementation it replaced). Rewrite the fixtures only on purpose:
// STRATA_WRITE_FIXTURES=1 bin/node --test src/api/protocol/xml-serializer.fixtures.test.ts
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { serializeEc2Error, serializeEc2Response } from "./xml-serializer.ts";

const fixtureFile = new URL("./xml-serializer.fixtures.json", import.meta.url);
const created = new Date("2026-11-22T04:48:35.463Z");
const awkward = `a <b> & "c" 'd' \r\n\tx\u0001y\u0000\uFFFE\ud800 é 🎉 ]]>`;

const image = (n: number) => ({
  ImageId: `ami-${n}`,
  ImageLocation: "123456789012/golden",
  State: "available",
  OwnerId: "123456789012",
  CreationDate: "2026-11-22T04:48:35.000Z",
  DeprecationTime: "2028-11-22T04:48:00.000Z",
  Public: n % 2 === 0,
  Architecture: "x86_64",
  ImageType: "machine",
  Name: `golden-${n}`,
  Description: n === 1 ? awkward : undefined,
  RootDeviceType: "ebs",
  RootDeviceName: "/dev/xvda",
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
  VirtualizationType: "hvm",
  Hypervisor: "xen",
  EnaSupport: true,
  BootMode: "uefi-preferred",
  DeregistrationProtection: "disabled",
  LastLaunchedTime: null,
  Tags: [
    { Key: "Name", Value: "golden" },
    { Key: "empty", Value: "" },
  ],
});

const responses: Record<string, [operation: string, output: unknown]> = {
  DescribeImages: ["DescribeImages", { Images: [image(1), image(2)], NextToken: "more" }],
  DescribeSnapshots: [
    "DescribeSnapshots",
    {
      Snapshots: [
        {
          SnapshotId: "snap-1",
          VolumeId: "vol-1",
          State: "completed",
          Progress: "100%",
          StartTime: created,
          CompletionTime: "2026-11-22T05:00:00Z",
          VolumeSize: 8,
          OwnerId: "123456789012",
          Description: awkward,
          Encrypted: false,
          StorageTier: "standard",
          Tags: [{ Key: "<&>\"'", Value: "line\rbreak" }],
        },
        { SnapshotId: "snap-2", VolumeSize: 16, Encrypted: true, Tags: [], KmsKeyId: undefined },
      ],
    },
  ],
  CreateVolume: [
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
      Tags: [{ Key: "Name", Value: "data" }],
    },
  ],
  DescribeRegions: [
    "DescribeRegions",
    {
      Regions: [
        { RegionName: "us-east-1", Endpoint: "ec2.us-east-1.example", OptInStatus: "opt-in-not-required" },
        { RegionName: "eu-west-1", Endpoint: "ec2.eu-west-1.example" },
      ],
    },
  ],
  DescribeImageAttribute: [
    "DescribeImageAttribute",
    {
      ImageId: "ami-1",
      LaunchPermissions: [{ UserId: "123456789012" }, { Group: "all" }],
      Description: { Value: "golden" },
    },
  ],
  DeregisterImage: [
    "DeregisterImage",
    {
      Return: true,
      DeleteSnapshotResults: [
        { SnapshotId: "snap-1", ReturnCode: "success" },
        { SnapshotId: "snap-2", ReturnCode: "client-error" },
      ],
    },
  ],
  DeleteVolume: ["DeleteVolume", undefined],
  CreateTags: ["CreateTags", {}],
  // Empty structures, all-null lists, nulls in lists, empty strings: all empty elements or nothing.
  EmptyThings: [
    "DescribeImages",
    { Images: [null, { ImageId: "", BlockDeviceMappings: [{ Ebs: {} }, {}], Tags: [null] }, {}] },
  ],
  NoImages: ["DescribeImages", { Images: [null, undefined] }],
  Scalars: [
    "DescribeInstanceTypes",
    {
      InstanceTypes: [
        {
          InstanceType: "t3.micro",
          MemoryInfo: { SizeInMiB: 10n },
          EbsInfo: { EbsOptimizedInfo: { BaselineThroughputInMBps: 0.5, MaximumIops: -0 } },
          ProcessorInfo: { SupportedArchitectures: ["x86_64", "", "arm64"], SustainedClockSpeedInGhz: 1e300 },
        },
      ],
    },
  ],
  Blob: [
    "BundleInstance",
    { BundleTask: { Storage: { S3: { UploadPolicy: new Uint8Array([0, 1, 255]) } } } },
  ],
  StringFromNumber: ["CopyImage", { ImageId: 12 }],
};

const actual: Record<string, string> = {};
for (const [name, [operation, output]] of Object.entries(responses))
  actual[name] = serializeEc2Response(operation, output, name === "DeleteVolume" ? "<&>" : "req-1");
actual.Error = serializeEc2Error("InvalidParameterValue", "Invalid value 'a<b' for Size", "req-2");
actual.ErrorEmptyMessage = serializeEc2Error("InternalError", "", "req-3");

if (process.env.STRATA_WRITE_FIXTURES) writeFileSync(fixtureFile, `${JSON.stringify(actual, null, 2)}\n`);
const expected: Record<string, string> = JSON.parse(readFileSync(fixtureFile, "utf8"));

for (const name of Object.keys(expected))
  test(`${name} is serialized as recorded`, () => assert.equal(actual[name], expected[name]));

test("every case has a fixture", () => assert.deepEqual(Object.keys(actual), Object.keys(expected)));
