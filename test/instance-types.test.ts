// EC2's instance types on a real daemon: DescribeInstanceTypes and its offerings, arm64 types
// refused, the host's capacity still bounding the big ones, Packer's empty-string parameters, and
// the seeds' `aws ec2 run-instances ... --instance-type t2.micro --count 1` booting a VM of that size.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand,
  type EC2Client,
  type InstanceTypeInfo,
  paginateDescribeInstanceTypes,
  RegisterImageCommand,
  RunInstancesCommand,
  waitUntilSnapshotCompleted,
} from "@aws-sdk/client-ec2";
import { INSTANCE_TYPES } from "../src/compute/instance-types.ts";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import { adminCredentials, ec2, strataCli } from "./ec2-helpers.ts";
import { tempDir } from "./helpers.ts";
import { baseImageId, consoleText, waitForConsole } from "./instance-helpers.ts";

const run = promisify(execFile);
const dataDir = tempDir();
const workDir = tempDir("strata-types-");
let daemon: Daemon;
let admin: EC2Client;

before(async () => {
  daemon = await startDaemon(dataDir, "us-east-1", { baseImage: true });
  admin = ec2(daemon, adminCredentials(dataDir));
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

/** The aws CLI (Debian's awscli) as the admin account; a failure is returned, not thrown. */
async function aws(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(
      "/usr/bin/aws",
      ["--endpoint-url", daemon.url, "--output", "json", ...args],
      {
        env: {
          PATH: process.env.PATH,
          HOME: workDir,
          AWS_SHARED_CREDENTIALS_FILE: join(dataDir, "credentials"),
          AWS_CONFIG_FILE: "/dev/null",
          AWS_EC2_METADATA_DISABLED: "true",
          AWS_PAGER: "",
          AWS_DEFAULT_REGION: "us-east-1",
        },
        timeout: 600_000,
      },
    );
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

async function allTypes(input: { Filters?: { Name: string; Values: string[] }[] } = {}) {
  const out: InstanceTypeInfo[] = [];
  for await (const page of paginateDescribeInstanceTypes({ client: admin, pageSize: 25 }, input)) {
    out.push(...(page.InstanceTypes ?? []));
  }
  return out;
}

const names = (types: { InstanceType?: string }[]) => types.map((t) => t.InstanceType!).sort();

test("DescribeInstanceTypes: EC2's families and sizes, paged, filtered", async () => {
  const all = await allTypes();
  // Every type once, across pages of 25.
  assert.equal(all.length, INSTANCE_TYPES.length);
  assert.equal(new Set(names(all)).size, all.length);
  for (const family of ["t2", "t3", "t3a", "m5", "m6i", "m7i", "c5", "c6i", "c7i", "r5", "r6i", "r7i"]) {
    assert.ok(
      all.some((t) => t.InstanceType?.startsWith(`${family}.`)),
      family,
    );
  }
  assert.deepEqual(names(all.filter((t) => t.InstanceType?.startsWith("t2."))), [
    "t2.2xlarge",
    "t2.large",
    "t2.medium",
    "t2.micro",
    "t2.nano",
    "t2.small",
    "t2.xlarge",
  ]);
  const micro = all.find((t) => t.InstanceType === "t2.micro")!;
  assert.deepEqual(
    [
      micro.VCpuInfo?.DefaultVCpus,
      micro.MemoryInfo?.SizeInMiB,
      micro.Hypervisor,
      micro.BurstablePerformanceSupported,
    ],
    [1, 1024, "xen", true],
  );
  assert.deepEqual(micro.ProcessorInfo?.SupportedArchitectures, ["i386", "x86_64"]);
  assert.equal(micro.NetworkInfo?.NetworkPerformance, "Low to Moderate");
  const m5 = all.find((t) => t.InstanceType === "m5.24xlarge")!;
  assert.deepEqual(
    [m5.VCpuInfo?.DefaultVCpus, m5.MemoryInfo?.SizeInMiB, m5.Hypervisor],
    [96, 393216, "nitro"],
  );
  assert.equal(m5.EbsInfo?.EbsOptimizedInfo?.MaximumBandwidthInMbps, 19000);
  const metal = all.find((t) => t.InstanceType === "m5.metal")!;
  assert.deepEqual([metal.BareMetal, metal.Hypervisor], [true, undefined]);

  const oneVcpuOneGiB = await allTypes({
    Filters: [
      { Name: "vcpu-info.default-vcpus", Values: ["1"] },
      { Name: "memory-info.size-in-mib", Values: ["1024"] },
    ],
  });
  assert.deepEqual(names(oneVcpuOneGiB), ["t2.micro"]);
  const arm = await allTypes({
    Filters: [{ Name: "processor-info.supported-architecture", Values: ["arm64"] }],
  });
  assert.ok(arm.length >= 60);
  assert.ok(arm.every((t) => /^(t4g|m6g|m7g|c6g|c7g|r6g|r7g)\./.test(t.InstanceType!)));
  const burstable = await allTypes({
    Filters: [{ Name: "burstable-performance-supported", Values: ["true"] }],
  });
  assert.deepEqual([...new Set(burstable.map((t) => t.InstanceType!.split(".")[0]))].sort(), [
    "t2",
    "t3",
    "t3a",
    "t4g",
  ]);
  const previous = await allTypes({ Filters: [{ Name: "current-generation", Values: ["false"] }] });
  assert.ok(names(previous).includes("m5.large") && !names(previous).includes("m7i.large"));

  await assert.rejects(
    admin.send(new DescribeInstanceTypesCommand({ InstanceTypes: ["x9.mega" as never] })),
    {
      name: "InvalidInstanceType",
    },
  );
  await assert.rejects(admin.send(new DescribeInstanceTypesCommand({ MaxResults: 101 })), {
    name: "InvalidParameterValue",
  });
  await assert.rejects(
    admin.send(new DescribeInstanceTypesCommand({ Filters: [{ Name: "no-such-filter", Values: ["x"] }] })),
    { name: "InvalidParameterValue" },
  );
});

test("DescribeInstanceTypeOfferings: the x86_64 types in the region and each of its zones", async () => {
  const region = await admin.send(new DescribeInstanceTypeOfferingsCommand({}));
  const inRegion = region.InstanceTypeOfferings ?? [];
  assert.ok(inRegion.every((o) => o.LocationType === "region" && o.Location === "us-east-1"));
  assert.equal(inRegion.length, INSTANCE_TYPES.filter((t) => t.architecture === "x86_64").length);
  assert.ok(names(inRegion).includes("t2.micro") && !names(inRegion).includes("t4g.micro"));
  const zone = await admin.send(
    new DescribeInstanceTypeOfferingsCommand({
      LocationType: "availability-zone",
      Filters: [
        { Name: "location", Values: ["us-east-1b"] },
        { Name: "instance-type", Values: ["t2.micro", "t4g.micro"] },
      ],
    }),
  );
  assert.deepEqual(zone.InstanceTypeOfferings, [
    { InstanceType: "t2.micro", LocationType: "availability-zone", Location: "us-east-1b" },
  ]);
  const byId = await admin.send(
    new DescribeInstanceTypeOfferingsCommand({
      LocationType: "availability-zone-id",
      Filters: [{ Name: "instance-type", Values: ["c7i.large"] }],
    }),
  );
  assert.deepEqual(
    byId.InstanceTypeOfferings?.map((o) => o.Location),
    ["use1-az1", "use1-az2", "use1-az3"],
  );
  // Paged: 5 at a time, nothing lost or repeated.
  const seen: string[] = [];
  let token: string | undefined;
  do {
    const page = await admin.send(
      new DescribeInstanceTypeOfferingsCommand({
        Filters: [{ Name: "instance-type", Values: ["m7i.*"] }],
        MaxResults: 5,
        NextToken: token,
      }),
    );
    seen.push(...names(page.InstanceTypeOfferings ?? []));
    token = page.NextToken;
  } while (token);
  assert.deepEqual(
    seen.sort(),
    names(INSTANCE_TYPES.filter((t) => t.family === "m7i").map((t) => ({ InstanceType: t.name }))),
  );
});

test("RunInstances: arm64 types and mismatched images are refused as EC2 does; the host still bounds big types", async () => {
  const base = await baseImageId(admin);
  const before = JSON.stringify((await admin.send(new DescribeInstancesCommand({}))).Reservations);
  const launch = (ImageId: string, InstanceType: string) =>
    admin.send(
      new RunInstancesCommand({ ImageId, InstanceType: InstanceType as never, MinCount: 1, MaxCount: 1 }),
    );
  await assert.rejects(launch(base, "t4g.micro"), {
    name: "InvalidParameterValue",
    message: /arm64 instance types are not supported yet: Strata runs x86_64 images only/,
  });
  await assert.rejects(launch(base, "x9.mega"), { name: "InvalidInstanceType" });
  // An arm64 image with an x86_64 type: EC2's own message.
  const vol = await admin.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a" }));
  const snap = await admin.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId }));
  await waitUntilSnapshotCompleted(
    { client: admin, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { SnapshotIds: [snap.SnapshotId!] },
  );
  const armImage = await admin.send(
    new RegisterImageCommand({
      Name: "arm-image",
      Architecture: "arm64",
      RootDeviceName: "/dev/xvda",
      BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: snap.SnapshotId } }],
    }),
  );
  await assert.rejects(launch(armImage.ImageId!, "t3.micro"), {
    name: "InvalidParameterValue",
    message:
      /^The architecture 'x86_64' of the specified instance type does not match the architecture 'arm64' of the specified AMI/,
  });
  // r5.8xlarge: 32 vCPUs (the host's 2 threads x 16) fit, its 256 GiB do not.
  assert.equal((await strataCli(dataDir, "accounts", "set-quota", "admin", "vcpus", "1000")).code, 0);
  await assert.rejects(launch(base, "r5.8xlarge"), {
    name: "InsufficientInstanceCapacity",
    message: /r5\.8xlarge \(32 vCPUs, 262144 MiB each\) does not fit on this host/,
  });
  assert.equal((await strataCli(dataDir, "accounts", "set-quota", "admin", "vcpus", "5")).code, 0);
  assert.equal(JSON.stringify((await admin.send(new DescribeInstancesCommand({}))).Reservations), before);
});

