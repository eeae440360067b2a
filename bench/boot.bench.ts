// npm run bench:boot — time from RunInstances to "user data finished" (base image; custom images
// with 1 GiB and 8 GiB root volumes, the 8 GiB one holding 3 GiB of data the boot never reads),
// beside QEMU booting the same disk from a local raw file; then CreateImage of a running instance
// whose 8 GiB root changed 50 MiB since its image: time and bytes stored.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateImageCommand,
  CreateKeyPairCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  type EC2Client,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  waitUntilImageAvailable,
  waitUntilInstanceStopped,
  waitUntilInstanceTerminated,
} from "@aws-sdk/client-ec2";
import { buildBaseImage, defaultBaseImageCacheDir } from "../src/compute/base-image/build-base-image.ts";
import { metadataForwardCommand } from "../src/compute/hypervisor/qemu-vm.ts";
import { MetadataService } from "../src/compute/metadata/metadata-service.ts";
import { adminCredentials, ec2 } from "../test/ec2-helpers.ts";
import { baseImageId, describeInstance, ssh, waitForConsole, writeKey } from "../test/instance-helpers.ts";
import { startBenchDaemon } from "./daemon.ts";

const FINISHED = "strata: user-data finished";
const USER_DATA = Buffer.from("#!/bin/sh\necho bench user data\n").toString("base64");
const waiter = (client: EC2Client) => ({ client, maxWaitTime: 900, minDelay: 1, maxDelay: 2 });
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function timeBoot(client: EC2Client, imageId: string, extra: Record<string, unknown> = {}) {
  const t0 = performance.now();
  const res = await client.send(
    new RunInstancesCommand({
      ImageId: imageId,
      InstanceType: "t3.micro",
      MinCount: 1,
      MaxCount: 1,
      UserData: USER_DATA,
      ...extra,
    }),
  );
  const id = res.Instances![0].InstanceId!;
  await waitForConsole(client, id, FINISHED, { timeoutMs: 600_000 });
  return { id, ms: performance.now() - t0 };
}

