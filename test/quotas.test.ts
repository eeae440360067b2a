// Per-account quotas through the real daemon and the SDK: each quota refuses with EC2's code and
// HTTP status and creates nothing; `strata accounts set-quota` beside the running daemon applies
// at once; concurrent creates at the edge of a limit let exactly the allowed number through.
// One VM starts here (an image that boots nothing, for StartInstances); every other RunInstances
// is refused before anything is created.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { EBSClient, StartSnapshotCommand } from "@aws-sdk/client-ebs";
import {
  CopyImageCommand,
  CopySnapshotCommand,
  CreateImageCommand,
  CreateKeyPairCommand,
  CreateSnapshotCommand,
  CreateSnapshotsCommand,
  CreateVolumeCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  type EC2Client,
  ModifyImageAttributeCommand,
  ModifyVolumeCommand,
  RegisterImageCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceStopped,
  waitUntilInstanceTerminated,
  waitUntilSnapshotCompleted,
} from "@aws-sdk/client-ec2";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import { type Account, createAccount, ec2 } from "./ec2-helpers.ts";
import { tempDir } from "./helpers.ts";

const run = promisify(execFile);
const STRATA = join(import.meta.dirname, "..", "bin", "strata");
const dataDir = tempDir();
// A fixed ratio, so the host's capacity is known here: threads x 2 vCPUs.
const RATIO = 2;
const hostVcpus = availableParallelism() * RATIO;
let daemon: Daemon;
let carol: Account;
let client: EC2Client;

before(async () => {
  daemon = await startDaemon(dataDir, "us-east-1,eu-west-1", {
    args: ["--cpu-allocation-ratio", String(RATIO)],
  });
  carol = await createAccount(dataDir, "carol");
  client = ec2(daemon, carol);
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

/** `strata accounts set-quota`, run beside the live daemon as an operator would. */
async function setQuota(account: string, quota: string, value: string): Promise<string> {
  const { stdout } = await run(STRATA, [
    "accounts",
    "set-quota",
    account,
    quota,
    value,
    "--data-dir",
    dataDir,
  ]);
  return stdout;
}

/** Everything carol has in the region, to compare before and after a refused call. */
async function holdings(c = client): Promise<string> {
  const [v, s, i, k, r] = await Promise.all([
    c.send(new DescribeVolumesCommand({})),
    c.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] })),
    c.send(new DescribeImagesCommand({ Owners: ["self"] })),
    c.send(new DescribeKeyPairsCommand({})),
    c.send(new DescribeInstancesCommand({})),
  ]);
  return JSON.stringify({
    volumes: v.Volumes?.map((x) => [x.VolumeId, x.Size, x.VolumeType, x.Iops]).sort(),
    snapshots: s.Snapshots?.map((x) => x.SnapshotId).sort(),
    images: i.Images?.map((x) => [x.ImageId, x.Public]).sort(),
    keys: k.KeyPairs?.map((x) => x.KeyName).sort(),
    instances: r.Reservations?.length ?? 0,
  });
}

/** Refused with the code and HTTP status, and nothing changed. */
async function refused(
  call: () => Promise<unknown>,
  code: string,
  status: number,
  message?: RegExp,
  c = client,
) {
  const before = await holdings(c);
  await assert.rejects(call(), (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(e.name, code, e.message);
    assert.equal(e.$metadata?.httpStatusCode, status);
    if (message) assert.match(e.message, message);
    return true;
  });
  assert.equal(await holdings(c), before);
}

/** QEMU processes serving this daemon's volumes (their command line names its data directory). */
function qemuProcesses(): number {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, "utf8");
        return cmd.includes("qemu") && cmd.includes(dataDir);
      } catch {
        return false;
      }
    }).length;
}

const waiter = (c: EC2Client) => ({ client: c, maxWaitTime: 600, minDelay: 1, maxDelay: 2 });

async function snapshotOf(c: EC2Client, sizeGiB = 1): Promise<string> {
  const v = await c.send(
    new CreateVolumeCommand({ Size: sizeGiB, AvailabilityZone: "us-east-1a", VolumeType: "gp3" }),
  );
  const s = await c.send(new CreateSnapshotCommand({ VolumeId: v.VolumeId }));
  await waitUntilSnapshotCompleted(waiter(c), { SnapshotIds: [s.SnapshotId!] });
  return s.SnapshotId!;
}

let image = "";