test("empty-string parameters (as Packer sends them) count as absent: the aws CLI", async () => {
  const base = await baseImageId(admin);
  // Validated in full, then DryRunOperation: the empty zone is the default one, not an invalid one.
  const dry = await aws(
    "ec2",
    "run-instances",
    "--dry-run",
    "--image-id",
    base,
    "--instance-type",
    "t2.micro",
    "--subnet-id",
    "",
    "--placement",
    '{"AvailabilityZone":""}',
    "--block-device-mappings",
    '[{"DeviceName":"/dev/xvda","Ebs":{"KmsKeyId":"","VolumeSize":2}}]',
  );
  assert.match(dry.err, /DryRunOperation/);
  const volume = await aws(
    "ec2",
    "create-volume",
    "--size",
    "1",
    "--availability-zone",
    "us-east-1a",
    "--kms-key-id",
    "",
    "--snapshot-id",
    "",
  );
  assert.equal(volume.code, 0, volume.err);
  const created = JSON.parse(volume.out);
  assert.equal(created.Size, 1);
  assert.equal(created.SnapshotId ?? "", "");
  // A description may be the empty string.
  const snap = await aws("ec2", "create-snapshot", "--volume-id", created.VolumeId, "--description", "");
  assert.equal(snap.code, 0, snap.err);
  assert.equal(JSON.parse(snap.out).Description, "");
});

