// Instance API calls that boot nothing: bad RunInstances input is refused with EC2's errors and
// creates nothing; key pairs; instance types. (Booting is instances.test.ts.)
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import {
  CreateKeyPairCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DeleteKeyPairCommand,
  DeregisterImageCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeKeyPairsCommand,
  DescribeVolumesCommand,
  type EC2Client,
  ImportKeyPairCommand,
  RegisterImageCommand,
  RunInstancesCommand,
  type RunInstancesCommandInput,
  waitUntilSnapshotCompleted,
} from "@aws-sdk/client-ec2";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import { adminCredentials, ec2 } from "./ec2-helpers.ts";
import { tempDir } from "./helpers.ts";

const run = promisify(execFile);
const dataDir = tempDir();
const keyDir = tempDir("strata-keys-");
let daemon: Daemon;
let admin: EC2Client;
let imageId = "";

before(async () => {
  daemon = await startDaemon(dataDir, "us-east-1");
  admin = ec2(daemon, adminCredentials(dataDir));
  const vol = await admin.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a" }));
  const snap = await admin.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId }));
  await waitUntilSnapshotCompleted(
    { client: admin, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { SnapshotIds: [snap.SnapshotId!] },
  );
  const img = await admin.send(
    new RegisterImageCommand({
      Name: "not-booted",
      RootDeviceName: "/dev/xvda",
      BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: snap.SnapshotId } }],
    }),
  );
  imageId = img.ImageId!;
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

async function state(): Promise<string> {
  const [i, v] = await Promise.all([
    admin.send(new DescribeInstancesCommand({})),
    admin.send(new DescribeVolumesCommand({})),
  ]);
  return JSON.stringify([i.Reservations, v.Volumes?.map((x) => x.VolumeId).sort()]);
}

test("bad RunInstances input: EC2's error codes, and nothing is created", async () => {
  const before = await state();
  const ok: RunInstancesCommandInput = {
    ImageId: imageId,
    InstanceType: "t3.nano",
    MinCount: 1,
    MaxCount: 1,
  };
  const cases: [string, RunInstancesCommandInput][] = [
    ["InvalidAMIID.NotFound", { ...ok, ImageId: "ami-0123456789abcdef0" }],
    ["InvalidAMIID.Malformed", { ...ok, ImageId: "ami-zzz" }],
    ["InvalidInstanceType", { ...ok, InstanceType: "x9.mega" as never }],
    ["InvalidUserData.Malformed", { ...ok, UserData: "not base64!!" }],
    ["InvalidParameterValue", { ...ok, UserData: Buffer.alloc(16 * 1024 + 1, 97).toString("base64") }],
    ["InvalidKeyPair.NotFound", { ...ok, KeyName: "nobody" }],
    ["InvalidParameterValue", { ...ok, MinCount: 2, MaxCount: 1 }],
    ["InvalidParameterValue", { ...ok, Placement: { AvailabilityZone: "eu-west-1a" } }],
    // The account's vCPU quota refuses first (test/quotas.test.ts: the host's capacity past it).
    ["VcpuLimitExceeded", { ...ok, MinCount: 1000, MaxCount: 1000 }],
    [
      "InvalidBlockDeviceMapping",
      { ...ok, BlockDeviceMappings: [{ DeviceName: "/dev/xvda", NoDevice: "" }] },
    ],
    [
      "InvalidBlockDeviceMapping",
      { ...ok, BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { VolumeSize: 0 } }] },
    ],
    ["InvalidDevice", { ...ok, BlockDeviceMappings: [{ DeviceName: "/dev/bogus", Ebs: { VolumeSize: 1 } }] }],
    [
      "InvalidParameterValue",
      { ...ok, TagSpecifications: [{ ResourceType: "snapshot", Tags: [{ Key: "a", Value: "b" }] }] },
    ],
  ];
  for (const [code, input] of cases) {
    await assert.rejects(
      admin.send(new RunInstancesCommand(input)),
      { name: code },
      `${code}: ${JSON.stringify(input).slice(0, 200)}`,
    );
  }
  await assert.rejects(admin.send(new RunInstancesCommand({ ...ok, DryRun: true })), {
    name: "DryRunOperation",
  });
  assert.equal(await state(), before);

  await admin.send(new DeregisterImageCommand({ ImageId: imageId }));
  await assert.rejects(admin.send(new RunInstancesCommand(ok)), { name: "InvalidAMIID.NotFound" });
  assert.equal(await state(), before);
});

