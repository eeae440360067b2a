// IAM ListAccountAliases on the EC2 endpoint, as the web console's account menu calls it: the SDK's
// IAMClient and the aws CLI see the caller's own alias (or none), never another account's;
// unsigned, badly signed and other IAM actions get IAM's error document (ErrorResponse/Error).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DescribeRegionsCommand } from "@aws-sdk/client-ec2";
import { GetUserCommand, IAMClient, ListAccountAliasesCommand } from "@aws-sdk/client-iam";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import {
  type Account,
  adminCredentials,
  awsCli,
  awsCliError,
  type Credentials,
  createAccount,
  ec2,
  signedQueryPost,
} from "./ec2-helpers.ts";
import { tempDir } from "./helpers.ts";

const dataDir = tempDir();
let daemon: Daemon;
let aliased: Account;
let plain: Account;

before(async () => {
  // eu-west-1 only: IAM is global, the SDKs sign it for us-east-1 whatever regions the server has.
  daemon = await startDaemon(dataDir, "eu-west-1");
  aliased = await createAccount(dataDir, "acme", { alias: "acme-corp" });
  plain = await createAccount(dataDir, "plain");
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

function iam(credentials: Credentials): IAMClient {
  return new IAMClient({ endpoint: daemon.url, region: "us-east-1", credentials, maxAttempts: 1 });
}

const keyEnv = (c: Credentials) => ({
  AWS_ACCESS_KEY_ID: c.accessKeyId,
  AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
  AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
});

test("ListAccountAliases answers the caller's own alias, [] without one (SDK)", async () => {
  const own = await iam(aliased).send(new ListAccountAliasesCommand({}));
  assert.deepEqual(own.AccountAliases, ["acme-corp"]);
  assert.equal(own.IsTruncated, false);
  assert.match(own.$metadata.requestId ?? "", /^[0-9a-f-]{36}$/);
  const none = await iam(plain).send(new ListAccountAliasesCommand({ MaxItems: 10 }));
  assert.deepEqual(none.AccountAliases, []);
  // The admin account has no alias; the provider account's alias (`strata`) is its own only.
  const admin = await iam(adminCredentials(dataDir)).send(new ListAccountAliasesCommand({}));
  assert.deepEqual(admin.AccountAliases, []);
  // The same endpoint still answers EC2 for requests signed for ec2.
  const regions = await ec2(daemon, aliased, "eu-west-1").send(new DescribeRegionsCommand({}));
  assert.deepEqual(
    regions.Regions?.map((r) => r.RegionName),
    ["eu-west-1"],
  );
});

test("aws iam list-account-aliases: each account sees only its own alias", async () => {
  assert.deepEqual(await awsCli(daemon, dataDir, ["iam", "list-account-aliases"], keyEnv(aliased)), {
    AccountAliases: ["acme-corp"],
  });
  const plainOut = await awsCli(daemon, dataDir, ["iam", "list-account-aliases"], keyEnv(plain));
  assert.deepEqual(plainOut.AccountAliases, []);
  const admin = await awsCli(daemon, dataDir, ["iam", "list-account-aliases"]);
  assert.deepEqual(admin.AccountAliases, []);

  const wrongSecret = await awsCliError(daemon, dataDir, ["iam", "list-account-aliases"], {
    ...keyEnv(aliased),
    AWS_SECRET_ACCESS_KEY: "x".repeat(40),
  });
  assert.match(wrongSecret, /SignatureDoesNotMatch/);
  const unknownKey = await awsCliError(daemon, dataDir, ["iam", "list-account-aliases"], {
    ...keyEnv(aliased),
    AWS_ACCESS_KEY_ID: "AKIAUNKNOWNUNKNOWN00",
  });
  assert.match(unknownKey, /InvalidClientTokenId/);
  const otherAction = await awsCliError(daemon, dataDir, ["iam", "list-users"], keyEnv(aliased));
  assert.match(otherAction, /InvalidAction/);
});

const post = (body: string, credentials?: Credentials, service = "iam") =>
  signedQueryPost(daemon, body, credentials, service);

const tag = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
const CALL = "Action=ListAccountAliases&Version=2010-05-08";
const NS = "https://iam.amazonaws.com/doc/2010-05-08/";

/** [IAM's error document with Type Sender, its Code]. */
const errorOf = (xml: string) => [
  xml.startsWith(`<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type>`),
  tag(xml, "Code"),
];

test("IAM's XML on success; unsigned, badly signed and unknown actions get IAM's error document", async () => {
  const ok = await post(CALL, aliased);
  assert.equal(ok.status, 200, ok.xml);
  assert.match(
    ok.xml,
    new RegExp(
      `^<ListAccountAliasesResponse xmlns="${NS.replaceAll(".", "\\.")}"><ListAccountAliasesResult>` +
        "<IsTruncated>false</IsTruncated><AccountAliases><member>acme-corp</member></AccountAliases>",
    ),
  );
  assert.match(tag(ok.xml, "RequestId") ?? "", /^[0-9a-f-]{36}$/);

  // Unsigned: a GET naming the action is IAM's (a POST's action is in its body, read only once
  // signed, so an unsigned POST gets EC2's AuthFailure: refused either way).
  const unsigned = await fetch(`${daemon.url}/?${CALL}`);
  assert.equal(unsigned.status, 403);
  assert.deepEqual(errorOf(await unsigned.text()), [true, "MissingAuthenticationToken"]);
  const unsignedPost = await post(CALL);
  assert.equal(unsignedPost.status, 401);
  assert.match(unsignedPost.xml, /<Code>AuthFailure<\/Code>/);
  assert.doesNotMatch(unsignedPost.xml, /acme-corp/);

  const badSecret = await post(CALL, { accessKeyId: aliased.accessKeyId, secretAccessKey: "y".repeat(40) });
  assert.equal(badSecret.status, 403);
  assert.deepEqual(errorOf(badSecret.xml), [true, "SignatureDoesNotMatch"]);
  const unknownKey = await post(CALL, {
    accessKeyId: "AKIAUNKNOWNUNKNOWN00",
    secretAccessKey: "z".repeat(40),
  });
  assert.equal(unknownKey.status, 403);
  assert.deepEqual(errorOf(unknownKey.xml), [true, "InvalidClientTokenId"]);

  const other = await post("Action=CreateAccountAlias&Version=2010-05-08&AccountAlias=evil", aliased);
  assert.equal(other.status, 400);
  assert.deepEqual(errorOf(other.xml), [true, "InvalidAction"]);
  const wrongVersion = await post("Action=ListAccountAliases&Version=2011-06-15", aliased);
  assert.deepEqual(errorOf(wrongVersion.xml), [true, "InvalidAction"]);
  // STS's action signed for IAM is not IAM's.
  const stsAction = await post("Action=GetCallerIdentity&Version=2011-06-15", aliased);
  assert.deepEqual(errorOf(stsAction.xml), [true, "InvalidAction"]);
  const badMax = await post(`${CALL}&MaxItems=0`, aliased);
  assert.equal(badMax.status, 400);
  assert.deepEqual(errorOf(badMax.xml), [true, "ValidationError"]);

  // Signed for ec2, the same request is EC2's, in EC2's error shape (here: the signing region
  // us-east-1 is not one this server has, which EC2 checks first).
  const asEc2 = await post(CALL, aliased, "ec2");
  assert.equal(asEc2.status, 400);
  assert.match(asEc2.xml, /<Response><Errors><Error><Code>InvalidRegion<\/Code>/);
});

test("the SDK sees IAM's errors as typed exceptions with IAM's codes", async () => {
  await assert.rejects(iam(aliased).send(new GetUserCommand({})), (e: Error & { $metadata?: object }) => {
    assert.equal(e.name, "InvalidAction", String(e));
    return true;
  });
  await assert.rejects(
    iam({ accessKeyId: plain.accessKeyId, secretAccessKey: "w".repeat(40) }).send(
      new ListAccountAliasesCommand({}),
    ),
    (e: Error) => {
      assert.equal(e.name, "SignatureDoesNotMatch", String(e));
      return true;
    },
  );
});
