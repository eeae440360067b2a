// A shares snapshot S with B; B tries to register an image on S; A revokes B. As on EC2, B can
// restore or copy S while it is shared, but registers images only on snapshots it owns (it copies
// a shared one first), so nothing B builds pins or outlives A's permission: after the revocation B
// reaches S in no way, and A can still delete S without learning anything of B.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  CopySnapshotCommand,
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DescribeSnapshotsCommand,
  RegisterImageCommand,
} from "@aws-sdk/client-ec2";
import { assertStoreConsistent, type Daemon, startDaemon } from "../daemon.ts";
import { MiB, seededBytes, tempDir } from "../helpers.ts";
import { Findings } from "./findings.ts";
import { ownedIds } from "./observe.ts";
import { describe, type Outcome, outcomeOf } from "./outcome.ts";
import type { Party } from "./probes.ts";
import { party, shareSnapshot, snapshot, volume } from "./world.ts";

const dataDir = tempDir();
let daemon: Daemon;
let a: Party;
let b: Party;
let s = "";
let registered: Outcome;
let bOwnedBefore: string[] = [];
let bOwnedAfter: string[] = [];

before(async () => {
  daemon = await startDaemon(dataDir, "us-east-1,eu-west-1", { args: ["--cpu-allocation-ratio", "0.001"] });
  [a, b] = await Promise.all([party(daemon, dataDir, "alpha"), party(daemon, dataDir, "bravo")]);
  const vol = await volume(a);
  await daemon.client("us-east-1", a.account.accountId).write(vol, 0, seededBytes("a-revoked", MiB));
  s = await snapshot(a, vol, "shared, then revoked");
  await shareSnapshot(a, s, [b.account.accountId]);
  bOwnedBefore = await ownedIds(b);
  registered = await outcomeOf(() =>
    b.ec2.send(
      new RegisterImageCommand({
        Name: "b-on-a-snapshot",
        RootDeviceName: "/dev/xvda",
        BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: s } }],
      }),
    ),
  );
  bOwnedAfter = await ownedIds(b);
  await shareSnapshot(a, s, [], [b.account.accountId]);
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

test("B cannot register an image on a snapshot shared with it (EC2: it copies the snapshot first)", () => {
  assert.equal(registered.code, "UnauthorizedOperation", describe(registered));
  assert.ok(!registered.text.includes(a.account.accountId), describe(registered));
  assert.deepEqual(bOwnedAfter, bOwnedBefore, "B gained nothing");
});

test("after the revocation, B can neither restore, copy nor see the snapshot", async () => {
  const f = new Findings();
  const restore = await outcomeOf(() =>
    b.ec2.send(new CreateVolumeCommand({ SnapshotId: s, AvailabilityZone: "us-east-1a" })),
  );
  f.equal(restore.code, "InvalidSnapshot.NotFound", `B's CreateVolume: ${describe(restore)}`);
  for (const client of [b.ec2, b.ec2Eu]) {
    const copy = await outcomeOf(() =>
      client.send(new CopySnapshotCommand({ SourceRegion: "us-east-1", SourceSnapshotId: s })),
    );
    f.equal(copy.code, "InvalidSnapshot.NotFound", `B's CopySnapshot: ${describe(copy)}`);
  }
  const seen = await outcomeOf(() => b.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [s] })));
  f.equal(seen.code, "InvalidSnapshot.NotFound", `B's DescribeSnapshots: ${describe(seen)}`);
  f.equal(await ownedIds(b), bOwnedBefore, "B's resources");
  f.done();
});

test("A can still delete the snapshot, and no answer to A names B's image or account", async () => {
  const deleted = await outcomeOf(() => a.ec2.send(new DeleteSnapshotCommand({ SnapshotId: s })));
  const f = new Findings();
  f.check(!deleted.text.includes(b.account.accountId), `A is told of B: ${describe(deleted)}`);
  f.equal(deleted.code, "OK", `A's DeleteSnapshot: ${describe(deleted)}`);
  const left = await a.ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }));
  f.equal(
    left.Snapshots?.map((x) => x.SnapshotId),
    [],
    "A's snapshots after the delete",
  );
  f.done();
});
