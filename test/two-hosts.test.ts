// Two Strata hosts serving one region: separate data dirs and ports, one PostgreSQL (accounts
// and every region's metadata), one Ceph RGW (packs). Host A runs zone a, host B zone b. An
// image created from an instance on A launches on B; calls go to whichever host, and those about
// an instance reach the host that runs it (forwarded, the caller's signature checked there); a
// copy to another region (another bucket) moves only the chunks missing there.
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  CopyImageCommand,
  CreateImageCommand,
  DescribeImagesCommand,
  type EC2Client,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  waitUntilImageAvailable,
  waitUntilInstanceRunning,
  waitUntilInstanceStopped,
  waitUntilInstanceTerminated,
} from "@aws-sdk/client-ec2";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { type Daemon, startDaemon } from "./daemon.ts";
import { adminCredentials, ec2 } from "./ec2-helpers.ts";
import { tempDir } from "./helpers.ts";
import { baseImageId, describeInstance, waitForConsole } from "./instance-helpers.ts";
import { type PostgresServer, startPostgres } from "./servers/postgres.ts";
import { type Rgw, startRgw } from "./servers/rgw.ts";

const dirA = tempDir("strata-host-a-");
const dirB = tempDir("strata-host-b-");
const configDir = tempDir("strata-two-hosts-");
let pg: PostgresServer;
let rgw: Rgw;
let hostA: Daemon;
let hostB: Daemon;
let viaA: EC2Client;
let viaB: EC2Client;
const waiter = (client: EC2Client) => ({ client, maxWaitTime: 420, minDelay: 1, maxDelay: 2 });

before(async () => {
  [pg, rgw] = await Promise.all([startPostgres(), startRgw({ memBytes: 2 * 1024 ** 3 })]);
  await rgw.createBucket("east");
  await rgw.createBucket("west");
  const url = await pg.createDatabase();
  const packs = (bucket: string) => ({
    type: "s3",
    endpoint: rgw.endpoint,
    bucket,
    accessKeyId: rgw.accessKeyId,
    secretAccessKey: rgw.secretAccessKey,
  });
  const metadata = { type: "postgres", url, schema: "r_{region}" };
  const config = join(configDir, "storage.json");
  writeFileSync(
    config,
    JSON.stringify({
      accounts: { type: "postgres", url },
      default: { metadata, packs: packs("east") },
      regions: { "us-west-2": { metadata, packs: packs("west") } },
    }),
  );
  const args = (id: string, zone: string) => ["--storage-config", config, "--host-id", id, "--zone", zone];
  hostA = await startDaemon(dirA, "us-east-1,us-west-2", { baseImage: true, args: args("host-a", "a") });
  viaA = ec2(hostA, adminCredentials(dirA));
  await baseImageId(viaA);
  // B finds the accounts, the base image and everything else in the shared stores.
  hostB = await startDaemon(dirB, "us-east-1,us-west-2", { args: args("host-b", "b") });
  viaB = ec2(hostB, adminCredentials(dirA));
});

after(async () => {
  await hostB?.kill("SIGTERM");
  await hostA?.kill("SIGTERM");
  await Promise.all([pg?.stop(), rgw?.stop()]);
});

const hasVm = (dir: string, id: string) => existsSync(join(dir, "instances", id));

test("an image made from an instance on host A launches on host B; calls reach the instance's host", async () => {
  const base = await baseImageId(viaB);
  const userData = `#!/bin/sh
echo golden-on-a > /etc/golden-marker
echo "USERDATA-RAN"
`;
  // Asked of B, placed in zone a: the call goes to A, which runs it.
  const first = await viaB.send(
    new RunInstancesCommand({
      ImageId: base,
      InstanceType: "t3.micro",
      MinCount: 1,
      MaxCount: 1,
      Placement: { AvailabilityZone: "us-east-1a" },
      UserData: Buffer.from(userData).toString("base64"),
    }),
  );
  const a = first.Instances![0].InstanceId!;
  assert.equal(first.Instances![0].Placement?.AvailabilityZone, "us-east-1a");
  await waitUntilInstanceRunning(waiter(viaB), { InstanceIds: [a] });
  assert.ok(hasVm(dirA, a), "the VM runs on host A");
  assert.ok(!hasVm(dirB, a), "and not on host B");
  // GetConsoleOutput asked of B is answered by A (the console log is on A's disk).
  await waitForConsole(viaB, a, "USERDATA-RAN");
  await viaB.send(new StopInstancesCommand({ InstanceIds: [a] }));
  await waitUntilInstanceStopped(waiter(viaA), { InstanceIds: [a] });
  const { ImageId: golden } = await viaB.send(
    new CreateImageCommand({ InstanceId: a, Name: "golden-two-hosts" }),
  );
  await waitUntilImageAvailable(waiter(viaA), { ImageIds: [golden!] });

  // Asked of A, placed in zone b: B launches it from the image's snapshots in the shared bucket.
  const second = await viaA.send(
    new RunInstancesCommand({
      ImageId: golden,
      InstanceType: "t3.micro",
      MinCount: 1,
      MaxCount: 1,
      Placement: { AvailabilityZone: "us-east-1b" },
      UserData: Buffer.from(`#!/bin/sh\necho "MARKER=$(cat /etc/golden-marker)"\n`).toString("base64"),
    }),
  );
  const b = second.Instances![0].InstanceId!;
  await waitUntilInstanceRunning(waiter(viaA), { InstanceIds: [b] });
  assert.ok(hasVm(dirB, b), "the VM runs on host B");
  assert.ok(!hasVm(dirA, b), "and not on host A");
  assert.equal((await describeInstance(viaA, b)).Placement?.AvailabilityZone, "us-east-1b");
  // The file the first instance's user data wrote on A, read back inside B's guest.
  await waitForConsole(viaA, b, "MARKER=golden-on-a");

  await viaA.send(new TerminateInstancesCommand({ InstanceIds: [a] }));
  await viaA.send(new TerminateInstancesCommand({ InstanceIds: [b] }));
  await waitUntilInstanceTerminated(waiter(viaB), { InstanceIds: [a, b] });

  // CopyImage to us-west-2 (its packs in another bucket): a second copy of the same image finds
  // every chunk there already and puts no pack.
  const west = ec2(hostB, adminCredentials(dirA), "us-west-2");
  const packsInWest = async () => {
    const listed = await rgw.client().send(new ListObjectsV2Command({ Bucket: "west" }));
    return (listed.Contents ?? []).map((o) => o.Key!).sort();
  };
  const copy = async (name: string) => {
    const { ImageId } = await west.send(
      new CopyImageCommand({ SourceImageId: golden, SourceRegion: "us-east-1", Name: name }),
    );
    await waitUntilImageAvailable(waiter(west), { ImageIds: [ImageId!] });
    return ImageId!;
  };
  await copy("golden-west-1");
  const afterFirst = await packsInWest();
  assert.ok(afterFirst.length > 0, "the first copy put packs in the west bucket");
  const again = await copy("golden-west-2");
  assert.deepEqual(await packsInWest(), afterFirst, "the second copy moved no chunk");
  const { Images } = await viaA.send(new DescribeImagesCommand({ ImageIds: [golden!] }));
  assert.equal(Images?.[0]?.State, "available");
  assert.match(again, /^ami-/);
});
