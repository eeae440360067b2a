// Requests the fuzzers (test/ec2-fuzz.test.ts, test/ebs-fuzz.test.ts) found mishandled, each
// replayed as found, against a real daemon: the error EC2 or EBS gives, and no state change.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  RegisterImageCommand,
  waitUntilSnapshotCompleted,
} from "@aws-sdk/client-ec2";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import { adminCredentials, type Credentials, ec2 as ec2Client } from "./ec2-helpers.ts";
import type { Param } from "./fuzz/ec2-values.ts";
import { checkEbsReply, checkEc2Reply } from "./fuzz/oracle.ts";
import { StateWatch } from "./fuzz/state.ts";
import { encodeParams, type Reply, send, signedCall } from "./fuzz/wire.ts";
import { tempDir } from "./helpers.ts";

const dataDir = tempDir();
let daemon: Daemon;
let admin: Credentials;
let state: StateWatch;
let snapshotId: string;

before(async () => {
  daemon = await startDaemon(dataDir);
  admin = adminCredentials(dataDir);
  const client = ec2Client(daemon, admin);
  const v = await client.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a" }));
  snapshotId = (await client.send(new CreateSnapshotCommand({ VolumeId: v.VolumeId }))).SnapshotId!;
  await waitUntilSnapshotCompleted({ client, maxWaitTime: 60, minDelay: 1 }, { SnapshotIds: [snapshotId] });
  // An image, so that a name filter is evaluated against a row.
  await client.send(
    new RegisterImageCommand({
      Name: "regression-image",
      RootDeviceName: "/dev/xvda",
      BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: snapshotId } }],
    }),
  );
  state = new StateWatch(dataDir, ["us-east-1", "eu-west-1"]);
  await state.settle();
});

after(async () => {
  state.close();
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

function ec2(params: Param[]): Promise<Reply> {
  return signedCall({
    url: daemon.url,
    method: "POST",
    path: "/",
    headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
    body: encodeParams([["Action", params[0][1]], ["Version", "2016-11-15"], ...params.slice(1)]),
    credentials: admin,
    region: "us-east-1",
    service: "ec2",
  });
}

function ebs(method: string, path: string, json?: unknown): Promise<Reply> {
  return signedCall({
    url: daemon.url,
    method,
    path,
    headers: json === undefined ? undefined : { "content-type": "application/json" },
    body: json === undefined ? undefined : JSON.stringify(json),
    credentials: admin,
    region: "us-east-1",
    service: "ebs",
  });
}

const tagSpec = (type: string, key: string, value = "v"): Param[] => [
  ["TagSpecification.1.ResourceType", type],
  ["TagSpecification.1.Tag.1.Key", key],
  ["TagSpecification.1.Tag.1.Value", value],
];
const ed25519 = Buffer.from(
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBV1kP9dW5o3i5Y0cGm6d0Ty3n8bq7w4d6W4g7V2d1kQ fuzz",
).toString("base64");

const code = (r: Reply) => /<Code>([^<]+)<\/Code>/.exec(r.body.toString())?.[1];

for (const [action, name] of [
  ["DescribeSnapshots", "constructor"],
  ["DescribeImages", "constructor"],
  ["DescribeVolumes", "toString"],
  ["DescribeTags", "__proto__"],
]) {
  test(`${action} with a filter named ${name} is InvalidParameterValue, not InternalError`, async () => {
    const reply = await ec2([
      ["Action", action],
      ["Filter.1.Name", name],
      ["Filter.1.Value.1", "x"],
    ]);
    assert.deepEqual(checkEc2Reply(reply), { ok: true, error: "InvalidParameterValue" });
    assert.match(reply.body.toString(), new RegExp(`The filter &apos;${name}&apos; is invalid`));
    assert.equal(code(reply), "InvalidParameterValue");
    assert.ok(state.unchanged());
  });
}

for (const [method, path] of [
  ["GET", "/snapshots/snap-0123456789abcdef0%ZZ/changedblocks"],
  ["GET", "/snapshots/%E0%A4%A/blocks"],
  ["PUT", "/snapshots/snap-%%410123/blocks/11"],
  ["POST", "/snapshots/completion/%"],
]) {
  test(`EBS ${method} ${path} (a malformed percent escape) is answered 400, not a dropped connection`, async () => {
    const reply = await ebs(method, path);
    assert.deepEqual(checkEbsReply(reply), { ok: true, error: "ValidationException" });
    assert.match(JSON.parse(reply.body.toString()).message, /malformed percent escape/);
    assert.ok(state.unchanged());
  });
}

for (const [name, params] of [
  [
    "ImportKeyPair with a tag key of 300 characters",
    [
      ["Action", "ImportKeyPair"],
      ["KeyName", "k1"],
      ["PublicKeyMaterial", ed25519],
      ...tagSpec("key-pair", "x".repeat(300)),
    ],
  ],
  [
    "CreateKeyPair with an aws: tag",
    [
      ["Action", "CreateKeyPair"],
      ["KeyName", "k2"],
      ["KeyType", "ed25519"],
      ...tagSpec("key-pair", "aws:owner"),
    ],
  ],
  [
    "CreateKeyPair with a tag value of 257 characters",
    [
      ["Action", "CreateKeyPair"],
      ["KeyName", "k3"],
      ["KeyType", "ed25519"],
      ...tagSpec("key-pair", "k", "v".repeat(257)),
    ],
  ],
] as [string, Param[]][]) {
  test(`${name} is InvalidParameterValue, and no key pair is made`, async () => {
    const reply = await ec2(params);
    assert.deepEqual(checkEc2Reply(reply), { ok: true, error: "InvalidParameterValue" });
    assert.ok(state.unchanged());
  });
}

test("CopySnapshot with a Description over 255 characters is InvalidParameterValue, and copies nothing", async () => {
  const reply = await ec2([
    ["Action", "CopySnapshot"],
    ["SourceRegion", "us-east-1"],
    ["SourceSnapshotId", snapshotId],
    ["Description", "\u00e9".repeat(256)],
  ]);
  assert.deepEqual(checkEc2Reply(reply), { ok: true, error: "InvalidParameterValue" });
  assert.match(reply.body.toString(), /Description exceeds 255 characters/);
  assert.ok(state.unchanged());
});

for (const [name, body, reason] of [
  [
    "a Description over 255 characters",
    { VolumeSize: 1, Description: "d".repeat(256) },
    "INVALID_PARAMETER_VALUE",
  ],
  ["an aws: tag", { VolumeSize: 1, Tags: [{ Key: "aws:x", Value: "v" }] }, "INVALID_TAG"],
  [
    "U+0000 in a tag value (PostgreSQL cannot store it)",
    { VolumeSize: 1, Tags: [{ Key: "k", Value: "nul\u0000here" }] },
    "INVALID_PARAMETER_VALUE",
  ],
  [
    "a tag key over 127 characters",
    { VolumeSize: 1, Tags: [{ Key: "k".repeat(128), Value: "v" }] },
    "INVALID_TAG",
  ],
  [
    "51 tags",
    { VolumeSize: 1, Tags: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: "v" })) },
    "INVALID_TAG",
  ],
] as [string, unknown, string][]) {
  test(`EBS StartSnapshot with ${name} is a ValidationException (${reason}), and starts nothing`, async () => {
    const reply = await ebs("POST", "/snapshots", body);
    assert.deepEqual(checkEbsReply(reply), { ok: true, error: "ValidationException" });
    assert.equal(JSON.parse(reply.body.toString()).Reason, reason);
    assert.ok(state.unchanged());
  });
}

