// The instance half of foreign-ids.test.ts, against one real instance of A (a VM: booted once,
// ~10-20 s under software emulation): B's calls with its id, its attached root volume and its key
// answer as with ids that never existed and change nothing, while it runs and once terminated.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  DescribeInstancesCommand,
  type EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceTerminated,
} from "@aws-sdk/client-ec2";
import { assertStoreConsistent, type Daemon, startDaemon } from "../daemon.ts";
import { tempDir } from "../helpers.ts";
import { baseImageId, describeInstance, waitForConsole } from "../instance-helpers.ts";
import { aInstanceNetwork, bNetwork } from "./network-world.ts";
import { probeTests } from "./probe-tests.ts";
import type { Target, World } from "./probes.ts";
import { A_TAGS, image, party, snapshot, volume } from "./world.ts";

const dataDir = tempDir();
let daemon: Daemon;
let w: World;
let instanceId = "";
const waiter = (client: EC2Client) => ({ client, maxWaitTime: 300, minDelay: 1, maxDelay: 2 });

before(async () => {
  daemon = await startDaemon(dataDir, "us-east-1,eu-west-1", { baseImage: true });
  const [a, b, c] = await Promise.all([
    party(daemon, dataDir, "alpha"),
    party(daemon, dataDir, "bravo"),
    party(daemon, dataDir, "charlie"),
  ]);
  const key = await a.ec2.send(new CreateKeyPairCommand({ KeyName: "a-key", KeyType: "ed25519" }));
  // A's group in A's default VPC, its instance's group: B's probes name it by id and by name.
  const group = await a.ec2.send(
    new CreateSecurityGroupCommand({ GroupName: "a-group", Description: "a group" }),
  );
  // B's own instance, for the calls that change one of B's instances with A's ids.
  const runB = await b.ec2.send(
    new RunInstancesCommand({
      ImageId: await baseImageId(b.ec2),
      InstanceType: "t3.nano",
      MinCount: 1,
      MaxCount: 1,
    }),
  );
  const bInstanceId = runB.Instances![0].InstanceId!;
  const run = await a.ec2.send(
    new RunInstancesCommand({
      SecurityGroupIds: [group.GroupId!],
      ImageId: await baseImageId(a.ec2),
      InstanceType: "t3.micro",
      MinCount: 1,
      MaxCount: 1,
      KeyName: "a-key",
      UserData: Buffer.from("#!/bin/sh\necho a-secret-user-data\n").toString("base64"),
      TagSpecifications: [{ ResourceType: "instance", Tags: A_TAGS }],
    }),
  );
  instanceId = run.Instances![0].InstanceId!;
  await waitUntilInstanceRunning(waiter(a.ec2), { InstanceIds: [instanceId] });
  // Booted and settled: nothing about it changes on its own while B probes it.
  await waitForConsole(a.ec2, instanceId, "strata: boot finished");
  await waitUntilInstanceRunning(waiter(b.ec2), { InstanceIds: [bInstanceId] });
  await waitForConsole(b.ec2, bInstanceId, "strata: boot finished");
  const i = await describeInstance(a.ec2, instanceId);
  const rootVolume = i.BlockDeviceMappings!.find((m) => m.DeviceName === i.RootDeviceName)!.Ebs!.VolumeId!;
  const volB = await volume(b);
  const snapB = await snapshot(b, volB, "b's own");
  const network = await aInstanceNetwork(a, instanceId);
  const targets: Target[] = [
    ...network,
    { kind: "securityGroup", state: "of a running instance", id: group.GroupId! },
    { kind: "securityGroupName", state: "of a running instance", id: "a-group" },
    { kind: "instance", state: "running", id: instanceId },
    { kind: "volume", state: "root of a running instance", id: rootVolume },
    { kind: "keyName", state: "used by a running instance", id: "a-key" },
    { kind: "keyId", state: "used by a running instance", id: key.KeyPairId! },
  ];
  w = {
    daemon,
    dataDir,
    a,
    b,
    c,
    targets,
    bOwn: { volumeId: volB, snapshotId: snapB, imageId: await image(b, snapB, "b-own") },
    bNet: await bNetwork(b),
    bInstanceId,
    secrets: [
      a.account.accountId,
      c.account.accountId,
      "a-private-tag",
      instanceId,
      rootVolume,
      key.KeyPairId!,
      ...network.map((t) => t.id),
      group.GroupId!,
    ],
  };
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

const NETWORK = [
  "networkInterface",
  "eipAssociation",
  "allocation",
  "publicIp",
  "securityGroup",
  "securityGroupName",
] as const;
probeTests(() => w, ["instance", "volume", "keyName", "keyId", ...NETWORK], " (A's running instance)");

test("A's instance is still running, as A left it", async () => {
  const { Reservations } = await w.a.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  assert.equal(Reservations?.[0].Instances?.[0].State?.Name, "running");
});

test("A terminates its instance", async () => {
  await w.a.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
  await waitUntilInstanceTerminated(waiter(w.a.ec2), { InstanceIds: [instanceId] });
  for (const t of w.targets) t.state = t.kind === "instance" ? "terminated" : `${t.state}, now terminated`;
});

probeTests(() => w, ["instance", "volume", ...NETWORK], " (A's terminated instance)");
