import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { CopySnapshotCommand, DescribeRegionsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { isStrataError } from "../../errors.ts";
import { capturingHandler, fromSdkRequest, type SdkHttpRequest, startVerifyingServer } from "./testing.ts";
import { type AccessKeyLookup, type SignedRequest, verifySigV4 } from "./verify-sigv4.ts";

const ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const ACCOUNT_ID = "123456789012";
const credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET };
const lookup: AccessKeyLookup = (id) =>
  id === ACCESS_KEY_ID ? { accountId: ACCOUNT_ID, secretAccessKey: SECRET } : undefined;

async function rejects(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (e) => isStrataError(e) && e.code === code);
}

/** Signs a DescribeRegions with SDK v3 and returns what the server would receive. */
async function sdkRequest(options: { systemClockOffset?: number } = {}): Promise<SignedRequest> {
  const handler = capturingHandler();
  const client = new EC2Client({
    region: "us-west-2",
    endpoint: "http://127.0.0.1:4566",
    credentials,
    requestHandler: handler,
    ...options,
  });
  await client.send(new DescribeRegionsCommand({}));
  return fromSdkRequest(handler.requests[0]);
}

/** A presigned URL as the server receives it: path, decoded query and a Host header. */
function fromUrl(href: string, host = new URL(href).host): SignedRequest {
  const url = new URL(href);
  return {
    method: "GET",
    path: url.pathname,
    query: url.searchParams,
    headers: { host },
    body: Buffer.alloc(0),
  };
}

test("a request signed by SDK v3 verifies, with region and service from its credential scope", async () => {
  const request = await sdkRequest();
  assert.deepEqual(await verifySigV4(request, lookup), {
    accountId: ACCOUNT_ID,
    accessKeyId: ACCESS_KEY_ID,
    region: "us-west-2",
    service: "ec2",
  });
});

test("tampering with the body, a signed header or the secret gives SignatureDoesNotMatch", async () => {
  const request = await sdkRequest();
  const body = Buffer.from(request.body.toString().replace("DescribeRegions", "DescribeVolumes"));
  await rejects(verifySigV4({ ...request, body }, lookup), "SignatureDoesNotMatch");
  const headers = { ...request.headers, "amz-sdk-request": "attempt=2; max=3" };
  await rejects(verifySigV4({ ...request, headers }, lookup), "SignatureDoesNotMatch");
  const host = { ...request.headers, host: "127.0.0.1:4567" };
  await rejects(verifySigV4({ ...request, headers: host }, lookup), "SignatureDoesNotMatch");
  const { "amz-sdk-request": _, ...missing } = request.headers as Record<string, string>;
  await rejects(verifySigV4({ ...request, headers: missing }, lookup), "SignatureDoesNotMatch");
  const otherSecret: AccessKeyLookup = () => ({ accountId: ACCOUNT_ID, secretAccessKey: `${SECRET}x` });
  await rejects(verifySigV4(request, otherSecret), "SignatureDoesNotMatch");
  // Unsigned headers may change (proxies add them), and header names are case-insensitive.
  const extra = { ...request.headers, "X-Forwarded-For": "10.0.0.1", "User-Agent": "other" };
  assert.equal((await verifySigV4({ ...request, headers: extra }, lookup)).accountId, ACCOUNT_ID);
});

test("without x-amz-content-sha256 the body itself is hashed, so a changed body does not verify", async () => {
  const signer = new SignatureV4({
    credentials,
    region: "eu-west-1",
    service: "ec2",
    sha256: Hash.bind(null, "sha256"),
    applyChecksum: false,
  });
  const body = "Action=DescribeRegions&Version=2016-11-15";
  const signed = await signer.sign(
    new HttpRequest({
      method: "POST",
      hostname: "localhost",
      path: "/",
      headers: { host: "localhost:4566", "content-type": "application/x-www-form-urlencoded" },
      body,
    }),
  );
  assert.equal(signed.headers["x-amz-content-sha256"], undefined);
  const request: SignedRequest = {
    method: "POST",
    path: "/",
    query: {},
    headers: signed.headers,
    body: Buffer.from(body),
  };
  assert.equal((await verifySigV4(request, lookup)).region, "eu-west-1");
  await rejects(
    verifySigV4({ ...request, body: Buffer.from(`${body}&X=1`) }, lookup),
    "SignatureDoesNotMatch",
  );
});

