// The seeds' "create server with custom AMI" workflow on real VMs (QEMU; software emulation in CI),
// through @aws-sdk/client-ec2: launch the public base image with user data, customise, stop,
// CreateImage, launch from it here and (after CopyImage) in another region, reboot, NoReboot
// images, terminate. What the guest did is checked from inside it (SSH, serial console).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { EBSClient, GetSnapshotBlockCommand, ListSnapshotBlocksCommand } from "@aws-sdk/client-ebs";
import {
  AttachVolumeCommand,
  CopyImageCommand,
  CreateImageCommand,
  CreateSnapshotCommand,
  CreateSnapshotsCommand,
  CreateVolumeCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstanceStatusCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  DetachVolumeCommand,
  type EC2Client,
  ImportKeyPairCommand,
  ModifyImageAttributeCommand,
  ModifyInstanceAttributeCommand,
  RebootInstancesCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  waitUntilImageAvailable,
  waitUntilInstanceRunning,
  waitUntilInstanceStopped,
  waitUntilInstanceTerminated,
  waitUntilSnapshotCompleted,
  waitUntilVolumeAvailable,
  waitUntilVolumeInUse,
} from "@aws-sdk/client-ec2";
import { buildBaseImage, defaultBaseImageCacheDir } from "../src/compute/base-image/build-base-image.ts";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import { type Account, adminCredentials, createAccount, ec2 } from "./ec2-helpers.ts";
import { tempDir } from "./helpers.ts";
import { baseImageId, consoleText, describeInstance, ssh, waitForConsole } from "./instance-helpers.ts";
import { HostProbes } from "./network-probes.ts";

const run = promisify(execFile);
const dataDir = tempDir();
const keyDir = tempDir("strata-keys-");
let daemon: Daemon;
let admin: EC2Client;
let adminEu: EC2Client;
let keyFile: string;
const waiter = (client: EC2Client, maxWaitTime = 300) => ({ client, maxWaitTime, minDelay: 1, maxDelay: 2 });

let probes: HostProbes;
// The first instance's user data also probes every way out of the guest's network.
let USER_DATA = "";

before(async () => {
  daemon = await startDaemon(dataDir, "us-east-1,eu-west-1", { baseImage: true });
  admin = ec2(daemon, adminCredentials(dataDir));
  adminEu = ec2(daemon, adminCredentials(dataDir), "eu-west-1");
  keyFile = join(keyDir, "id_ed25519");
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keyFile]);
  probes = await HostProbes.open(Number(new URL(daemon.url).port));
  USER_DATA = `#!/bin/sh
echo golden-42 > /etc/golden-marker
cat > /etc/rc.local <<'EOF'
#!/bin/sh
echo "rc.local: service up, marker=$(cat /etc/golden-marker)"
EOF
chmod +x /etc/rc.local
${probes.script()}
echo "USERDATA-RAN on $(hostname)"
`;
});
after(async () => {
  await probes?.close();
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

async function launch(
  client: EC2Client,
  imageId: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const res = await client.send(
    new RunInstancesCommand({
      ImageId: imageId,
      InstanceType: "t3.micro",
      MinCount: 1,
      MaxCount: 1,
      ...extra,
    }),
  );
  assert.equal(res.Instances?.length, 1);
  assert.equal(res.Instances![0].State?.Name, "pending");
  const id = res.Instances![0].InstanceId!;
  await waitUntilInstanceRunning(waiter(client), { InstanceIds: [id] });
  return id;
}

let source = "";
let rootVolume = "";
let customImage = "";
let dataVolume = "";

test("launch the base image with user data and a key: user data runs, SSH works", async () => {
  const base = await baseImageId(admin);
  const key = await admin.send(
    new ImportKeyPairCommand({ KeyName: "ci", PublicKeyMaterial: readFileSync(`${keyFile}.pub`) }),
  );
  assert.match(key.KeyFingerprint!, /^[A-Za-z0-9+/]{43}=$/);
  source = await launch(admin, base, {
    KeyName: "ci",
    UserData: Buffer.from(USER_DATA).toString("base64"),
    TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "Name", Value: "golden-builder" }] }],
  });
  const text = await waitForConsole(admin, source, "strata: boot finished");
  assert.match(text, /USERDATA-RAN on /);
  assert.match(text, /strata: user-data finished \(exit 0\)/);
  assert.match(text, /rc\.local: service up, marker=golden-42/);

  const i = await describeInstance(admin, source);
  assert.equal(i.State?.Name, "running");
  assert.equal(i.KeyName, "ci");
  assert.equal(i.ImageId, base);
  assert.ok(i.Tags?.some((t) => t.Key === "Name" && t.Value === "golden-builder"));
  rootVolume = i.BlockDeviceMappings!.find((m) => m.DeviceName === i.RootDeviceName)!.Ebs!.VolumeId!;
  assert.equal((await ssh(i, keyFile, "cat /etc/golden-marker")).trim(), "golden-42");
  assert.equal((await ssh(i, keyFile, "hostname")).trim(), i.PrivateDnsName!.split(".")[0]);

  const status = await admin.send(new DescribeInstanceStatusCommand({ InstanceIds: [source] }));
  assert.equal(status.InstanceStatuses?.[0].InstanceState?.Name, "running");
  // The guest has read its metadata by now: the status check passes (instance-status-ok waiter).
  assert.equal(status.InstanceStatuses?.[0].InstanceStatus?.Status, "ok");
  const filtered = await admin.send(
    new DescribeInstancesCommand({
      Filters: [
        { Name: "instance-state-name", Values: ["running"] },
        { Name: "tag:Name", Values: ["golden-*"] },
        { Name: "key-name", Values: ["ci"] },
      ],
    }),
  );
  assert.deepEqual(
    filtered.Reservations?.flatMap((r) => r.Instances!.map((x) => x.InstanceId)),
    [source],
  );
});