test("key pairs: create (rsa, ed25519), import, describe, delete; keys are real", async () => {
  const rsa = await admin.send(new CreateKeyPairCommand({ KeyName: "rsa-key" }));
  assert.match(rsa.KeyMaterial!, /^-----BEGIN RSA PRIVATE KEY-----/);
  assert.match(rsa.KeyFingerprint!, /^([0-9a-f]{2}:){19}[0-9a-f]{2}$/);
  const ed = await admin.send(new CreateKeyPairCommand({ KeyName: "ed-key", KeyType: "ed25519" }));
  assert.match(ed.KeyMaterial!, /^-----BEGIN OPENSSH PRIVATE KEY-----/);
  for (const [name, k] of [
    ["rsa", rsa],
    ["ed", ed],
  ] as const) {
    const file = join(keyDir, name);
    writeFileSync(file, k.KeyMaterial!, { mode: 0o600 });
    const { stdout } = await run("ssh-keygen", ["-y", "-f", file]);
    const described = await admin.send(
      new DescribeKeyPairsCommand({ KeyNames: [k.KeyName!], IncludePublicKey: true }),
    );
    assert.equal(
      described.KeyPairs![0].PublicKey!.split(" ").slice(0, 2).join(" "),
      stdout.trim().split(" ").slice(0, 2).join(" "),
    );
  }
  await assert.rejects(admin.send(new CreateKeyPairCommand({ KeyName: "rsa-key" })), {
    name: "InvalidKeyPair.Duplicate",
  });

  await run("ssh-keygen", ["-q", "-t", "ecdsa", "-N", "", "-f", join(keyDir, "ecdsa")]);
  await assert.rejects(
    admin.send(
      new ImportKeyPairCommand({
        KeyName: "ecdsa",
        PublicKeyMaterial: readFileSync(join(keyDir, "ecdsa.pub")),
      }),
    ),
    { name: "InvalidKey.Format" },
  );
  await run("ssh-keygen", ["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", join(keyDir, "imported")]);
  const imported = await admin.send(
    new ImportKeyPairCommand({
      KeyName: "imported",
      PublicKeyMaterial: readFileSync(join(keyDir, "imported.pub")),
      TagSpecifications: [{ ResourceType: "key-pair", Tags: [{ Key: "team", Value: "ops" }] }],
    }),
  );
  assert.match(imported.KeyFingerprint!, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
  const all = await admin.send(
    new DescribeKeyPairsCommand({ Filters: [{ Name: "tag:team", Values: ["ops"] }] }),
  );
  assert.deepEqual(
    all.KeyPairs?.map((k) => k.KeyName),
    ["imported"],
  );
  await admin.send(new DeleteKeyPairCommand({ KeyName: "imported" }));
  await admin.send(new DeleteKeyPairCommand({ KeyName: "imported" })); // idempotent, as on EC2
  await assert.rejects(admin.send(new DescribeKeyPairsCommand({ KeyNames: ["imported"] })), {
    name: "InvalidKeyPair.NotFound",
  });
});

test("DescribeInstanceTypes: the offered sizes, filterable", async () => {
  const { InstanceTypes } = await admin.send(
    new DescribeInstanceTypesCommand({ Filters: [{ Name: "instance-type", Values: ["t3.*"] }] }),
  );
  const micro = InstanceTypes?.find((t) => t.InstanceType === "t3.micro");
  assert.equal(micro?.VCpuInfo?.DefaultVCpus, 2);
  assert.equal(micro?.MemoryInfo?.SizeInMiB, 1024);
  assert.ok(InstanceTypes?.every((t) => t.InstanceType?.startsWith("t3.")));
  await assert.rejects(
    admin.send(new DescribeInstanceTypesCommand({ InstanceTypes: ["x9.mega" as never] })),
    {
      name: "InvalidInstanceType",
    },
  );
});
