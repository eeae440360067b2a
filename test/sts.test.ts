// STS GetCallerIdentity on the EC2 endpoint, as Packer and Terraform call it first: the aws CLI
// (botocore), a request signed here with the SDK's signer, and unsigned or badly signed calls,
// which get STS's error document (ErrorResponse/Error/Code), not EC2's.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import { adminCredentials, type Credentials, createAccount, signedQueryPost } from "./ec2-helpers.ts";
import { tempDir } from "./helpers.ts";

const run = promisify(execFile);
const dataDir = tempDir();
let daemon: Daemon;

before(async () => {
  daemon = await startDaemon(dataDir, "us-east-1");
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

async function awsSts(env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(
      "/usr/bin/aws",
      ["--endpoint-url", daemon.url, "--output", "json", "sts", "get-caller-identity"],
      {
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: dataDir,
          AWS_CONFIG_FILE: "/dev/null",
          AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
          AWS_EC2_METADATA_DISABLED: "true",
          AWS_PAGER: "",
          AWS_DEFAULT_REGION: "us-east-1",
          ...env,
        },
      },
    );
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

const post = (body: string, credentials?: Credentials, service = "sts") =>
  signedQueryPost(daemon, body, credentials, service);

const tag = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
const CALL = "Action=GetCallerIdentity&Version=2011-06-15";

test("aws sts get-caller-identity answers the account of the credentials, as its root", async () => {
  const admin = adminCredentials(dataDir);
  const bob = await createAccount(dataDir, "bob");
  const asAdmin = await awsSts({
    AWS_ACCESS_KEY_ID: admin.accessKeyId,
    AWS_SECRET_ACCESS_KEY: admin.secretAccessKey,
  });
  assert.equal(asAdmin.code, 0, asAdmin.err);
  const adminId = JSON.parse(asAdmin.out);
  assert.match(adminId.Account, /^\d{12}$/);
  assert.deepEqual(adminId, {
    UserId: adminId.Account,
    Account: adminId.Account,
    Arn: `arn:aws:iam::${adminId.Account}:root`,
  });
  const asBob = await awsSts({
    AWS_ACCESS_KEY_ID: bob.accessKeyId,
    AWS_SECRET_ACCESS_KEY: bob.secretAccessKey,
  });
  assert.equal(asBob.code, 0, asBob.err);
  assert.deepEqual(JSON.parse(asBob.out), {
    UserId: bob.accountId,
    Account: bob.accountId,
    Arn: `arn:aws:iam::${bob.accountId}:root`,
  });
  assert.notEqual(bob.accountId, adminId.Account);

  const wrongSecret = await awsSts({
    AWS_ACCESS_KEY_ID: bob.accessKeyId,
    AWS_SECRET_ACCESS_KEY: "x".repeat(40),
  });
  assert.notEqual(wrongSecret.code, 0);
  assert.match(wrongSecret.err, /SignatureDoesNotMatch/);
  const unknownKey = await awsSts({
    AWS_ACCESS_KEY_ID: "AKIAUNKNOWNUNKNOWN00",
    AWS_SECRET_ACCESS_KEY: admin.secretAccessKey,
  });
  assert.match(unknownKey.err, /InvalidClientTokenId/);
});

test("a signed POST gets STS's XML; unsigned, badly signed and other actions get STS's error document", async () => {
  const admin = adminCredentials(dataDir);
  const ok = await post(CALL, admin);
  assert.equal(ok.status, 200, ok.xml);
  assert.match(
    ok.xml,
    /^<GetCallerIdentityResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/">/,
  );
  assert.match(ok.xml, /<GetCallerIdentityResult><Arn>arn:aws:iam::\d{12}:root<\/Arn>/);
  assert.equal(tag(ok.xml, "Account"), tag(ok.xml, "UserId"));
  assert.match(tag(ok.xml, "RequestId") ?? "", /^[0-9a-f-]{36}$/);

  const errorOf = (xml: string) => [
    /^<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><Error><Type>Sender<\/Type>/.test(
      xml,
    ),
    tag(xml, "Code"),
  ];
  // Unsigned: a GET naming the action is STS's (a POST's action is in its body, read only once signed).
  const unsigned = await fetch(`${daemon.url}/?${CALL}`);
  assert.equal(unsigned.status, 403);
  assert.deepEqual(errorOf(await unsigned.text()), [true, "MissingAuthenticationToken"]);
  const badSecret = await post(CALL, { accessKeyId: admin.accessKeyId, secretAccessKey: "y".repeat(40) });
  assert.equal(badSecret.status, 403);
  assert.deepEqual(errorOf(badSecret.xml), [true, "SignatureDoesNotMatch"]);
  const unknownKey = await post(CALL, {
    accessKeyId: "AKIAUNKNOWNUNKNOWN00",
    secretAccessKey: "z".repeat(40),
  });
  assert.deepEqual(errorOf(unknownKey.xml), [true, "InvalidClientTokenId"]);
  const other = await post("Action=AssumeRole&Version=2011-06-15&RoleArn=x&RoleSessionName=y", admin);
  assert.equal(other.status, 400);
  assert.deepEqual(errorOf(other.xml), [true, "InvalidAction"]);
  const wrongVersion = await post("Action=GetCallerIdentity&Version=2016-11-15", admin);
  assert.deepEqual(errorOf(wrongVersion.xml), [true, "InvalidAction"]);

  // The same endpoint still answers EC2 for requests signed for ec2, with EC2's error shape.
  const ec2 = await post("Action=GetCallerIdentity&Version=2011-06-15", admin, "ec2");
  assert.equal(ec2.status, 400);
  assert.match(ec2.xml, /<Response><Errors><Error><Code>InvalidAction<\/Code>/);
  const describe = await post("Action=DescribeRegions&Version=2016-11-15", admin, "ec2");
  assert.equal(describe.status, 200);
  assert.match(describe.xml, /<DescribeRegionsResponse/);
});
