// Account B calls every EC2 action and EBS direct operation with account A's ids (private,
// shared then unshared, deleted): each answer must be the answer for an id that never existed
// (same status and code, a message that differs only by the id) and nothing may change, for A,
// for B or for C. Instance ids are in foreign-instance-ids.test.ts (they need a VM).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import { CompleteSnapshotCommand } from "@aws-sdk/client-ebs";
import {
  DescribeAddressesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  type Filter,
} from "@aws-sdk/client-ec2";
import { assertStoreConsistent, type Daemon, startDaemon } from "../daemon.ts";
import { tempDir } from "../helpers.ts";
import { contentOf } from "./observe.ts";
import { probeTests } from "./probe-tests.ts";
import { type StorageWorld, storageWorld } from "./world.ts";

const dataDir = tempDir();
let daemon: Daemon;
let w: StorageWorld;
let contentBefore: Awaited<ReturnType<typeof contentOf>>;

before(async () => {
  // Capacity zero: a launch that passes every check answers InsufficientInstanceCapacity.
  daemon = await startDaemon(dataDir, "us-east-1,eu-west-1", { args: ["--cpu-allocation-ratio", "0.001"] });
  w = await storageWorld(daemon, dataDir);
  contentBefore = await contentOf(w, w.aContent.volumes, w.aContent.snapshots);
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

probeTests(
  () => w,
  [
    "volume",
    "snapshot",
    "image",
    "keyName",
    "keyId",
    "vpc",
    "subnet",
    "internetGateway",
    "routeTable",
    "routeTableAssociation",
    "securityGroup",
    "securityGroupName",
    "securityGroupRule",
    "allocation",
    "publicIp",
  ],
);

test("A's data is unchanged, and A's pending snapshot holds only the block A wrote", async () => {
  assert.deepEqual(await contentOf(w, w.aContent.volumes, w.aContent.snapshots), contentBefore);
  // Completing with A's one block and its LINEAR checksum fails if anyone else wrote a block.
  const linear = createHash("sha256")
    .update(createHash("sha256").update(w.aPendingSnapshot.block).digest())
    .digest("base64");
  const done = await w.a.ebs.send(
    new CompleteSnapshotCommand({
      SnapshotId: w.aPendingSnapshot.id,
      ChangedBlocksCount: 1,
      Checksum: linear,
      ChecksumAlgorithm: "SHA256",
      ChecksumAggregationMethod: "LINEAR",
    }),
  );
  assert.equal(done.Status, "completed");
  const blocks = await contentOf(w, [], [w.aPendingSnapshot.id]);
  assert.deepEqual(blocks.snapshots[w.aPendingSnapshot.id], {
    0: createHash("sha256").update(w.aPendingSnapshot.block).digest("hex"),
  });
});

test("B's network listings, unfiltered or filtered by A's owner id or tags, show nothing of A's", async () => {
  const A = w.a.account.accountId;
  const listings = (p: typeof w.a, Filters?: Filter[]) =>
    Promise.all([
      p.ec2.send(new DescribeVpcsCommand({ Filters })),
      p.ec2.send(new DescribeSubnetsCommand({ Filters })),
      p.ec2.send(new DescribeInternetGatewaysCommand({ Filters })),
      p.ec2.send(new DescribeRouteTablesCommand({ Filters })),
      p.ec2.send(new DescribeSecurityGroupsCommand({ Filters })),
      p.ec2.send(
        new DescribeSecurityGroupRulesCommand({ Filters: Filters?.filter((f) => f.Name !== "owner-id") }),
      ),
      p.ec2.send(new DescribeAddressesCommand({ Filters: Filters?.filter((f) => f.Name !== "owner-id") })),
      p.ec2.send(new DescribeNetworkInterfacesCommand({ Filters })),
    ]);
  const network = w.targets.filter(
    (t) => !["volume", "snapshot", "image", "keyName", "keyId"].includes(t.kind),
  );
  const live = network.filter((t) => t.kind !== "securityGroupName" && t.state.startsWith("private"));
  // A's own listing names them (else this test could not fail).
  const own = JSON.stringify(await listings(w.a));
  for (const t of live) assert.ok(own.includes(t.id), `A's listing names ${t.kind} ${t.id}`);
  for (const filters of [
    undefined,
    [{ Name: "owner-id", Values: [A] }],
    [{ Name: "tag:secret", Values: ["a-private-tag"] }],
    [{ Name: "tag-key", Values: ["secret"] }],
  ]) {
    const seen = JSON.stringify(await listings(w.b, filters));
    const named = [...network.map((t) => t.id), ...w.secrets].filter((s) => seen.includes(s));
    assert.deepEqual(named, [], `B's listings with ${JSON.stringify(filters)} name A's ${named.join(", ")}`);
  }
});