test("quotas of a new account: AWS's defaults; the admin account may take the whole host", async () => {
  const { stdout } = await run(STRATA, ["accounts", "quotas", "carol", "--json", "--data-dir", dataDir]);
  const mine = JSON.parse(stdout);
  assert.equal(mine.accountId, carol.accountId);
  const value = (q: string) => mine.quotas.find((x: { quota: string }) => x.quota === q).value;
  assert.equal(value("vcpus"), 5);
  assert.equal(value("volume-storage-gp3"), 50);
  assert.equal(value("volume-storage-io2"), 20);
  assert.equal(value("snapshots"), 100_000);
  assert.equal(value("images"), 50_000);
  assert.equal(value("key-pairs"), 5000);
  assert.equal(value("host-share"), 0.5);
  const admin = JSON.parse(
    (await run(STRATA, ["accounts", "quotas", "admin", "--json", "--data-dir", dataDir])).stdout,
  );
  assert.equal(admin.quotas.find((x: { quota: string }) => x.quota === "host-share").value, 1);
  // By id too; an unknown quota or a bad value is refused with the list, nothing stored.
  await run(STRATA, ["accounts", "quotas", carol.accountId, "--data-dir", dataDir]);
  await assert.rejects(setQuota("carol", "cpus", "4"), /Unknown quota 'cpus'/);
  await assert.rejects(setQuota("carol", "vcpus", "2.5"), /whole number/);
  await assert.rejects(setQuota("nobody", "vcpus", "8"), /No account 'nobody'/);
  assert.equal(
    JSON.parse(
      (await run(STRATA, ["accounts", "quotas", "carol", "--json", "--data-dir", dataDir])).stdout,
    ).quotas.every((q: { set: boolean }) => !q.set),
    true,
  );
});

test("volume storage per type and io1/io2 IOPS: CreateVolume, ModifyVolume; a raised quota applies at once", async () => {
  // 10.24 GiB of gp3, 5.12 GiB of gp2.
  await setQuota("carol", "volume-storage-gp3", "0.01");
  await setQuota("carol", "volume-storage-gp2", "0.005");
  const v = await client.send(
    new CreateVolumeCommand({ Size: 8, AvailabilityZone: "us-east-1a", VolumeType: "gp3" }),
  );
  const create = (size: number, type: "gp3" | "gp2" | "io1", iops?: number) =>
    client.send(
      new CreateVolumeCommand({ Size: size, AvailabilityZone: "us-east-1a", VolumeType: type, Iops: iops }),
    );
  await refused(() => create(3, "gp3"), "VolumeLimitExceeded", 400, /gp3 storage limit of 0.01 TiB/);
  await refused(
    () => client.send(new ModifyVolumeCommand({ VolumeId: v.VolumeId, Size: 11 })),
    "VolumeLimitExceeded",
    400,
  );
  // A type change counts the whole volume against the new type.
  await refused(
    () => client.send(new ModifyVolumeCommand({ VolumeId: v.VolumeId, VolumeType: "gp2" })),
    "VolumeLimitExceeded",
    400,
    /gp2 storage limit/,
  );
  await client.send(new ModifyVolumeCommand({ VolumeId: v.VolumeId, Size: 10 }));

  await setQuota("carol", "iops-io1", "1000");
  const io = await create(4, "io1", 800);
  assert.equal(io.Iops, 800);
  await refused(() => create(4, "io1", 300), "MaxIOPSLimitExceeded", 400, /io1 IOPS limit of 1000/);
  await refused(
    () => client.send(new ModifyVolumeCommand({ VolumeId: io.VolumeId, Iops: 1200 })),
    "MaxIOPSLimitExceeded",
    400,
  );
  const lowered = await client.send(new ModifyVolumeCommand({ VolumeId: io.VolumeId, Iops: 500 }));
  assert.equal(lowered.VolumeModification?.TargetIops, 500);
  await create(4, "io1", 500);

  // Raised beside the running daemon: the next request already sees it.
  assert.match(await setQuota("carol", "volume-storage-gp3", "1"), /volume-storage-gp3 = 1 TiB/);
  await create(3, "gp3");
  assert.match(await setQuota("carol", "volume-storage-gp3", "default"), /= 50 TiB \(default\)/);
});