test("the guest reaches nothing of the host but its own metadata service", async () => {
  const text = await consoleText(admin, source);
  const seen = HostProbes.parse(text);
  assert.deepEqual([...seen.keys()].sort(), [...probes.names].sort(), "every probe ran");
  for (const p of seen.values()) assert.equal(p.result, "closed", p.line);
  assert.ok(!text.includes(probes.secret), "the host's secret never reached the guest");
  assert.equal(probes.tcpConnections, 0, "no TCP connection reached the host's listeners");
  assert.equal(probes.udpDatagrams, 0, "no datagram reached the host's UDP listener");
  // Its own metadata service still answers: the user data came from it, and the instance id is its own.
  assert.match(text, new RegExp(`^probe-imds instance-id ${source}\\r?$`, "m"));
});

test("reboot keeps the root volume's data and does not run user data again", async () => {
  await admin.send(new RebootInstancesCommand({ InstanceIds: [source] }));
  const text = await waitForConsole(admin, source, "strata: boot finished", { times: 2 });
  assert.equal(text.split("USERDATA-RAN").length - 1, 1, "user data ran once");
  assert.equal(text.split("marker=golden-42").length - 1, 2, "rc.local ran on both boots");
  assert.equal((await describeInstance(admin, source)).State?.Name, "running");
});