test("UNSIGNED-PAYLOAD and a signed path are reproduced (a REST service such as EBS)", async () => {
  const signer = new SignatureV4({
    credentials,
    region: "us-east-1",
    service: "ebs",
    sha256: Hash.bind(null, "sha256"),
  });
  // As the SDK sends it: labels percent-encoded once in the path; the signer encodes them again.
  const path = "/snapshots/snap-0123456789abcdef0/blocks/7";
  const signed = await signer.sign(
    new HttpRequest({
      method: "PUT",
      hostname: "localhost",
      path,
      query: { "x-token": "a b/c" },
      headers: {
        host: "localhost",
        "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
        "x-amz-data-length": "524288",
      },
      body: Buffer.alloc(16),
    }),
  );
  const request: SignedRequest = {
    method: "PUT",
    path,
    query: new URLSearchParams("x-token=a%20b%2Fc"),
    headers: signed.headers,
    body: Buffer.alloc(16, 1),
  };
  assert.equal((await verifySigV4(request, lookup)).service, "ebs");
  await rejects(verifySigV4({ ...request, path: `${path}8` }, lookup), "SignatureDoesNotMatch");
  await rejects(verifySigV4({ ...request, query: { "x-token": "a b" } }, lookup), "SignatureDoesNotMatch");
});

test("with signedPayload (EC2) the body received is what is verified: UNSIGNED-PAYLOAD is refused", async () => {
  const signer = new SignatureV4({
    credentials,
    region: "us-east-1",
    service: "ec2",
    sha256: Hash.bind(null, "sha256"),
  });
  const sign = async (body: string, payloadHash?: string) => {
    const headers: Record<string, string> = {
      host: "localhost:4566",
      "content-type": "application/x-www-form-urlencoded",
    };
    if (payloadHash) headers["x-amz-content-sha256"] = payloadHash;
    const signed = await signer.sign(new HttpRequest({ method: "POST", path: "/", headers, body }));
    return { method: "POST", path: "/", query: {}, headers: signed.headers, body: Buffer.from(body) };
  };
  const strict = { signedPayload: true };
  const body = "Action=DescribeRegions&Version=2016-11-15";
  const unsigned = await sign(body, "UNSIGNED-PAYLOAD");
  // SigV4 as such accepts it (the EBS rule) ...
  assert.equal((await verifySigV4(unsigned, lookup)).service, "ec2");
  // ... the EC2 endpoint does not, neither as signed nor with another action in the body.
  await rejects(verifySigV4(unsigned, lookup, new Date(), strict), "SignatureDoesNotMatch");
  const swapped = { ...unsigned, body: Buffer.from("Action=DeleteVolume&VolumeId=vol-1") };
  await rejects(verifySigV4(swapped, lookup, new Date(), strict), "SignatureDoesNotMatch");
  // The body's hash, with or without the header, verifies; a header claiming another hash does not.
  assert.equal((await verifySigV4(await sign(body), lookup, new Date(), strict)).service, "ec2");
  const sha = createHash("sha256").update(body).digest("hex");
  assert.equal((await verifySigV4(await sign(body, sha), lookup, new Date(), strict)).service, "ec2");
  const other = await sign(body, createHash("sha256").update("x").digest("hex"));
  await rejects(verifySigV4(other, lookup, new Date(), strict), "SignatureDoesNotMatch");
});

test("an unknown access key is AuthFailure; no signature at all is AuthFailure", async () => {
  const request = await sdkRequest();
  await rejects(
    verifySigV4(request, () => undefined),
    "AuthFailure",
  );
  const { authorization: _, ...unsigned } = request.headers as Record<string, string>;
  await rejects(verifySigV4({ ...request, headers: unsigned }, lookup), "AuthFailure");
});