test("snapshots: CreateSnapshot, CopySnapshot, CopyImage's copies, EBS StartSnapshot; images: RegisterImage, CopyImage, public images", async () => {
  const snap = await snapshotOf(client);
  const used = (await client.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }))).Snapshots!.length;
  await setQuota("carol", "snapshots", String(used));
  const vol = (await client.send(new DescribeVolumesCommand({}))).Volumes![0].VolumeId;
  await refused(
    () => client.send(new CreateSnapshotCommand({ VolumeId: vol })),
    "SnapshotLimitExceeded",
    400,
  );
  await refused(
    () => client.send(new CopySnapshotCommand({ SourceSnapshotId: snap, SourceRegion: "us-east-1" })),
    "SnapshotLimitExceeded",
    400,
  );
  const ebs = new EBSClient({
    endpoint: daemon.url,
    region: "us-east-1",
    credentials: carol,
    maxAttempts: 1,
  });
  // The EBS API's own quota error (HTTP 402, with its Reason).
  await refused(
    () => ebs.send(new StartSnapshotCommand({ VolumeSize: 1 })),
    "ServiceQuotaExceededException",
    402,
  );
  image = (
    await client.send(
      new RegisterImageCommand({
        Name: "quota-image",
        RootDeviceName: "/dev/xvda",
        BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: snap } }],
      }),
    )
  ).ImageId!;
  // CopyImage into the same region needs a snapshot copy: refused before any copy starts.
  await refused(
    () =>
      client.send(
        new CopyImageCommand({ SourceImageId: image, SourceRegion: "us-east-1", Name: "quota-copy" }),
      ),
    "SnapshotLimitExceeded",
    400,
  );
  // Quotas are per region: eu-west-1 has room.
  const eu = ec2(daemon, carol, "eu-west-1");
  await eu.send(new CopySnapshotCommand({ SourceSnapshotId: snap, SourceRegion: "us-east-1" }));

  await setQuota("carol", "snapshots", String(used + 5));
  await setQuota("carol", "images", "1");
  await refused(
    () =>
      client.send(
        new CopyImageCommand({ SourceImageId: image, SourceRegion: "us-east-1", Name: "quota-copy" }),
      ),
    "ResourceLimitExceeded",
    400,
    /quota of 1 for the number of images/,
  );
  await refused(
    () =>
      client.send(
        new RegisterImageCommand({
          Name: "quota-image-2",
          RootDeviceName: "/dev/xvda",
          BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: snap } }],
        }),
      ),
    "ResourceLimitExceeded",
    400,
  );
  await setQuota("carol", "images", "3");
  const second = await client.send(
    new CopyImageCommand({ SourceImageId: image, SourceRegion: "us-east-1", Name: "quota-copy" }),
  );
  await setQuota("carol", "public-images", "1");
  const makePublic = (id: string) =>
    client.send(
      new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Add: [{ Group: "all" }] } }),
    );
  await makePublic(image);
  // Already public: no second count.
  await makePublic(image);
  await refused(() => makePublic(second.ImageId!), "ResourceLimitExceeded", 400, /number of public images/);
  await client.send(new CreateSnapshotCommand({ VolumeId: vol }));
});

test("RunInstances: the vCPU quota, then the account's host share, then the host, before anything is created", async () => {
  const base = { ImageId: image, InstanceType: "t3.nano" as const, MinCount: 3, MaxCount: 3 };
  // 3 x 2 vCPUs against the default 5.
  await refused(
    () => client.send(new RunInstancesCommand(base)),
    "VcpuLimitExceeded",
    400,
    /vCPU limit of 5 allows/,
  );
  // Raised beside the daemon: now the account's half of the host is the limit (it would fit the host).
  await setQuota("carol", "vcpus", "100000");
  const overShare = Math.floor(hostVcpus / 2 / 2) + 1;
  assert.ok(overShare * 2 <= hostVcpus, "fits the host");
  await refused(
    () => client.send(new RunInstancesCommand({ ...base, MinCount: overShare, MaxCount: overShare })),
    "InsufficientInstanceCapacity",
    503,
    /its share of this host \(50%/,
  );
  // With all of the host, the host's own capacity refuses what does not fit it.
  await setQuota("carol", "host-share", "1");
  const overHost = hostVcpus / 2 + 1;
  await refused(
    () => client.send(new RunInstancesCommand({ ...base, MinCount: overHost, MaxCount: overHost })),
    "InsufficientInstanceCapacity",
    503,
    /does not fit on this host/,
  );
  // Every volume of the launch is counted before any is created: each instance's root fits the
  // gp3 quota, both together do not.
  const inUse = (await client.send(new DescribeVolumesCommand({})))
    .Volumes!.filter((x) => x.VolumeType === "gp3")
    .reduce((n, x) => n + x.Size!, 0);
  await setQuota("carol", "volume-storage-gp3", String((inUse + 6) / 1024));
  await refused(
    () =>
      client.send(
        new RunInstancesCommand({
          ...base,
          MinCount: 2,
          MaxCount: 2,
          BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { VolumeSize: 4, VolumeType: "gp3" } }],
        }),
      ),
    "VolumeLimitExceeded",
    400,
  );
  assert.equal(qemuProcesses(), 0, "no VM was started");
  await setQuota("carol", "host-share", "default");
});