test("a data volume attached while stopped is a disk in the guest", async () => {
  await admin.send(new StopInstancesCommand({ InstanceIds: [source] }));
  await waitUntilInstanceStopped(waiter(admin), { InstanceIds: [source] });
  const stopped = await describeInstance(admin, source);
  assert.match(stopped.StateTransitionReason!, /User initiated/);
  const vol = await admin.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a" }));
  await admin.send(
    new AttachVolumeCommand({ VolumeId: vol.VolumeId, InstanceId: source, Device: "/dev/sdf" }),
  );
  await waitUntilVolumeInUse(waiter(admin), { VolumeIds: [vol.VolumeId!] });
  await admin.send(new StartInstancesCommand({ InstanceIds: [source] }));
  await waitUntilInstanceRunning(waiter(admin), { InstanceIds: [source] });
  await waitForConsole(admin, source, "strata: boot finished", { times: 3 });
  const i = await describeInstance(admin, source);
  await ssh(i, keyFile, "printf 'data-volume-bytes' > /dev/vdb && sync");
  await assert.rejects(
    admin.send(
      new ModifyInstanceAttributeCommand({ InstanceId: source, InstanceType: { Value: "t3.small" } }),
    ),
    { name: "IncorrectInstanceState" },
  );
  await admin.send(new StopInstancesCommand({ InstanceIds: [source] }));
  await waitUntilInstanceStopped(waiter(admin), { InstanceIds: [source] });
  dataVolume = vol.VolumeId!;

  // Attributes of the stopped instance: its user data as given, a new type, DeleteOnTermination.
  const attr = await admin.send(
    new DescribeInstanceAttributeCommand({ InstanceId: source, Attribute: "userData" }),
  );
  assert.equal(Buffer.from(attr.UserData!.Value!, "base64").toString(), USER_DATA);
  await admin.send(
    new ModifyInstanceAttributeCommand({ InstanceId: source, InstanceType: { Value: "t3.small" } }),
  );
  await admin.send(
    new ModifyInstanceAttributeCommand({
      InstanceId: source,
      BlockDeviceMappings: [{ DeviceName: "/dev/sdf", Ebs: { DeleteOnTermination: false } }],
    }),
  );
  const modified = await describeInstance(admin, source);
  assert.equal(modified.InstanceType, "t3.small");
  assert.equal(
    modified.BlockDeviceMappings?.find((m) => m.DeviceName === "/dev/sdf")?.Ebs?.DeleteOnTermination,
    false,
  );
});

test("CreateImage of the stopped instance; launch it: marker and service there, user data not re-run", async () => {
  const { ImageId } = await admin.send(
    new CreateImageCommand({
      InstanceId: source,
      Name: "golden-v1",
      BlockDeviceMappings: [{ DeviceName: "/dev/sdf", Ebs: { DeleteOnTermination: true } }],
    }),
  );
  customImage = ImageId!;
  await waitUntilImageAvailable(waiter(admin), { ImageIds: [customImage] });
  const img = (await admin.send(new DescribeImagesCommand({ ImageIds: [customImage] }))).Images![0];
  assert.equal(img.RootDeviceName, "/dev/xvda");
  // Root and the data volume at /dev/sdf: one snapshot each.
  assert.equal(img.BlockDeviceMappings?.length, 2);
  assert.equal(
    img.BlockDeviceMappings?.find((m) => m.DeviceName === "/dev/sdf")?.Ebs?.DeleteOnTermination,
    true,
  );

  const copy = await launch(admin, customImage, { KeyName: "ci" });
  const text = await waitForConsole(admin, copy, "strata: boot finished");
  assert.match(text, /rc\.local: service up, marker=golden-42/);
  assert.match(text, /strata: no user-data/);
  assert.doesNotMatch(text, /USERDATA-RAN/);
  const i = await describeInstance(admin, copy);
  assert.equal((await ssh(i, keyFile, "cat /etc/golden-marker")).trim(), "golden-42");
  assert.equal((await ssh(i, keyFile, "head -c 17 /dev/vdb")).trim(), "data-volume-bytes");

  // CreateSnapshots of the running copy: both volumes at one point in time.
  const snaps = await admin.send(
    new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: copy }, Description: "hot pair" }),
  );
  assert.equal(snaps.Snapshots?.length, 2);
  await waitUntilSnapshotCompleted(waiter(admin), {
    SnapshotIds: snaps.Snapshots!.map((x) => x.SnapshotId!),
  });

  // A NoReboot image of the running copy is crash-consistent and boots.
  const { ImageId: hot } = await admin.send(
    new CreateImageCommand({ InstanceId: copy, Name: "golden-hot", NoReboot: true }),
  );
  await waitUntilImageAvailable(waiter(admin), { ImageIds: [hot!] });
  assert.match(await consoleText(admin, copy), /strata: boot finished/);
  assert.equal((await describeInstance(admin, copy)).State?.Name, "running");
  await admin.send(new TerminateInstancesCommand({ InstanceIds: [copy] }));
  // One VM at a time: a 2-core host running guests under software emulation stays responsive.
  await waitUntilInstanceTerminated(waiter(admin), { InstanceIds: [copy] });
  const hotInstance = await launch(admin, hot!);
  await waitForConsole(admin, hotInstance, "rc.local: service up, marker=golden-42");
  await admin.send(new TerminateInstancesCommand({ InstanceIds: [hotInstance] }));
  await waitUntilInstanceTerminated(waiter(admin), { InstanceIds: [hotInstance] });
});

