// The aws CLI (botocore, Debian's awscli package) against a server running the verifier.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { promisify } from "node:util";
import { bootstrapAccounts } from "../../accounts/bootstrap.ts";
import { openAccountStore } from "../../accounts/sqlite-account-store.ts";
import { isStrataError } from "../../errors.ts";
import { startVerifyingServer } from "./testing.ts";
import { type AccessKeyLookup, type VerifiedCaller, verifySigV4 } from "./verify-sigv4.ts";

// Explicit path: a pyenv shim named aws may come first on PATH.
const AWS = "/usr/bin/aws";
const run = promisify(execFile);
const ACCESS_KEY_ID = "AKIAZZZZZZZZZZZZZZZZ";
const SECRET = "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";
const lookup: AccessKeyLookup = (id) =>
  id === ACCESS_KEY_ID ? { accountId: "210987654321", secretAccessKey: SECRET } : undefined;

function awsEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: tmpdir(),
    AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: SECRET,
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PAGER: "",
    ...overrides,
  };
}

function noAws(t: TestContext): boolean {
  if (existsSync(AWS)) return false;
  t.skip(`${AWS} is absent (scripts/setup.sh installs Debian's awscli)`);
  return true;
}

function callers(outcomes: { outcome: VerifiedCaller | Error }[]): (VerifiedCaller | string)[] {
  return outcomes.map(({ outcome }) =>
    outcome instanceof Error ? (isStrataError(outcome) ? outcome.code : outcome.message) : outcome,
  );
}

test("aws ec2 describe-regions verifies as region us-west-2, service ec2", async (t) => {
  if (noAws(t)) return;
  const server = await startVerifyingServer(lookup);
  try {
    const { stdout } = await run(
      AWS,
      ["--endpoint-url", server.url, "--region", "us-west-2", "ec2", "describe-regions"],
      { env: awsEnv() },
    );
    assert.deepEqual(JSON.parse(stdout), { Regions: [] });
    assert.deepEqual(callers(server.received), [
      { accountId: "210987654321", accessKeyId: ACCESS_KEY_ID, region: "us-west-2", service: "ec2" },
    ]);
    // A wrong secret: the CLI shows the server's code.
    const failed = run(
      AWS,
      ["--endpoint-url", server.url, "--region", "us-west-2", "ec2", "describe-regions"],
      {
        env: awsEnv({ AWS_SECRET_ACCESS_KEY: `${SECRET}0` }),
      },
    );
    await assert.rejects(failed, (e: { stderr: string }) => /SignatureDoesNotMatch/.test(e.stderr));
  } finally {
    await server.close();
  }
});

test("the bootstrap credentials file works with the aws CLI as printed", async (t) => {
  if (noAws(t)) return;
  const dataDir = mkdtempSync(join(tmpdir(), "strata-awscli-"));
  const store = openAccountStore(dataDir);
  const server = await startVerifyingServer((id) => store.lookupAccessKey(id));
  try {
    const boot = await bootstrapAccounts(dataDir, { store, endpointUrl: server.url });
    assert.match(
      boot.message,
      /AWS_SHARED_CREDENTIALS_FILE=\S+ aws --endpoint-url http:\/\/127\.0\.0\.1:\d+ --region us-east-1 ec2 describe-regions/,
    );
    const env = awsEnv({ AWS_SHARED_CREDENTIALS_FILE: boot.credentialsPath });
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_SECRET_ACCESS_KEY;
    await run(AWS, ["--endpoint-url", server.url, "--region", "us-east-1", "ec2", "describe-regions"], {
      env,
    });
    const [caller] = callers(server.received) as VerifiedCaller[];
    assert.equal(caller.accountId, boot.admin.id);
    assert.equal(caller.region, "us-east-1");
  } finally {
    await server.close();
    store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("aws ebs (REST, path labels encoded twice in the canonical request) verifies as service ebs", async (t) => {
  if (noAws(t)) return;
  const server = await startVerifyingServer(lookup);
  try {
    const args = ["ebs", "list-snapshot-blocks", "--snapshot-id", "snap-a b=c+d/é~"];
    await run(AWS, ["--endpoint-url", server.url, "--region", "eu-west-1", ...args], { env: awsEnv() });
    const [{ request, outcome }] = server.received;
    assert.equal(request.path, "/snapshots/snap-a%20b%3Dc%2Bd%2F%C3%A9~/blocks");
    assert.deepEqual(outcome, {
      accountId: "210987654321",
      accessKeyId: ACCESS_KEY_ID,
      region: "eu-west-1",
      service: "ebs",
    });
  } finally {
    await server.close();
  }
});

test("the PresignedUrl aws ec2 copy-snapshot adds verifies, with the endpoint's host and port", async (t) => {
  if (noAws(t)) return;
  const server = await startVerifyingServer(lookup);
  try {
    const args = ["ec2", "copy-snapshot", "--source-region", "eu-west-1", "--source-snapshot-id", "snap-1"];
    await run(AWS, ["--endpoint-url", server.url, "--region", "us-west-2", ...args], { env: awsEnv() });
    const presignedUrl = new URLSearchParams(server.received[0].request.body.toString()).get("PresignedUrl")!;
    const url = new URL(presignedUrl);
    assert.equal(url.origin, server.url, "botocore keeps the endpoint's scheme and port");
    const request = {
      method: "GET",
      path: url.pathname,
      query: url.searchParams,
      headers: { host: url.host },
      body: Buffer.alloc(0),
    };
    const caller = await verifySigV4(request, lookup);
    assert.deepEqual([caller.region, caller.service], ["eu-west-1", "ec2"]);
  } finally {
    await server.close();
  }
});

test("a URL from aws s3 presign verifies (S3: path signed as sent, UNSIGNED-PAYLOAD) until it expires", async (t) => {
  if (noAws(t)) return;
  const { stdout } = await run(
    AWS,
    [
      "--endpoint-url",
      "http://127.0.0.1:4566",
      "--region",
      "us-west-2",
      "s3",
      "presign",
      "s3://bucket/dir/a b+c~.txt",
      "--expires-in",
      "60",
    ],
    { env: awsEnv() },
  );
  const url = new URL(stdout.trim());
  const request = {
    method: "GET",
    path: url.pathname,
    query: url.searchParams,
    headers: { host: url.host },
    body: Buffer.alloc(0),
  };
  assert.equal(request.path, "/bucket/dir/a%20b%2Bc~.txt");
  const caller = await verifySigV4(request, lookup);
  assert.deepEqual([caller.region, caller.service], ["us-west-2", "s3"]);
  const later = new Date(Date.now() + 120_000);
  await assert.rejects(verifySigV4(request, lookup, later), (e) => isStrataError(e, "RequestExpired"));
});