test("a request more than 5 minutes from the server clock is RequestExpired", async () => {
  const skewed = await sdkRequest({ systemClockOffset: -10 * 60_000 });
  await rejects(verifySigV4(skewed, lookup), "RequestExpired");
  const request = await sdkRequest();
  const later = new Date(Date.now() + 10 * 60_000);
  await rejects(verifySigV4(request, lookup, later), "RequestExpired");
  const earlier = new Date(Date.now() - 10 * 60_000);
  await rejects(verifySigV4(request, lookup, earlier), "RequestExpired");
  assert.ok(await verifySigV4(request, lookup, new Date(Date.now() + 4 * 60_000)));
});

test("a URL presigned with @smithy/signature-v4 verifies until it expires", async () => {
  const signer = new SignatureV4({
    credentials,
    region: "us-east-1",
    service: "ec2",
    sha256: Hash.bind(null, "sha256"),
  });
  const signingDate = new Date();
  const presigned = await signer.presign(
    new HttpRequest({
      method: "GET",
      protocol: "http:",
      hostname: "127.0.0.1",
      port: 4566,
      path: "/",
      query: { Action: "DescribeRegions", Version: "2016-11-15", "RegionName.1": "us-east-1 (a+b)" },
      headers: { host: "127.0.0.1:4566" },
    }),
    { signingDate, expiresIn: 300 },
  );
  const url = new URL("http://127.0.0.1:4566/");
  for (const [k, v] of Object.entries(presigned.query ?? {})) url.searchParams.set(k, String(v));
  const request = fromUrl(url.href);
  assert.deepEqual(await verifySigV4(request, lookup), {
    accountId: ACCOUNT_ID,
    accessKeyId: ACCESS_KEY_ID,
    region: "us-east-1",
    service: "ec2",
  });
  await rejects(verifySigV4(request, lookup, new Date(signingDate.getTime() + 301_000)), "RequestExpired");
  const tampered = new URL(url);
  tampered.searchParams.set("X-Amz-Expires", "3600");
  await rejects(verifySigV4(fromUrl(tampered.href), lookup), "SignatureDoesNotMatch");
});

test("SDK v3's CopySnapshot PresignedUrl verifies, but only with the host it signed: no port", async () => {
  const handler = capturingHandler(
    "<CopySnapshotResponse><snapshotId>snap-1</snapshotId></CopySnapshotResponse>",
  );
  const client = new EC2Client({
    region: "us-west-2",
    endpoint: "http://127.0.0.1:4566",
    credentials,
    requestHandler: handler,
  });
  await client.send(
    new CopySnapshotCommand({ SourceRegion: "eu-west-1", SourceSnapshotId: "snap-0123456789abcdef0" }),
  );
  const body = new URLSearchParams(String((handler.requests[0] as SdkHttpRequest).body));
  const presignedUrl = body.get("PresignedUrl")!;
  // The SDK forces https and signs `host: <hostname>`, though the URL keeps the endpoint's port.
  assert.match(presignedUrl, /^https:\/\/127\.0\.0\.1:4566\/\?/);
  const caller = await verifySigV4(fromUrl(presignedUrl, "127.0.0.1"), lookup);
  assert.deepEqual([caller.region, caller.service], ["eu-west-1", "ec2"]);
  await rejects(verifySigV4(fromUrl(presignedUrl), lookup), "SignatureDoesNotMatch");
});

test("over real HTTP, SDK v3 verifies, and after RequestExpired corrects its clock and retries", async () => {
  // The server's clock is 10 minutes ahead of the client's; its Date header tells the SDK so.
  const server = await startVerifyingServer(lookup, 10 * 60_000);
  try {
    const client = new EC2Client({ region: "us-west-2", endpoint: server.url, credentials });
    await client.send(new DescribeRegionsCommand({}));
    const outcomes = server.received.map((r) => (isStrataError(r.outcome) ? r.outcome.code : "ok"));
    assert.deepEqual(outcomes, ["RequestExpired", "ok"]);
    const wrong = new EC2Client({
      region: "us-west-2",
      endpoint: server.url,
      credentials: { ...credentials, secretAccessKey: "wrong" },
      systemClockOffset: 10 * 60_000,
      maxAttempts: 1,
    });
    await assert.rejects(wrong.send(new DescribeRegionsCommand({})), { name: "SignatureDoesNotMatch" });
  } finally {
    await server.close();
  }
});