test("CreateImage with NoDevice leaves that volume out: no snapshot of it is made", async () => {
  const ofData = async () =>
    (
      await admin.send(
        new DescribeSnapshotsCommand({
          OwnerIds: ["self"],
          Filters: [{ Name: "volume-id", Values: [dataVolume] }],
        }),
      )
    ).Snapshots?.map((x) => x.SnapshotId) ?? [];
  const before = await ofData();
  const { ImageId } = await admin.send(
    new CreateImageCommand({
      InstanceId: source,
      Name: "golden-root-only",
      BlockDeviceMappings: [{ DeviceName: "/dev/sdf", NoDevice: "" }],
    }),
  );
  await waitUntilImageAvailable(waiter(admin), { ImageIds: [ImageId!] });
  const img = (await admin.send(new DescribeImagesCommand({ ImageIds: [ImageId!] }))).Images![0];
  assert.deepEqual(
    img.BlockDeviceMappings?.map((m) => m.DeviceName),
    ["/dev/xvda"],
  );
  // The left-out volume was not snapshotted (a snapshot no image owns would only be a leak).
  assert.deepEqual(await ofData(), before);
  await admin.send(new DeregisterImageCommand({ ImageId, DeleteAssociatedSnapshots: true }));
});

test("the detached data volume holds what the guest wrote (read back through the EBS direct APIs)", async () => {
  await admin.send(new DetachVolumeCommand({ VolumeId: dataVolume }));
  await waitUntilVolumeAvailable(waiter(admin), { VolumeIds: [dataVolume] });
  const snap = await admin.send(new CreateSnapshotCommand({ VolumeId: dataVolume }));
  await waitUntilSnapshotCompleted(waiter(admin), { SnapshotIds: [snap.SnapshotId!] });
  const ebs = new EBSClient({
    endpoint: daemon.url,
    region: "us-east-1",
    credentials: adminCredentials(dataDir),
    maxAttempts: 1,
  });
  const blocks = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: snap.SnapshotId }));
  assert.equal(blocks.Blocks?.[0].BlockIndex, 0);
  const block = await ebs.send(
    new GetSnapshotBlockCommand({
      SnapshotId: snap.SnapshotId,
      BlockIndex: 0,
      BlockToken: blocks.Blocks![0].BlockToken,
    }),
  );
  const bytes = Buffer.from(await block.BlockData!.transformToByteArray());
  assert.equal(bytes.subarray(0, 17).toString(), "data-volume-bytes");
});

test("CopyImage to another region, launch there: the same system", async () => {
  const { ImageId } = await adminEu.send(
    new CopyImageCommand({ SourceImageId: customImage, SourceRegion: "us-east-1", Name: "golden-v1-eu" }),
  );
  await waitUntilImageAvailable(waiter(adminEu), { ImageIds: [ImageId!] });
  const eu = await launch(adminEu, ImageId!, {
    Placement: { AvailabilityZone: "eu-west-1b" },
    UserData: Buffer.from("#!/bin/sh\necho EU-USERDATA\n").toString("base64"),
  });
  const text = await waitForConsole(adminEu, eu, "strata: boot finished");
  assert.match(text, /rc\.local: service up, marker=golden-42/);
  // New user data given to the copy runs on its first boot; the original's does not.
  assert.match(text, /EU-USERDATA/);
  assert.doesNotMatch(text, /USERDATA-RAN/);
  const i = await describeInstance(adminEu, eu);
  assert.equal(i.Placement?.AvailabilityZone, "eu-west-1b");

  // CreateImage of a running instance, by default: clean shutdown, snapshots, booted again.
  const { ImageId: rebooted } = await adminEu.send(
    new CreateImageCommand({ InstanceId: eu, Name: "eu-rebooted" }),
  );
  const again = await waitForConsole(adminEu, eu, "strata: boot finished", { times: 2 });
  assert.match(again, /strata: shutting down/);
  await waitUntilImageAvailable(waiter(adminEu), { ImageIds: [rebooted!] });
  assert.equal((await describeInstance(adminEu, eu)).State?.Name, "running");
  await adminEu.send(new TerminateInstancesCommand({ InstanceIds: [eu] }));
  await waitUntilInstanceTerminated(waiter(adminEu), { InstanceIds: [eu] });
});

