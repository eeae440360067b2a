// A shares snapshot S with B; B registers an image on S and shares it with C; A revokes B. From
// then on B's image must not carry A's data anywhere: B cannot make it public, copy or launch
// it, C cannot copy or launch it, and A can still delete S without learning of B's image.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  CopyImageCommand,
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  ModifyImageAttributeCommand,
  RegisterImageCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { assertStoreConsistent, type Daemon, startDaemon } from "../daemon.ts";
import { MiB, seededBytes, tempDir } from "../helpers.ts";
import { Findings } from "./findings.ts";
import { ownedIds } from "./observe.ts";
import { describe, type Outcome, outcomeOf } from "./outcome.ts";
import type { Party } from "./probes.ts";
import { party, shareImage, shareSnapshot, snapshot, volume } from "./world.ts";

const dataDir = tempDir();
let daemon: Daemon;
let a: Party;
let b: Party;
let c: Party;
let s = "";
let registered: Outcome;
let bImage = "";

before(async () => {
  daemon = await startDaemon(dataDir, "us-east-1,eu-west-1", { args: ["--cpu-allocation-ratio", "0.001"] });
  [a, b, c] = await Promise.all([
    party(daemon, dataDir, "alpha"),
    party(daemon, dataDir, "bravo"),
    party(daemon, dataDir, "charlie"),
  ]);
  const vol = await volume(a);
  await daemon.client("us-east-1").write(vol, 0, seededBytes("a-revoked", MiB));
  s = await snapshot(a, vol, "shared, then revoked");
  await shareSnapshot(a, s, [b.account.accountId]);
  registered = await outcomeOf(() =>
    b.ec2.send(
      new RegisterImageCommand({
        Name: "b-on-a-snapshot",
        RootDeviceName: "/dev/xvda",
        BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: s } }],
      }),
    ),
  );
  if (registered.code === "OK") {
    bImage = JSON.parse(registered.text).ImageId;
    await shareImage(b, bImage, [c.account.accountId]);
  }
  await shareSnapshot(a, s, [], [b.account.accountId]);
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

test("B may register an image on a snapshot shared with it (EC2 allows it with createVolumePermission)", () => {
  assert.equal(registered.code, "OK", describe(registered));
  assert.match(bImage, /^ami-[0-9a-f]{17}$/);
});

test("after the revocation, B cannot make its image on A's snapshot public", async () => {
  const made = await outcomeOf(() =>
    b.ec2.send(
      new ModifyImageAttributeCommand({ ImageId: bImage, LaunchPermission: { Add: [{ Group: "all" }] } }),
    ),
  );
  const publicImages = await c.ec2.send(new DescribeImagesCommand({ ExecutableUsers: ["all"] }));
  const f = new Findings();
  f.equal(
    publicImages.Images?.map((i) => i.ImageId),
    [],
    "C's DescribeImages ExecutableUsers [all]",
  );
  f.check(made.code !== "OK", `B's ModifyImageAttribute (add all) answered ${describe(made)}`);
  if (made.code === "OK") {
    // Undone, so the tests that follow see only C's launch permission, as B granted it.
    await b.ec2.send(
      new ModifyImageAttributeCommand({ ImageId: bImage, LaunchPermission: { Remove: [{ Group: "all" }] } }),
    );
  }
  f.done();
});

/** Why the call was not simply refused: its answer if it succeeded, and what the caller gained. */
async function unlessRefused(p: Party, what: string, call: () => Promise<unknown>): Promise<string[]> {
  const before = await ownedIds(p);
  const o = await outcomeOf(call);
  const gained = (await ownedIds(p))
    .filter((id) => !before.includes(id))
    .map((id) => `${what} gave it ${id}`);
  return [...(o.code === "OK" ? [`${what} answered ${o.text}`] : []), ...gained];
}

test("after the revocation, neither C (granted by B) nor B can copy B's image on A's snapshot", async () => {
  const problems: string[] = [];
  for (const [p, name] of [
    [c, "C"],
    [b, "B"],
  ] as const) {
    for (const [region, client] of [
      ["us-east-1", p.ec2],
      ["eu-west-1", p.ec2Eu],
    ] as const) {
      const copy = new CopyImageCommand({
        SourceImageId: bImage,
        SourceRegion: "us-east-1",
        Name: `copy-by-${name}`,
      });
      problems.push(...(await unlessRefused(p, `${name}'s CopyImage to ${region}`, () => client.send(copy))));
    }
  }
  assert.deepEqual(problems, []);
});

test("after the revocation, a launch of B's image by B or C is refused before capacity is looked at", async () => {
  const answers: string[] = [];
  for (const [p, name] of [
    [b, "B"],
    [c, "C"],
  ] as const) {
    const o = await outcomeOf(() =>
      p.ec2.send(
        new RunInstancesCommand({ ImageId: bImage, InstanceType: "t3.nano", MinCount: 1, MaxCount: 1 }),
      ),
    );
    // The daemon has no capacity: InsufficientInstanceCapacity means every permission check passed.
    if (o.code === "InsufficientInstanceCapacity" || o.code === "OK") answers.push(`${name}: ${describe(o)}`);
  }
  assert.deepEqual(answers, [], "launches that passed every permission check");
  const restore = await outcomeOf(() =>
    b.ec2.send(new CreateVolumeCommand({ SnapshotId: s, AvailabilityZone: "us-east-1a" })),
  );
  assert.equal(restore.code, "InvalidSnapshot.NotFound", describe(restore));
});

test("A can still delete the snapshot, and no answer to A names B's image or account", async () => {
  const deleted = await outcomeOf(() => a.ec2.send(new DeleteSnapshotCommand({ SnapshotId: s })));
  const f = new Findings();
  f.check(
    !deleted.text.includes(bImage) && !deleted.text.includes(b.account.accountId),
    `A is told of B's resources: ${describe(deleted)}`,
  );
  f.equal(deleted.code, "OK", `A's DeleteSnapshot: ${describe(deleted)}`);
  const left = await a.ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }));
  f.equal(
    left.Snapshots?.map((x) => x.SnapshotId),
    [],
    "A's snapshots after the delete",
  );
  f.done();
});