test("StartInstances: the vCPU quota and host share, counted before the VM starts (one VM, booting nothing)", async () => {
  await setQuota("carol", "vcpus", "default");
  const launch = { ImageId: image, InstanceType: "t3.nano" as const, MinCount: 1, MaxCount: 1 };
  const id = (await client.send(new RunInstancesCommand(launch))).Instances![0].InstanceId!;
  await waitUntilInstanceRunning(waiter(client), { InstanceIds: [id] });
  // Its 2 vCPUs count: two more would make 6 of 5.
  await refused(
    () => client.send(new RunInstancesCommand({ ...launch, MinCount: 2, MaxCount: 2 })),
    "VcpuLimitExceeded",
    400,
    /\(2 vCPUs running, 4 requested\.\)/,
  );
  await client.send(new StopInstancesCommand({ InstanceIds: [id], Force: true }));
  await waitUntilInstanceStopped(waiter(client), { InstanceIds: [id] });
  const stateOf = async () =>
    (await client.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances![0]
      .State?.Name;
  // CreateImage and CreateSnapshots of it: every snapshot (and the image) counted first.
  const snapshots = (await client.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }))).Snapshots!
    .length;
  await setQuota("carol", "snapshots", String(snapshots));
  await refused(
    () => client.send(new CreateImageCommand({ InstanceId: id, Name: "quota-instance-image" })),
    "SnapshotLimitExceeded",
    400,
  );
  await refused(
    () => client.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: id } })),
    "SnapshotLimitExceeded",
    400,
  );
  await setQuota("carol", "snapshots", "default");
  const images = (await client.send(new DescribeImagesCommand({ Owners: ["self"] }))).Images!.length;
  await setQuota("carol", "images", String(images));
  await refused(
    () => client.send(new CreateImageCommand({ InstanceId: id, Name: "quota-instance-image" })),
    "ResourceLimitExceeded",
    400,
  );
  await setQuota("carol", "images", "default");
  await setQuota("carol", "vcpus", "1");
  await refused(
    () => client.send(new StartInstancesCommand({ InstanceIds: [id] })),
    "VcpuLimitExceeded",
    400,
  );
  assert.equal(await stateOf(), "stopped");
  await setQuota("carol", "vcpus", "100000");
  await setQuota("carol", "host-share", "0.0001");
  await refused(
    () => client.send(new StartInstancesCommand({ InstanceIds: [id] })),
    "InsufficientInstanceCapacity",
    503,
    /its share of this host/,
  );
  assert.equal(await stateOf(), "stopped");
  assert.equal(qemuProcesses(), 0, "the VM did not start again");
  await setQuota("carol", "host-share", "default");
  await client.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  await waitUntilInstanceTerminated(waiter(client), { InstanceIds: [id] });
});