test("another account cannot launch the private image until given a launch permission", async () => {
  const other: Account = await createAccount(dataDir, "bob");
  const bob = ec2(daemon, other);
  await assert.rejects(
    bob.send(
      new RunInstancesCommand({ ImageId: customImage, MinCount: 1, MaxCount: 1, InstanceType: "t3.nano" }),
    ),
    { name: "InvalidAMIID.NotFound" },
  );
  assert.equal((await bob.send(new DescribeInstancesCommand({}))).Reservations?.length ?? 0, 0);
  await admin.send(
    new ModifyImageAttributeCommand({
      ImageId: customImage,
      LaunchPermission: { Add: [{ UserId: other.accountId }] },
    }),
  );
  const res = await bob.send(
    new RunInstancesCommand({ ImageId: customImage, MinCount: 1, MaxCount: 1, InstanceType: "t3.nano" }),
  );
  const id = res.Instances![0].InstanceId!;
  assert.equal(res.OwnerId, other.accountId);
  await waitUntilInstanceRunning(waiter(bob), { InstanceIds: [id] });
  await waitForConsole(bob, id, "rc.local: service up, marker=golden-42");
  await bob.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  await waitUntilInstanceTerminated(waiter(bob), { InstanceIds: [id] });
  // Bob's root volume was DeleteOnTermination: gone.
  const left = await bob.send(new DescribeVolumesCommand({}));
  assert.equal(left.Volumes?.length ?? 0, 0);
});

test("terminate deletes DeleteOnTermination volumes and keeps the others", async () => {
  const i = await describeInstance(admin, source);
  const data = i.BlockDeviceMappings!.find((m) => m.DeviceName !== i.RootDeviceName);
  assert.equal(data, undefined, "the data volume was detached earlier");
  await admin.send(new TerminateInstancesCommand({ InstanceIds: [source] }));
  await waitUntilInstanceTerminated(waiter(admin), { InstanceIds: [source] });
  await assert.rejects(admin.send(new DescribeVolumesCommand({ VolumeIds: [rootVolume] })), {
    name: "InvalidVolume.NotFound",
  });
  const t = await describeInstance(admin, source);
  assert.equal(t.State?.Name, "terminated");
  assert.equal(t.State?.Code, 48);
});

test("a disk uploaded through the EBS direct APIs (strata image import) boots as an image", async () => {
  const disk = await buildBaseImage({ cacheDir: defaultBaseImageCacheDir() });
  const { stdout } = await run(
    join(import.meta.dirname, "..", "bin", "strata"),
    [
      "image",
      "import",
      disk.path,
      "--name",
      "uploaded-disk",
      "--endpoint",
      daemon.url,
      "--region",
      "us-east-1",
    ],
    { env: { ...process.env, AWS_SHARED_CREDENTIALS_FILE: join(dataDir, "credentials") }, timeout: 300_000 },
  );
  const imageId = /ami-[0-9a-f]{17}/.exec(stdout)?.[0];
  assert.ok(imageId, stdout);
  await waitUntilImageAvailable(waiter(admin), { ImageIds: [imageId] });
  // The guest powers itself off after booting; InstanceInitiatedShutdownBehavior=terminate.
  const id = await launch(admin, imageId, {
    InstanceType: "t3.nano",
    InstanceInitiatedShutdownBehavior: "terminate",
    UserData: Buffer.from("#!/bin/sh\necho UPLOADED-BOOTED\n(sleep 2; poweroff) &\n").toString("base64"),
  });
  await waitUntilInstanceTerminated(waiter(admin), { InstanceIds: [id] });
  const text = await consoleText(admin, id);
  assert.match(text, /UPLOADED-BOOTED/);
  assert.match(text, /strata: boot finished/);
  const gone = await describeInstance(admin, id);
  assert.equal(gone.StateReason?.Code, "Client.InstanceInitiatedShutdown");
});

