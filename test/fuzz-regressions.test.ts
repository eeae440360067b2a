// Requests the fuzzers (test/ec2-fuzz.test.ts, test/ebs-fuzz.test.ts) found mishandled, each
// replayed as found, against a real daemon: the error EC2 or EBS gives, and no state change.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import { adminCredentials, type Credentials } from "./ec2-helpers.ts";
import type { Param } from "./fuzz/ec2-values.ts";
import { checkEbsReply, checkEc2Reply } from "./fuzz/oracle.ts";
import { StateWatch } from "./fuzz/state.ts";
import { encodeParams, type Reply, signedCall } from "./fuzz/wire.ts";
import { tempDir } from "./helpers.ts";

const dataDir = tempDir();
let daemon: Daemon;
let admin: Credentials;
let state: StateWatch;

before(async () => {
  daemon = await startDaemon(dataDir);
  admin = adminCredentials(dataDir);
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

function ebs(method: string, path: string): Promise<Reply> {
  return signedCall({
    url: daemon.url,
    method,
    path,
    credentials: admin,
    region: "us-east-1",
    service: "ebs",
  });
}

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