test("DescribeSnapshots with 5,000 status filter values answers, as with one", async () => {
  const values: Param[] = Array.from({ length: 5_000 }, (_, i) => [`Filter.1.Value.${i + 1}`, `s${i}`]);
  const many = await ec2([
    ["Action", "DescribeSnapshots"],
    ["Filter.1.Name", "status"],
    ...values,
    ["Filter.1.Value.5001", "complet*"],
  ]);
  assert.deepEqual(checkEc2Reply(many), { ok: true });
  assert.match(many.body.toString(), new RegExp(`<snapshotId>${snapshotId}</snapshotId>`));
});

test("DescribeImages with 33,000 Owners answers (more than SQLite's 32,766 variables)", async () => {
  const owners: Param[] = Array.from({ length: 33_000 }, (_, i) => [
    `Owner.${i + 1}`,
    `9${String(i).padStart(11, "0")}`,
  ]);
  const reply = await ec2([["Action", "DescribeImages"], ...owners]);
  assert.deepEqual(checkEc2Reply(reply), { ok: true });
  assert.match(reply.body.toString(), /<imagesSet\/>/);
});

test("DescribeImages with a name filter of 275,000 characters answers (SQLite's GLOB limit is 50,000 bytes)", async () => {
  const reply = await ec2([
    ["Action", "DescribeImages"],
    ["Filter.1.Name", "name"],
    ["Filter.1.Value.1", "x".repeat(275_000)],
    ["MaxResults", "5"],
  ]);
  assert.deepEqual(checkEc2Reply(reply), { ok: true });
  assert.match(reply.body.toString(), /<imagesSet\/>/);
});

for (const target of ["//", "//a:b", "//%", "///snapshots"]) {
  test(`GET ${target} is answered InvalidAction (no route), and the daemon lives on (it crashed on an unhandled rejection)`, async () => {
    const reply = await send(new URL(daemon.url), "GET", target, {});
    assert.equal(reply.status, 400);
    assert.match(reply.body.toString(), /<Code>InvalidAction<\/Code>/);
    const health = await fetch(`${daemon.url}/health`);
    assert.equal((await health.json()).status, "ok");
    assert.equal(daemon.proc.exitCode, null);
  });
}