test("the aws CLI: run-instances with user data and a 3 GiB root, waiters, console output, stop, terminate", async () => {
  const base = await baseImageId(admin);
  const userData = join(keyDir, "user-data.sh");
  writeFileSync(userData, "#!/bin/sh\necho CLI-USERDATA-RAN\n");
  const aws = async (...args: string[]) => {
    const { stdout } = await run(
      "/usr/bin/aws",
      ["--endpoint-url", daemon.url, "--output", "json", "ec2", ...args],
      {
        env: {
          PATH: process.env.PATH,
          HOME: keyDir,
          AWS_SHARED_CREDENTIALS_FILE: join(dataDir, "credentials"),
          AWS_CONFIG_FILE: "/dev/null",
          AWS_EC2_METADATA_DISABLED: "true",
          AWS_PAGER: "",
          AWS_DEFAULT_REGION: "us-east-1",
        },
        timeout: 600_000,
      },
    );
    return stdout.trim() ? JSON.parse(stdout) : {};
  };
  const res = await aws(
    "run-instances",
    "--image-id",
    base,
    "--instance-type",
    "t3.nano",
    "--count",
    "1",
    "--user-data",
    `file://${userData}`,
    "--block-device-mappings",
    '[{"DeviceName":"/dev/xvda","Ebs":{"VolumeSize":3}}]',
  );
  const id = res.Instances[0].InstanceId as string;
  await aws("wait", "instance-running", "--instance-ids", id);
  await waitForConsole(admin, id, "strata: boot finished");
  const out = await aws("get-console-output", "--instance-id", id, "--latest");
  assert.match(out.Output, /CLI-USERDATA-RAN/);
  // A root volume larger than the image: the guest grew its file system to fill it.
  assert.match(out.Output, /strata: root file system grown to (\d+) MiB/);
  assert.ok(Number(/root file system grown to (\d+) MiB/.exec(out.Output)![1]) > 2500);
  await aws("stop-instances", "--instance-ids", id);
  await aws("wait", "instance-stopped", "--instance-ids", id);
  await aws("terminate-instances", "--instance-ids", id);
  await aws("wait", "instance-terminated", "--instance-ids", id);
});

/** QEMU processes of an instance (its command line names it). */
function qemuOf(instanceId: string): number[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(`guest=${instanceId}`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

test("a daemon killed while an instance runs leaves no QEMU; after restart it is stopped and starts again", async () => {
  const base = await baseImageId(admin);
  const id = await launch(admin, base, {
    InstanceType: "t3.nano",
    UserData: Buffer.from("#!/bin/sh\necho RESTART-USERDATA\n").toString("base64"),
  });
  await waitForConsole(admin, id, "strata: boot finished");
  assert.equal(qemuOf(id).length, 1);
  await daemon.kill("SIGKILL");
  for (let i = 0; qemuOf(id).length > 0; i++) {
    assert.ok(i < 100, "QEMU outlived its daemon");
    await new Promise((r) => setTimeout(r, 100));
  }
  daemon = await startDaemon(dataDir, "us-east-1,eu-west-1", { baseImage: true });
  admin = ec2(daemon, adminCredentials(dataDir));
  const after = await describeInstance(admin, id);
  assert.equal(after.State?.Name, "stopped");
  assert.equal(after.StateReason?.Code, "Server.InternalError");
  await admin.send(new StartInstancesCommand({ InstanceIds: [id] }));
  await waitUntilInstanceRunning(waiter(admin), { InstanceIds: [id] });
  const text = await waitForConsole(admin, id, "strata: boot finished", { times: 2 });
  assert.equal(text.split("RESTART-USERDATA").length - 1, 1, "user data ran on the first boot only");
  await admin.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  await waitUntilInstanceTerminated(waiter(admin), { InstanceIds: [id] });
});