/** The reference: QEMU on the cached raw disk (copy-on-write overlay), same guest, same metadata. */
async function referenceBoot(disk: string, dir: string): Promise<number> {
  const imds = await MetadataService.start(
    () => ({
      instanceId: "i-0000000000000bench",
      imageId: "ami-00000000000000000",
      instanceType: "t3.micro",
      region: "us-east-1",
      availabilityZone: "us-east-1a",
      accountId: "000000000000",
      hostname: "ip-169-254-0-15.ec2.internal",
      localIpv4: "169.254.0.15",
      mac: "02:00:00:00:00:01",
      amiLaunchIndex: 0,
      reservationId: "r-00000000000000000",
      launchedAt: new Date(),
      publicKeys: [],
      userData: Buffer.from(USER_DATA, "base64"),
      blockDevices: { root: "/dev/xvda", ebs: [] },
    }),
    join(dir, "reference.imds"),
  );
  const t0 = performance.now();
  const qemu = spawn(
    "qemu-system-x86_64",
    [
      "-machine",
      "pc,accel=tcg",
      "-smp",
      "2",
      "-m",
      "1024",
      "-nodefaults",
      "-display",
      "none",
      "-serial",
      "stdio",
      "-drive",
      `file=${disk},format=raw,if=virtio,snapshot=on`,
      "-netdev",
      `user,id=n0,ipv4=on,ipv6=off,restrict=on,net=169.254.0.0/16,host=169.254.0.2,dhcpstart=169.254.0.15,guestfwd=tcp:169.254.169.254:80-cmd:${metadataForwardCommand(imds.socketPath)}`,
      "-device",
      "virtio-net-pci,netdev=n0,mac=02:00:00:00:00:01",
    ],
    { cwd: dir, stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  await new Promise<void>((resolve, reject) => {
    qemu.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes(FINISHED)) resolve();
    });
    qemu.once("exit", () => reject(new Error(`reference QEMU exited: ${out.slice(-2000)}`)));
  });
  const ms = performance.now() - t0;
  qemu.kill("SIGKILL");
  await imds.close();
  return ms;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "strata-bench-boot-"));
  // Instances on the VPC data plane (the default where the host allows it), a pool of its own.
  const pool = `100.${64 + Math.floor(Math.random() * 32)}.${Math.floor(Math.random() * 256)}.0/24`;
  const daemon = await startBenchDaemon(dir, [
    "--regions",
    "us-east-1",
    "--network",
    "vpc",
    "--public-pool",
    pool,
  ]);
  try {
    const client = ec2(daemon, adminCredentials(dir));
    // SSH from the host to the instances' public addresses (VPC networking): the default group
    // admits only its own members.
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupName: "default",
        IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
      }),
    );
    const disk = await buildBaseImage({ cacheDir: defaultBaseImageCacheDir() });
    const base = await baseImageId(client);
    const reference = await referenceBoot(disk.path, dir);

    const first = await timeBoot(client, base);
    // A 1 GiB custom image: the base root as the instance left it.
    await client.send(new StopInstancesCommand({ InstanceIds: [first.id] }));
    await waitUntilInstanceStopped(waiter(client), { InstanceIds: [first.id] });
    const img1 = (await client.send(new CreateImageCommand({ InstanceId: first.id, Name: "bench-1g" })))
      .ImageId!;
    await waitUntilImageAvailable(waiter(client), { ImageIds: [img1] });
    await client.send(new TerminateInstancesCommand({ InstanceIds: [first.id] }));
    await waitUntilInstanceTerminated(waiter(client), { InstanceIds: [first.id] });

    // An 8 GiB custom image with 3 GiB of data past the file system (never read at boot).
    const big = await timeBoot(client, base, {
      BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { VolumeSize: 8 } }],
    });
    await client.send(new StopInstancesCommand({ InstanceIds: [big.id] }));
    await waitUntilInstanceStopped(waiter(client), { InstanceIds: [big.id] });
    const { Reservations } = await client.send(new DescribeInstancesCommand({ InstanceIds: [big.id] }));
    const rootVol = Reservations![0].Instances![0].BlockDeviceMappings![0].Ebs!.VolumeId!;
    const admin = daemon.client("us-east-1");
    const chunk = Buffer.alloc(64 * 1024 * 1024);
    for (let off = 2 * 2 ** 30; off < 5 * 2 ** 30; off += chunk.length) {
      for (let i = 0; i < chunk.length; i += 4096) chunk.writeUInt32LE((off + i) >>> 0, i);
      await admin.write(rootVol, off, chunk);
    }
    const img8 = (await client.send(new CreateImageCommand({ InstanceId: big.id, Name: "bench-8g" })))
      .ImageId!;
    await waitUntilImageAvailable(waiter(client), { ImageIds: [img8] });
    await client.send(new TerminateInstancesCommand({ InstanceIds: [big.id] }));
    await waitUntilInstanceTerminated(waiter(client), { InstanceIds: [big.id] });

    const boot1 = await timeBoot(client, img1);
    await client.send(new TerminateInstancesCommand({ InstanceIds: [boot1.id] }));
    await waitUntilInstanceTerminated(waiter(client), { InstanceIds: [boot1.id] });

    // CreateImage of a running instance whose 8 GiB root changed 50 MiB since its image.
    // Same user data as the 1 GiB boot; the 50 MiB change is written over SSH afterwards.
    const key = await client.send(new CreateKeyPairCommand({ KeyName: "bench", KeyType: "ed25519" }));
    const keyFile = writeKey(dir, "bench-key", key.KeyMaterial!);
    const boot8 = await timeBoot(client, img8, { KeyName: "bench" });
    await ssh(
      await describeInstance(client, boot8.id),
      keyFile,
      "dd if=/dev/urandom of=/var/change.bin bs=1M count=50 2>/dev/null && sync",
    );
    const t0 = performance.now();
    const hot = (
      await client.send(new CreateImageCommand({ InstanceId: boot8.id, Name: "bench-hot", NoReboot: true }))
    ).ImageId!;
    await waitUntilImageAvailable(waiter(client), { ImageIds: [hot] });
    const createMs = performance.now() - t0;
    const img = (await client.send(new DescribeImagesCommand({ ImageIds: [hot] }))).Images![0];
    const snapId = img.BlockDeviceMappings![0].Ebs!.SnapshotId!;
    const snap = (await admin.getSnapshot(snapId)) as { bytesStored: number; blocksRead: number };
    await client.send(new TerminateInstancesCommand({ InstanceIds: [boot8.id] }));

    console.log("\nRunInstances -> user data finished (QEMU TCG on this host)");
    console.log(`  reference: QEMU on the local raw disk        ${seconds(reference)}`);
    console.log(
      `  base image (1 GiB root)                       ${seconds(first.ms)}  (${(first.ms / reference).toFixed(2)}x reference)`,
    );
    console.log(
      `  custom image, 1 GiB root                      ${seconds(boot1.ms)}  (${(boot1.ms / reference).toFixed(2)}x)`,
    );
    console.log(
      `  custom image, 8 GiB root (3 GiB of data)      ${seconds(boot8.ms)}  (${(boot8.ms / reference).toFixed(2)}x)`,
    );
    console.log("\nCreateImage (NoReboot) of the running 8 GiB instance, 50 MiB changed since its image");
    console.log(`  until available   ${seconds(createMs)}`);
    console.log(
      `  blocks read       ${snap.blocksRead} x 512 KiB = ${((snap.blocksRead * 512) / 1024).toFixed(1)} MiB`,
    );
    console.log(`  bytes stored      ${(snap.bytesStored / 2 ** 20).toFixed(1)} MiB`);
  } finally {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
