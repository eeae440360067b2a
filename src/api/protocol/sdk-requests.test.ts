// The AWS SDK v3 serializes a command; our parser must give back exactly the command's input.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CopyImageCommand,
  CreateVolumeCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  type EC2Client,
  EnableImageDeprecationCommand,
  EnableImageDeregistrationProtectionCommand,
  ImportKeyPairCommand,
  ModifyImageAttributeCommand,
  RegisterImageCommand,
} from "@aws-sdk/client-ec2";
import { parseEc2Request } from "./query-parser.ts";
import { sentParams } from "./sdk-harness.ts";

type Command = { input: object; constructor: { name: string } };

async function roundTrip(command: Command): Promise<void> {
  const params = await sentParams((client: EC2Client) => client.send(command as never));
  const parsed = parseEc2Request(params);
  assert.equal(parsed.action, command.constructor.name.replace(/Command$/, ""));
  assert.equal(parsed.version, "2016-11-15");
  assert.deepStrictEqual(parsed.input, command.input);
}

test("CreateVolume with TagSpecifications", () =>
  roundTrip(
    new CreateVolumeCommand({
      AvailabilityZone: "us-east-1a",
      Size: 8,
      VolumeType: "gp3",
      Iops: 3000,
      Throughput: 125,
      Encrypted: true,
      SnapshotId: "snap-0123456789abcdef0",
      ClientToken: "token-1",
      DryRun: false,
      TagSpecifications: [
        {
          ResourceType: "volume",
          Tags: [
            { Key: "Name", Value: "data" },
            { Key: "team & owner", Value: "a=b+c/d é 🎉" },
          ],
        },
      ],
    }),
  ));

test("DescribeSnapshots with Filters, OwnerIds, SnapshotIds and MaxResults", () =>
  roundTrip(
    new DescribeSnapshotsCommand({
      Filters: [
        { Name: "status", Values: ["completed", "pending"] },
        { Name: "tag:Name", Values: ["web*"] },
      ],
      OwnerIds: ["self", "123456789012"],
      SnapshotIds: ["snap-1", "snap-2", "snap-3"],
      RestorableByUserIds: ["111122223333"],
      MaxResults: 50,
      NextToken: "next-page",
    }),
  ));

test("RegisterImage with BlockDeviceMappings", () =>
  roundTrip(
    new RegisterImageCommand({
      Name: "golden-2026",
      Description: "golden image <v2>",
      Architecture: "x86_64",
      RootDeviceName: "/dev/xvda",
      VirtualizationType: "hvm",
      EnaSupport: true,
      BootMode: "uefi-preferred",
      TpmSupport: "v2.0",
      ImdsSupport: "v2.0",
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
        { DeviceName: "/dev/sdc", NoDevice: "" },
      ],
    }),
  ));

test("ModifyImageAttribute with LaunchPermission Add and Remove", () =>
  roundTrip(
    new ModifyImageAttributeCommand({
      ImageId: "ami-1",
      LaunchPermission: {
        Add: [{ UserId: "111122223333" }, { Group: "all" }],
        Remove: [
          { UserId: "444455556666" },
          { OrganizationArn: "arn:aws:organizations::1:organization/o-1" },
        ],
      },
      Description: { Value: "shared" },
      UserIds: ["777788889999"],
      OperationType: "add",
    }),
  ));

test("CopyImage", () =>
  roundTrip(
    new CopyImageCommand({
      Name: "copy",
      SourceImageId: "ami-1",
      SourceRegion: "us-west-2",
      Description: "copied",
      Encrypted: true,
      KmsKeyId: "alias/key",
      ClientToken: "token-2",
      CopyImageTags: true,
    }),
  ));

test("DescribeImages with Owners, ExecutableUsers and IncludeDeprecated", () =>
  roundTrip(
    new DescribeImagesCommand({
      Owners: ["self", "amazon"],
      ExecutableUsers: ["self", "all"],
      ImageIds: ["ami-1"],
      Filters: [{ Name: "is-public", Values: ["false"] }],
      IncludeDeprecated: true,
      DryRun: true,
    }),
  ));

test("a timestamp member (EnableImageDeprecation DeprecateAt)", async () => {
  await roundTrip(
    new EnableImageDeprecationCommand({ ImageId: "ami-1", DeprecateAt: new Date("2030-01-02T03:04:05Z") }),
  );
  await roundTrip(
    new EnableImageDeprecationCommand({
      ImageId: "ami-1",
      DeprecateAt: new Date("2030-01-02T03:04:05.678Z"),
    }),
  );
});

test("a blob member (ImportKeyPair PublicKeyMaterial)", () =>
  roundTrip(
    new ImportKeyPairCommand({
      KeyName: "k",
      PublicKeyMaterial: new Uint8Array([0, 1, 2, 250, 251, 252, 253, 254, 255]),
    }),
  ));

test("members and actions newer than the botocore model, added by model-patches.json", async () => {
  await roundTrip(
    new DescribeImagesCommand({ Owners: ["self"], MaxResults: 10, NextToken: "t", IncludeDisabled: true }),
  );
  await roundTrip(new DeregisterImageCommand({ ImageId: "ami-1", DeleteAssociatedSnapshots: true }));
  await roundTrip(new EnableImageDeregistrationProtectionCommand({ ImageId: "ami-1", WithCooldown: true }));
  const tags = [{ ResourceType: "image" as const, Tags: [{ Key: "k", Value: "v" }] }];
  await roundTrip(new RegisterImageCommand({ Name: "n", TagSpecifications: tags }));
  await roundTrip(
    new CopyImageCommand({
      Name: "n",
      SourceImageId: "ami-1",
      SourceRegion: "r",
      ClientToken: "t",
      TagSpecifications: tags,
    }),
  );
  await roundTrip(new ModifyImageAttributeCommand({ ImageId: "ami-1", ImdsSupport: { Value: "v2.0" } }));
});
