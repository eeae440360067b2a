// AttachVolume / DetachVolume on a running instance: the disk is hot-plugged into the VM (ACPI PCI
// hotplug), the guest sees and releases it, and its bytes survive a detach and a re-attach.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import {
  AttachVolumeCommand,
  CreateVolumeCommand,
  DetachVolumeCommand,
  type EC2Client,
  ImportKeyPairCommand,
  ModifyVolumeCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceStopped,
  waitUntilInstanceTerminated,
  waitUntilVolumeAvailable,
  waitUntilVolumeInUse,
} from "@aws-sdk/client-ec2";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import { adminCredentials, ec2 } from "./ec2-helpers.ts";
import { tempDir } from "./helpers.ts";
import { baseImageId, describeInstance, ssh, waitForConsole } from "./instance-helpers.ts";

const run = promisify(execFile);
const dataDir = tempDir();
const keyDir = tempDir("strata-keys-");
let daemon: Daemon;
let admin: EC2Client;
const waiter = (client: EC2Client) => ({ client, maxWaitTime: 300, minDelay: 1, maxDelay: 2 });

before(async () => {
  daemon = await startDaemon(dataDir, "us-east-1", { baseImage: true });
  admin = ec2(daemon, adminCredentials(dataDir));
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

/** Polls a guest command until its output matches. */
async function until(check: () => Promise<string>, pattern: RegExp, what: string): Promise<string> {
  let last = "";
  for (let i = 0; i < 60; i++) {
    last = await check();
    if (pattern.test(last)) return last;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${what}: never matched ${pattern}; last output: ${last}`);
}

test("hot-plugged volumes keep their bytes across detach and re-attach; a forced stop cuts a hung shutdown short", async () => {
  const key = join(keyDir, "id");
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
  await admin.send(new ImportKeyPairCommand({ KeyName: "k", PublicKeyMaterial: readFileSync(`${key}.pub`) }));
  const res = await admin.send(
    new RunInstancesCommand({
      ImageId: await baseImageId(admin),
      InstanceType: "t3.nano",
      MinCount: 1,
      MaxCount: 1,
      KeyName: "k",
    }),
  );
  const id = res.Instances![0].InstanceId!;
  await waitUntilInstanceRunning(waiter(admin), { InstanceIds: [id] });
  await waitForConsole(admin, id, "strata: boot finished");
  const instance = await describeInstance(admin, id);
  const guest = (command: string) => ssh(instance, key, command);

  const vol = await admin.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a" }));
  const volumeId = vol.VolumeId!;
  await admin.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: id, Device: "/dev/sdf" }));
  await waitUntilVolumeInUse(waiter(admin), { VolumeIds: [volumeId] });
  await until(() => guest("ls /sys/block"), /\bvdb\b/, "the hot-plugged disk");
  assert.equal((await guest("cat /sys/block/vdb/size")).trim(), String((1024 * 1024 * 1024) / 512));
  await guest("printf hotplugged-bytes > /dev/vdb && sync");
  // The metadata service lists it too, as EC2's block-device-mapping/ebsN.
  assert.match(await guest("imds get meta-data/block-device-mapping/ebs1"), /sdf/);
  // Growing a disk a running guest uses is refused (stop the instance first).
  await assert.rejects(admin.send(new ModifyVolumeCommand({ VolumeId: volumeId, Size: 2 })), {
    name: "IncorrectModificationState",
  });

  await admin.send(new DetachVolumeCommand({ VolumeId: volumeId }));
  await waitUntilVolumeAvailable(waiter(admin), { VolumeIds: [volumeId] });
  await until(() => guest("ls /sys/block"), /^(?![\s\S]*\bvdb\b)/, "the detached disk gone");

  await admin.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: id, Device: "/dev/sdg" }));
  await waitUntilVolumeInUse(waiter(admin), { VolumeIds: [volumeId] });
  const again = await until(() => guest("ls /sys/block"), /\bvd[b-z]\b/, "the re-attached disk");
  const dev = /\b(vd[b-z])\b/.exec(again)![1];
  assert.equal(await guest(`head -c 16 /dev/${dev}`), "hotplugged-bytes");

  // A guest that ignores the power button: a stop waits; a forced stop cuts it short.
  await guest("killall acpid");
  await admin.send(new StopInstancesCommand({ InstanceIds: [id] }));
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal((await describeInstance(admin, id)).State?.Name, "stopping");
  const forcedAt = Date.now();
  await admin.send(new StopInstancesCommand({ InstanceIds: [id], Force: true }));
  await waitUntilInstanceStopped(waiter(admin), { InstanceIds: [id] });
  assert.ok(
    Date.now() - forcedAt < 30_000,
    "the forced stop did not wait for the 60 s clean-shutdown timeout",
  );

  await admin.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  await waitUntilInstanceTerminated(waiter(admin), { InstanceIds: [id] });
  // Not DeleteOnTermination: the data volume stays, detached.
  await waitUntilVolumeAvailable(waiter(admin), { VolumeIds: [volumeId] });
});