test("the seeds' `aws ec2 run-instances --instance-type t2.micro --count 1` boots a 1 vCPU, 1 GiB guest", async () => {
  const base = await baseImageId(admin);
  const userData = join(workDir, "size.sh");
  writeFileSync(
    userData,
    "#!/bin/sh\necho \"SIZE type=$(imds get meta-data/instance-type) cpus=$(grep -c ^processor /proc/cpuinfo) mem=$(awk '/MemTotal/ {print $2}' /proc/meminfo)\"\n",
  );
  const res = await aws(
    "ec2",
    "run-instances",
    "--image-id",
    base,
    "--instance-type",
    "t2.micro",
    "--count",
    "1",
    "--user-data",
    `file://${userData}`,
  );
  assert.equal(res.code, 0, res.err);
  const id = JSON.parse(res.out).Instances[0].InstanceId as string;
  assert.equal((await aws("ec2", "wait", "instance-running", "--instance-ids", id)).code, 0);
  const described = JSON.parse((await aws("ec2", "describe-instances", "--instance-ids", id)).out);
  const instance = described.Reservations[0].Instances[0];
  assert.equal(instance.InstanceType, "t2.micro");
  assert.deepEqual(instance.CpuOptions, { CoreCount: 1, ThreadsPerCore: 1 });
  await waitForConsole(admin, id, "SIZE type=", { timeoutMs: 600_000 });
  const line = /SIZE type=(\S*) cpus=(\d+) mem=(\d+)/.exec(await consoleText(admin, id));
  assert.ok(line, "the user data's report");
  assert.equal(line[1], "t2.micro");
  assert.equal(Number(line[2]), 1);
  // 1024 MiB less what the kernel keeps for itself.
  const memMiB = Number(line[3]) / 1024;
  assert.ok(memMiB > 800 && memMiB <= 1024, `MemTotal ${memMiB} MiB`);
  assert.equal((await aws("ec2", "terminate-instances", "--instance-ids", id)).code, 0);
  assert.equal((await aws("ec2", "wait", "instance-terminated", "--instance-ids", id)).code, 0);
});
