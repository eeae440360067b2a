// Probes for the EC2 actions on instances and key pairs, and the actions that take no id at all.
import {
  CreateImageCommand,
  CreateKeyPairCommand,
  CreateSnapshotsCommand,
  DeleteKeyPairCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstanceStatusCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  GetConsoleOutputCommand,
  ImportKeyPairCommand,
  ModifyInstanceAttributeCommand,
  RebootInstancesCommand,
  RunInstancesCommand,
  type RunInstancesCommandInput,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { type Probe, probe, type World } from "./probes.ts";

// Any well-formed public key: B imports it under A's key name.
const PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ5ZS1ieWUtaXNvbGF0aW9uLXN1aXRlLWtleS0wMDAw probe";

function run(w: World, input: Partial<RunInstancesCommandInput>) {
  return w.b.ec2.send(
    new RunInstancesCommand({
      ImageId: w.bOwn.imageId,
      InstanceType: "t3.nano",
      MinCount: 1,
      MaxCount: 1,
      ...input,
    }),
  );
}

/** B's key pair of that name, created by a probe that should have succeeded, is removed again. */
const deleteBKey = async (w: World, name: string) => {
  await w.b.ec2.send(new DeleteKeyPairCommand({ KeyName: name }));
};

export const computeProbes: Record<string, Probe[]> = {
  // Where capacity is zero, a launch that passes every check answers InsufficientInstanceCapacity,
  // so an id that should not have been accepted shows up as a different code.
  RunInstances: [
    probe("image", "ImageId", (w, id) => run(w, { ImageId: id })),
    probe("snapshot", "BlockDeviceMappings Ebs.SnapshotId (B's image, extra device)", (w, id) =>
      run(w, { BlockDeviceMappings: [{ DeviceName: "/dev/sdf", Ebs: { SnapshotId: id } }] }),
    ),
    probe("snapshot", "BlockDeviceMappings Ebs.SnapshotId (B's image, root device)", (w, id) =>
      run(w, { BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: id } }] }),
    ),
    probe("keyName", "KeyName (B's image)", (w, name) => run(w, { KeyName: name })),
  ],
  DescribeInstances: [
    probe("instance", "InstanceIds", (w, id) =>
      w.b.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] })),
    ),
    probe("instance", "Filter instance-id", (w, id) =>
      w.b.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "instance-id", Values: [id] }] })),
    ),
    probe("image", "Filter image-id", (w, id) =>
      w.b.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "image-id", Values: [id] }] })),
    ),
    probe("keyName", "Filter key-name", (w, name) =>
      w.b.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "key-name", Values: [name] }] })),
    ),
  ],
  DescribeInstanceStatus: [
    probe("instance", "InstanceIds", (w, id) =>
      w.b.ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: [id], IncludeAllInstances: true })),
    ),
  ],
  StartInstances: [
    probe("instance", "InstanceIds", (w, id) =>
      w.b.ec2.send(new StartInstancesCommand({ InstanceIds: [id] })),
    ),
  ],
  StopInstances: [
    probe("instance", "InstanceIds", (w, id) =>
      w.b.ec2.send(new StopInstancesCommand({ InstanceIds: [id] })),
    ),
    probe("instance", "InstanceIds, Force", (w, id) =>
      w.b.ec2.send(new StopInstancesCommand({ InstanceIds: [id], Force: true })),
    ),
  ],
  RebootInstances: [
    probe("instance", "InstanceIds", (w, id) =>
      w.b.ec2.send(new RebootInstancesCommand({ InstanceIds: [id] })),
    ),
  ],
  TerminateInstances: [
    probe("instance", "InstanceIds", (w, id) =>
      w.b.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] })),
    ),
  ],
  GetConsoleOutput: [
    probe("instance", "InstanceId", (w, id) =>
      w.b.ec2.send(new GetConsoleOutputCommand({ InstanceId: id, Latest: true })),
    ),
  ],
  CreateImage: [
    probe("instance", "InstanceId", (w, id) =>
      w.b.ec2.send(new CreateImageCommand({ InstanceId: id, Name: "b-image-of-others", NoReboot: true })),
    ),
  ],
  CreateSnapshots: [
    probe("instance", "InstanceSpecification.InstanceId", (w, id) =>
      w.b.ec2.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: id } })),
    ),
  ],
  ModifyInstanceAttribute: [
    probe("instance", "InstanceId (shutdown behaviour)", (w, id) =>
      w.b.ec2.send(
        new ModifyInstanceAttributeCommand({
          InstanceId: id,
          InstanceInitiatedShutdownBehavior: { Value: "terminate" },
        }),
      ),
    ),
  ],
  DescribeInstanceAttribute: ["userData", "instanceType", "blockDeviceMapping"].map((attribute) =>
    probe("instance", `InstanceId (${attribute})`, (w, id) =>
      w.b.ec2.send(
        new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: attribute as "userData" }),
      ),
    ),
  ),
  // Key names are per account: B may create one of the same name as A's, as it may any new name.
  CreateKeyPair: [
    probe(
      "keyName",
      "KeyName",
      async (w, name) => {
        const k = await w.b.ec2.send(new CreateKeyPairCommand({ KeyName: name, KeyType: "ed25519" }));
        return { KeyName: k.KeyName };
      },
      deleteBKey,
    ),
  ],
  ImportKeyPair: [
    probe(
      "keyName",
      "KeyName",
      async (w, name) => {
        const k = await w.b.ec2.send(
          new ImportKeyPairCommand({ KeyName: name, PublicKeyMaterial: Buffer.from(PUBLIC_KEY) }),
        );
        return { KeyName: k.KeyName, KeyFingerprint: k.KeyFingerprint };
      },
      deleteBKey,
    ),
  ],
  DescribeKeyPairs: [
    probe("keyName", "KeyNames", (w, name) =>
      w.b.ec2.send(new DescribeKeyPairsCommand({ KeyNames: [name] })),
    ),
    probe("keyId", "KeyPairIds", (w, id) => w.b.ec2.send(new DescribeKeyPairsCommand({ KeyPairIds: [id] }))),
    probe("keyName", "Filter key-name", (w, name) =>
      w.b.ec2.send(new DescribeKeyPairsCommand({ Filters: [{ Name: "key-name", Values: [name] }] })),
    ),
    probe("keyId", "Filter key-pair-id", (w, id) =>
      w.b.ec2.send(new DescribeKeyPairsCommand({ Filters: [{ Name: "key-pair-id", Values: [id] }] })),
    ),
  ],
  DeleteKeyPair: [
    probe("keyName", "KeyName", (w, name) => w.b.ec2.send(new DeleteKeyPairCommand({ KeyName: name }))),
    probe("keyId", "KeyPairId", (w, id) => w.b.ec2.send(new DeleteKeyPairCommand({ KeyPairId: id }))),
  ],
};

/** Actions that take no resource id, so there is nothing of another account's to name. */
export const computeExempt: Record<string, string> = {
  DescribeRegions: "takes region names only; every account sees the same regions",
  DescribeAvailabilityZones: "takes zone names and ids only; every account sees the same zones",
  DescribeInstanceTypes: "takes instance type names only; the catalogue is the same for every account",
};
