// Two Strata hosts serving one region: separate data dirs and ports, one PostgreSQL (accounts
// and every region's metadata), one Ceph RGW (packs). Host A runs zone a, host B zone b. An
// image created from an instance on A launches on B; calls go to whichever host, and those about
// an instance reach the host that runs it (forwarded, the caller's signature checked there); a
// copy to another region (another bucket) moves only the chunks missing there.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  AttachVolumeCommand,
  CopyImageCommand,
  CreateImageCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  type EC2Client,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  waitUntilImageAvailable,
  waitUntilInstanceRunning,
  waitUntilInstanceStopped,
  waitUntilInstanceTerminated,
} from "@aws-sdk/client-ec2";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import Pg from "pg";
import type { Daemon } from "./daemon.ts";
import { baseImageId, describeInstance, waitForConsole } from "./instance-helpers.ts";
import { type Hosts, hasVm, startHosts } from "./multi-host-helpers.ts";

let hosts: Hosts;
let hostB: Daemon;
let viaA: EC2Client;
let viaB: EC2Client;
let dirA = "";
let dirB = "";
let hostC: Daemon | undefined;
let dirC = "";
const HOST_TIMEOUT_MS = 12_000;
const hostArgs = (zone: string) => [
  "--zone",
  zone,
  // Short, but well above a beat's delay on a loaded CI machine: a false "lost" would fence a host.
  "--heartbeat-interval",
  "1000",
  "--host-timeout",
  String(HOST_TIMEOUT_MS),
  "--checkpoint-interval",
  "2000",
];

/**
 * The volume's last snapshot as the region's database has it (checkpoints are no account's), and
 * whether any block was written since it began (a change not in it yet).
 */