test("concurrent creates at the edge of a limit: exactly the allowed number succeed", async () => {
  const dave = await createAccount(dataDir, "dave");
  const c = ec2(daemon, dave);
  await setQuota("dave", "key-pairs", "3");
  await setQuota("dave", "volume-storage-gp2", String(5 / 1024));
  const keys = await Promise.allSettled(
    Array.from({ length: 8 }, (_, i) =>
      c.send(new CreateKeyPairCommand({ KeyName: `k${i}`, KeyType: "ed25519" })),
    ),
  );
  const volumes = await Promise.allSettled(
    Array.from({ length: 8 }, () =>
      c.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a", VolumeType: "gp2" })),
    ),
  );
  const codes = (rs: PromiseSettledResult<unknown>[]) =>
    rs.flatMap((r) => (r.status === "rejected" ? [(r.reason as Error).name] : ["ok"])).sort();
  assert.deepEqual(codes(keys), [...Array(5).fill("KeyPairLimitExceeded"), ...Array(3).fill("ok")]);
  assert.deepEqual(codes(volumes), [...Array(3).fill("VolumeLimitExceeded"), ...Array(5).fill("ok")]);
  assert.equal((await c.send(new DescribeKeyPairsCommand({}))).KeyPairs?.length, 3);
  assert.equal((await c.send(new DescribeVolumesCommand({}))).Volumes?.length, 5);
  // Snapshots of five volumes at once against a quota of 2.
  await setQuota("dave", "snapshots", "2");
  const ids = (await c.send(new DescribeVolumesCommand({}))).Volumes!.map((x) => x.VolumeId);
  const snapshots = await Promise.allSettled(
    ids.map((id) => c.send(new CreateSnapshotCommand({ VolumeId: id }))),
  );
  assert.deepEqual(codes(snapshots), [...Array(3).fill("SnapshotLimitExceeded"), ...Array(2).fill("ok")]);
  assert.equal((await c.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }))).Snapshots?.length, 2);
});

test("concurrent ModifyVolume calls on one volume are each counted from its size then: the quota holds", async () => {
  const erin = await createAccount(dataDir, "erin");
  const erinEc2 = ec2(daemon, erin);
  await setQuota("erin", "volume-storage-gp2", "0.01"); // 10.24 GiB
  const sizesOf = async () =>
    ((await erinEc2.send(new DescribeVolumesCommand({}))).Volumes ?? []).map((v) => [v.VolumeType, v.Size]);
  for (let round = 0; round < 4; round++) {
    const vol = await erinEc2.send(
      new CreateVolumeCommand({ Size: 10, VolumeType: "gp2", AvailabilityZone: "us-east-1a" }),
    );
    // A type change and a growth at once: each must see the other's result, or the growth would be
    // counted against gp3 while the volume stays gp2 (the first version let gp2 grow without bound).
    const [toGp3, grown] = await Promise.allSettled([
      erinEc2.send(new ModifyVolumeCommand({ VolumeId: vol.VolumeId, VolumeType: "gp3", Size: 11 })),
      erinEc2.send(new ModifyVolumeCommand({ VolumeId: vol.VolumeId, Size: 20 })),
    ]);
    assert.equal(toGp3.status, "fulfilled", String((toGp3 as PromiseRejectedResult).reason));
    const now = (await erinEc2.send(new DescribeVolumesCommand({ VolumeIds: [vol.VolumeId!] }))).Volumes![0];
    if (grown.status === "fulfilled") {
      // The growth ran after the type change: a gp3 volume of 20 GiB.
      assert.deepEqual([now.VolumeType, now.Size], ["gp3", 20]);
    } else {
      // The growth ran first and was refused (20 GiB of gp2 is over 10.24): gp3, 11 GiB.
      assert.equal((grown.reason as Error).name, "VolumeLimitExceeded");
      assert.deepEqual([now.VolumeType, now.Size], ["gp3", 11]);
    }
    const gp2 = (await sizesOf()).filter(([t]) => t === "gp2").reduce((n, [, s]) => n + Number(s), 0);
    assert.ok(gp2 <= 10.24, `erin holds ${gp2} GiB of gp2 (quota 10.24)`);
  }
  // Two growths at once: the record and the files agree on the larger one whatever the order.
  const vol = await erinEc2.send(
    new CreateVolumeCommand({ Size: 1, VolumeType: "gp3", AvailabilityZone: "us-east-1a" }),
  );
  const results = await Promise.allSettled([
    erinEc2.send(new ModifyVolumeCommand({ VolumeId: vol.VolumeId, Size: 30 })),
    erinEc2.send(new ModifyVolumeCommand({ VolumeId: vol.VolumeId, Size: 20 })),
  ]);
  assert.equal(results[0].status, "fulfilled");
  const final = (await erinEc2.send(new DescribeVolumesCommand({ VolumeIds: [vol.VolumeId!] }))).Volumes![0];
  assert.equal(final.Size, 30);
  if (results[1].status === "rejected")
    assert.equal((results[1].reason as Error).name, "InvalidParameterValue");
  const dir = join(dataDir, "regions", "us-east-1", "volumes", vol.VolumeId!);
  const bytes = readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  assert.equal(bytes, 30 * 2 ** 30, "the volume's files hold 30 GiB, as its record says");
});
