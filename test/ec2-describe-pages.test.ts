// DescribeImages paging through every page with MaxResults/NextToken, on both of its query paths:
// the database seek (no filter left to apply in memory) and the in-memory one (a tag filter, or
// ExecutableUsers). The union of the pages must be exactly the expected set, without duplicates,
// from the caller's view: its own images, those shared with it, public ones; never another
// account's private image.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  CreateSnapshotCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DescribeImagesCommand,
  type DescribeImagesCommandInput,
  type EC2Client,
  ModifyImageAttributeCommand,
  RegisterImageCommand,
  waitUntilSnapshotCompleted,
} from "@aws-sdk/client-ec2";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import { adminCredentials, createAccount, ec2 } from "./ec2-helpers.ts";
import { tempDir } from "./helpers.ts";

const dataDir = tempDir();
let daemon: Daemon;
let admin: EC2Client;
let adminId = "";
let bobId = "";
// Image ids by what they are to the admin account.
const own: string[] = [];
const ownGold: string[] = [];
const ownPublic: string[] = [];
const sharedWithAdmin: string[] = [];
const othersPublic: string[] = [];
const othersPrivate: string[] = [];

async function snapshotFor(client: EC2Client): Promise<string> {
  const vol = await client.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a" }));
  const s = await client.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId }));
  await waitUntilSnapshotCompleted(
    { client, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { SnapshotIds: [s.SnapshotId!] },
  );
  return s.SnapshotId!;
}

async function registerMany(client: EC2Client, prefix: string, count: number): Promise<string[]> {
  const snapshotId = await snapshotFor(client);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = await client.send(
      new RegisterImageCommand({
        Name: `${prefix}-${String(i).padStart(2, "0")}`,
        RootDeviceName: "/dev/xvda",
        BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: snapshotId } }],
      }),
    );
    ids.push(r.ImageId!);
  }
  return ids;
}

async function grant(client: EC2Client, ids: string[], who: { UserId?: string; Group?: "all" }) {
  for (const id of ids)
    await client.send(new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Add: [who] } }));
}

before(async () => {
  daemon = await startDaemon(dataDir);
  admin = ec2(daemon, adminCredentials(dataDir));
  const bob = await createAccount(dataDir, "bob");
  const carol = await createAccount(dataDir, "carol");
  bobId = bob.accountId;
  const bobEc2 = ec2(daemon, bob);
  const carolEc2 = ec2(daemon, carol);

  own.push(...(await registerMany(admin, "own", 23)));
  adminId = (await admin.send(new DescribeImagesCommand({ ImageIds: [own[0]] }))).Images![0].OwnerId!;
  for (const [i, id] of own.entries()) {
    if (i % 3 === 0) {
      await admin.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: "tier", Value: "gold" }] }));
      ownGold.push(id);
    }
  }
  ownPublic.push(...own.slice(20));
  await grant(admin, ownPublic, { Group: "all" });

  const bobs = await registerMany(bobEc2, "bob", 9);
  sharedWithAdmin.push(...bobs.slice(0, 6));
  await grant(bobEc2, sharedWithAdmin, { UserId: adminId });
  othersPublic.push(bobs[6]);
  await grant(bobEc2, [bobs[6]], { Group: "all" });
  othersPrivate.push(...bobs.slice(7));

  const carols = await registerMany(carolEc2, "carol", 9);
  // Five: a new account's quota of public images.
  othersPublic.push(...carols.slice(0, 5));
  await grant(carolEc2, carols.slice(0, 5), { Group: "all" });
  othersPrivate.push(...carols.slice(5));
  // Carol shares one private image with Bob only: still private to the admin.
  await grant(carolEc2, [carols[8]], { UserId: bobId });
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

/** Every page of a DescribeImages call; checks each page's size and returns the pages' ids. */
async function allPages(input: DescribeImagesCommandInput): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await admin.send(new DescribeImagesCommand({ ...input, NextToken: token }));
    pages++;
    const got = page.Images?.map((i) => i.ImageId!) ?? [];
    assert.ok(
      got.length <= input.MaxResults!,
      `page ${pages} has ${got.length} > ${input.MaxResults} images`,
    );
    assert.ok(got.length > 0 || pages === 1, `page ${pages} is empty but a NextToken led to it`);
    ids.push(...got);
    token = page.NextToken;
    assert.ok(pages <= 100, "NextToken never ends");
  } while (token);
  return { ids, pages };
}

/** The pages hold exactly `expected`, each once. */
function assertExactly(ids: string[], expected: string[], what: string): void {
  assert.equal(new Set(ids).size, ids.length, `${what}: an image appears on two pages`);
  assert.deepEqual([...ids].sort(), [...expected].sort(), what);
  for (const id of othersPrivate) assert.ok(!ids.includes(id), `${what}: another account's private ${id}`);
}

test("the seek path (no in-memory filter): every page, the whole visible set, once each", async () => {
  const visible = [...own, ...sharedWithAdmin, ...othersPublic];
  assert.equal(visible.length, 35);
  const all = await allPages({ MaxResults: 5 });
  assertExactly(all.ids, visible, "no filter, MaxResults=5");
  assert.equal(all.pages, 7, "35 images in pages of at most 5");
  // Without MaxResults, one answer with the same set.
  const whole = await admin.send(new DescribeImagesCommand({}));
  assert.equal(whole.NextToken, undefined);
  assertExactly(whole.Images?.map((i) => i.ImageId!) ?? [], visible, "no MaxResults");

  assertExactly((await allPages({ Owners: ["self"], MaxResults: 7 })).ids, own, "Owners=self");
  assertExactly(
    (await allPages({ Owners: [bobId], MaxResults: 5 })).ids,
    [...sharedWithAdmin, othersPublic[0]],
    "Owners=bob",
  );
  // A name filter is answered by the database too (a pushed-down column).
  const named = await allPages({ Filters: [{ Name: "name", Values: ["own-1*"] }], MaxResults: 5 });
  assertExactly(named.ids, own.slice(10, 20), "name=own-1*");
});

test("the in-memory path (tag filter, ExecutableUsers): every page, exactly the matching set", async () => {
  const gold = await allPages({ Filters: [{ Name: "tag:tier", Values: ["gold"] }], MaxResults: 5 });
  assert.equal(ownGold.length, 8);
  assertExactly(gold.ids, ownGold, "tag:tier=gold");
  assert.equal(gold.pages, 2);

  const publicImages = await allPages({ ExecutableUsers: ["all"], MaxResults: 5 });
  assertExactly(publicImages.ids, [...ownPublic, ...othersPublic], "ExecutableUsers=all");
  assert.equal(publicImages.pages, 2, "9 public images in pages of at most 5");

  const isPublic = await allPages({ Filters: [{ Name: "is-public", Values: ["false"] }], MaxResults: 6 });
  assertExactly(
    isPublic.ids,
    [...own.filter((id) => !ownPublic.includes(id)), ...sharedWithAdmin],
    "is-public=false",
  );

  // Both at once, with an owner: the admin's public gold images.
  const mixed = await allPages({
    Owners: ["self"],
    ExecutableUsers: ["all"],
    Filters: [{ Name: "tag:tier", Values: ["gold"] }],
    MaxResults: 5,
  });
  assertExactly(
    mixed.ids,
    ownGold.filter((id) => ownPublic.includes(id)),
    "self + all + gold",
  );
});