async function lastSnapshotOf(
  volumeId: string,
): Promise<{ owner: string; state: string; startedAt: string; changedSince: boolean } | undefined> {
  const client = new Pg.Client({ connectionString: hosts.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT s.owner_id, s.state, s.started_at,
              EXISTS (SELECT 1 FROM r_us_east_1.volume_dirty d WHERE d.volume_id = v.id) AS changed
       FROM r_us_east_1.volumes v
       JOIN r_us_east_1.snapshots s ON s.id = v.last_snapshot_id WHERE v.id = $1`,
      [volumeId],
    );
    const r = rows[0];
    return r && { owner: r.owner_id, state: r.state, startedAt: r.started_at, changedSince: r.changed };
  } finally {
    await client.end();
  }
}
const waiter = (client: EC2Client) => ({ client, maxWaitTime: 420, minDelay: 1, maxDelay: 2 });

before(async () => {
  hosts = await startHosts({
    regions: "us-east-1,us-west-2",
    buckets: { default: "east", "us-west-2": "west" },
    hosts: [
      { id: "host-a", args: hostArgs("a") },
      { id: "host-b", args: hostArgs("b") },
    ],
  });
  ({ dir: dirA, ec2: viaA } = hosts.a);
  ({ daemon: hostB, dir: dirB, ec2: viaB } = hosts.b);
});

after(() => hosts?.stop());

/** RunInstances of one t3.micro in `zone` with user data, asked of `client`; the instance's id. */
async function launch(client: EC2Client, imageId: string, zone: string, userData: string): Promise<string> {
  const run = await client.send(
    new RunInstancesCommand({
      ImageId: imageId,
      InstanceType: "t3.micro",
      MinCount: 1,
      MaxCount: 1,
      Placement: { AvailabilityZone: zone },
      UserData: Buffer.from(userData).toString("base64"),
    }),
  );
  assert.equal(run.Instances![0].Placement?.AvailabilityZone, zone);
  return run.Instances![0].InstanceId!;
}

test("an image made from an instance on host A launches on host B; calls reach the instance's host", async () => {
  const base = await baseImageId(viaB);
  const userData = `#!/bin/sh
echo golden-on-a > /etc/golden-marker
echo "USERDATA-RAN"
`;
  // Asked of B, placed in zone a: the call goes to A, which runs it.
  const a = await launch(viaB, base, "us-east-1a", userData);
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
  const b = await launch(viaA, golden!, "us-east-1b", `#!/bin/sh\necho "MARKER=$(cat /etc/golden-marker)"\n`);
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
  const west = hosts.ec2(hostB, "us-west-2");
  const packsInWest = async () => {
    const listed = await hosts.rgw.client().send(new ListObjectsV2Command({ Bucket: "west" }));
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

test("a host that dies: its instance is stopped, then started on another host of its zone from its root volume's last checkpoint", async () => {
  const base = await baseImageId(viaA);
  // rc.local prints the marker at every boot; sync: the next checkpoint must find both on disk.
  const userData = `#!/bin/sh
echo snapshotted-on-b > /etc/marker
printf '#!/bin/sh\\necho "rc.local: marker=$(cat /etc/marker)"\\n' > /etc/rc.local
chmod +x /etc/rc.local
sync
echo "USERDATA-RAN"
`;
  const id = await launch(viaA, base, "us-east-1b", userData);
  await waitUntilInstanceRunning(waiter(viaA), { InstanceIds: [id] });
  assert.ok(hasVm(dirB, id), "the VM runs on host B");
  await waitForConsole(viaA, id, "USERDATA-RAN");
  const synced = new Date().toISOString();
  const root = (await describeInstance(viaA, id)).BlockDeviceMappings![0].Ebs!.VolumeId!;
  // B's checkpoints (every 2 s) take what its disk holds into the pack store: wait for one begun
  // after the marker was written and synced, or a completed one with nothing written since (one
  // can begin between the guest's sync and this test seeing its console; an idle guest then
  // writes nothing more, and no later checkpoint comes).
  for (let i = 0; ; i++) {
    const last = await lastSnapshotOf(root);
    const complete = last?.owner === "strata-internal" && last.state === "completed";
    if (complete && (last.startedAt > synced || !last.changedSince)) break;
    assert.ok(i < 600, `no checkpoint of ${root} after ${synced}: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  // B dies (its QEMU with it); a new host of zone b joins.
  await hostB.kill("SIGKILL");
  ({ daemon: hostC, dir: dirC } = await hosts.add("host-c", hostArgs("b")));
  const started = Date.now();
  let stopped = await describeInstance(viaA, id);
  while (stopped.State?.Name !== "stopped" && Date.now() - started < 4 * HOST_TIMEOUT_MS) {
    await new Promise((r) => setTimeout(r, 500));
    stopped = await describeInstance(viaA, id);
  }
  assert.equal(stopped.State?.Name, "stopped", "marked stopped once B's heartbeat is too old");
  assert.equal(stopped.StateReason?.Code, "Server.InternalError");
  assert.match(stopped.StateReason?.Message ?? "", /host-b stopped answering/);

  // Asked of A (zone a): C, of the instance's zone, takes it over and boots it.
  await viaA.send(new StartInstancesCommand({ InstanceIds: [id] }));
  await waitUntilInstanceRunning(waiter(viaA), { InstanceIds: [id] });
  assert.ok(hasVm(dirC, id), "the VM now runs on host C");
  assert.equal((await describeInstance(viaA, id)).Placement?.AvailabilityZone, "us-east-1b");
  // The boot on C ran what the user data left on B's disk before the checkpoint.
  await waitForConsole(viaA, id, "rc.local: marker=snapshotted-on-b");
  await viaA.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  await waitUntilInstanceTerminated(waiter(viaA), { InstanceIds: [id] });
});

test("AttachVolume to an instance on another host of the zone moves the volume there, bytes and all", async () => {
  assert.ok(hostC, "host C joined zone b in the test before");
  const { dir: dirD, ec2: viaD } = await hosts.add("host-d", hostArgs("b"));
  // A volume on C (its zone, b), written through C's admin socket.
  const c = hostC.client();
  const vol = (await c.createVolume({ sizeGiB: 1 })) as { id: string };
  const content = "moved-volume-content-0123456789";
  await c.write(vol.id, 0, Buffer.from(content));
  const volumeDir = (dir: string) => join(dir, "regions", "us-east-1", "volumes", vol.id);
  assert.ok(existsSync(volumeDir(dirC)));
  // An instance on D (asked of D, in its zone: it runs it); its guest prints the disk once it appears
  // (zero bytes as '0', read errors as they are, with the disk's size: a read before the new disk
  // has its size is read again; anything else is wrong).
  const userData = `#!/bin/sh
echo "WAITING-FOR-VDB"
for i in $(seq 1 900); do [ -b /dev/vdb ] && break; sleep 1; done
for i in $(seq 1 20); do
  got=$(head -c ${content.length} /dev/vdb 2>&1 | tr '\\000' '0')
  echo "VDB=$got|sectors=$(cat /sys/block/vdb/size)"
  [ "$got" = "${content}" ] && break
  sleep 3
done
`;
  const id = await launch(viaD, await baseImageId(viaD), "us-east-1b", userData);
  await waitUntilInstanceRunning(waiter(viaA), { InstanceIds: [id] });
  assert.ok(hasVm(dirD, id), "the VM runs on host D");
  await waitForConsole(viaA, id, "WAITING-FOR-VDB");
  const snapshotsBefore =
    (await viaA.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }))).Snapshots ?? [];

  // Asked of A (neither host): C hands the volume over, D attaches it.
  await viaA.send(new AttachVolumeCommand({ VolumeId: vol.id, InstanceId: id, Device: "/dev/sdf" }));
  const text = await waitForConsole(viaA, id, `VDB=${content}|`);
  const reads = text.split("\n").filter((l) => l.startsWith("VDB="));
  assert.ok(
    reads.slice(0, -1).every((l) => /^VDB=\|sectors=0\s*$/.test(l)),
    `the disk read anything but its content once it had a size:\n${reads.join("\n")}`,
  );
  assert.ok(!existsSync(volumeDir(dirC)), "its files left C");
  assert.ok(existsSync(volumeDir(dirD)), "and are on D");
  const snapshotsAfter =
    (await viaA.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }))).Snapshots ?? [];
  assert.equal(snapshotsAfter.length, snapshotsBefore.length, "the move's snapshot is no account's");
  await viaA.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  await waitUntilInstanceTerminated(waiter(viaA), { InstanceIds: [id] });
});
