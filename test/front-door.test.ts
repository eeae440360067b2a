// What reaches the daemon's TCP port: only requests addressed to one of its own names (no DNS
// rebinding), from its own origin (no cross-site requests), with the EC2 body covered by the
// signature (no UNSIGNED-PAYLOAD, so a captured signature cannot carry another action).
import assert from "node:assert/strict";
import { request } from "node:http";
import { hostname } from "node:os";
import { after, before, test } from "node:test";
import { DescribeVolumesCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { type Daemon, startDaemon } from "./daemon.ts";
import { adminCredentials, type Credentials, ec2 } from "./ec2-helpers.ts";
import { tempDir } from "./helpers.ts";

const dataDir = tempDir();
let daemon: Daemon;
let admin: Credentials;
let adminEc2: EC2Client;

before(async () => {
  daemon = await startDaemon(dataDir);
  admin = adminCredentials(dataDir);
  adminEc2 = ec2(daemon, admin);
});
after(async () => {
  await daemon.kill("SIGTERM");
});

const CREATE_VOLUME = "Action=CreateVolume&Version=2016-11-15&Size=1&AvailabilityZone=us-east-1a";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends exactly these headers (Host included) to the daemon, over its real address. */
function send(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body = "",
): Promise<Answer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers, setHost: false }, (res) => {
      let text = "";
      res.on("data", (d) => {
        text += d;
      });
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** An EC2 Query POST signed for `host` (the SDK's signer), plus unsigned `extra` headers. */
async function signed(
  body: string,
  options: { host?: string; payloadHash?: string; extra?: Record<string, string> } = {},
): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    credentials: admin,
    region: "us-east-1",
    service: "ec2",
    sha256: Hash.bind(null, "sha256"),
  });
  const headers: Record<string, string> = {
    host: options.host ?? new URL(daemon.url).host,
    "content-type": "application/x-www-form-urlencoded; charset=utf-8",
  };
  // The signer takes a present x-amz-content-sha256 as the payload's hash instead of hashing it.
  if (options.payloadHash) headers["x-amz-content-sha256"] = options.payloadHash;
  const r = await signer.sign(new HttpRequest({ method: "POST", path: "/", headers, body }));
  return { ...(r.headers as Record<string, string>), ...options.extra };
}

async function volumeIds(): Promise<string[]> {
  const { Volumes } = await adminEc2.send(new DescribeVolumesCommand({}));
  return Volumes!.map((v) => v.VolumeId!).sort();
}

function errorCode(xml: string): string | undefined {
  return /<Code>([^<]+)<\/Code>/.exec(xml)?.[1];
}

function corsHeaders(a: Answer): string[] {
  return Object.keys(a.headers).filter((h) => h.startsWith("access-control-"));
}

test("UNSIGNED-PAYLOAD is refused on EC2: a signature must cover the body actually sent", async () => {
  const before = await volumeIds();
  // A client that signed its CreateVolume without the body's hash.
  const unsigned = await send(
    daemon.url,
    "POST",
    "/",
    await signed(CREATE_VOLUME, { payloadHash: "UNSIGNED-PAYLOAD" }),
    CREATE_VOLUME,
  );
  assert.equal(unsigned.status, 403, unsigned.body);
  assert.equal(errorCode(unsigned.body), "SignatureDoesNotMatch");
  // The attack it allowed: a captured harmless request's signature carrying another action.
  const describe = "Action=DescribeRegions&Version=2016-11-15";
  const captured = await signed(describe, { payloadHash: "UNSIGNED-PAYLOAD" });
  const harmless = await send(daemon.url, "POST", "/", captured, describe);
  assert.equal(harmless.status, 403, harmless.body);
  const swapped = await send(daemon.url, "POST", "/", captured, CREATE_VOLUME);
  assert.equal(swapped.status, 403, swapped.body);
  assert.equal(errorCode(swapped.body), "SignatureDoesNotMatch");
  assert.deepEqual(await volumeIds(), before, "nothing was created");
  // The same request with its body's hash signed goes through (and the SDK's do, above).
  const ok = await send(daemon.url, "POST", "/", await signed(CREATE_VOLUME), CREATE_VOLUME);
  assert.equal(ok.status, 200, ok.body);
  const id = /<volumeId>(vol-[0-9a-f]+)<\/volumeId>/.exec(ok.body)![1];
  assert.deepEqual(await volumeIds(), [...before, id].sort());
});

test("a Host that is not one of the server's names is refused on EC2, EBS and health, nothing done", async () => {
  const before = await volumeIds();
  // DNS rebinding: evil.example now resolves to 127.0.0.1, so the browser sends its own Host.
  for (const host of ["evil.example", "evil.example:4566", "127.0.0.1.evil.example", "localhost.evil"]) {
    const create = await send(daemon.url, "POST", "/", await signed(CREATE_VOLUME, { host }), CREATE_VOLUME);
    assert.equal(create.status, 400, `${host}: ${create.body}`);
    assert.equal(errorCode(create.body), "InvalidHostHeader", host);
    const health = await send(daemon.url, "GET", "/health", { host });
    assert.equal(health.status, 400, host);
    assert.equal(errorCode(health.body), "InvalidHostHeader", host);
    assert.doesNotMatch(health.body, /"status"/, "no health document leaks");
    const ebs = await send(
      daemon.url,
      "POST",
      "/snapshots",
      { host, "content-type": "application/json" },
      "{}",
    );
    assert.equal(ebs.status, 400, host);
    assert.equal(errorCode(ebs.body), "InvalidHostHeader", host);
  }
  assert.deepEqual(await volumeIds(), before, "nothing was created");
  // Its own loopback names, with or without the port, in any case.
  const port = new URL(daemon.url).port;
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, "LOCALHOST", `[::1]:${port}`, "127.0.0.1"]) {
    const health = await send(daemon.url, "GET", "/health", { host });
    assert.equal(health.status, 200, host);
    assert.equal(JSON.parse(health.body).status, "ok", host);
  }
});

test("a cross-origin request is refused with 403 and no CORS headers, even when validly signed", async () => {
  const before = await volumeIds();
  for (const origin of ["http://evil.example", "null", `https://${new URL(daemon.url).host}`]) {
    const post = await send(
      daemon.url,
      "POST",
      "/",
      await signed(CREATE_VOLUME, { extra: { origin } }),
      CREATE_VOLUME,
    );
    assert.equal(post.status, 403, `${origin}: ${post.body}`);
    assert.equal(errorCode(post.body), "CrossOriginRequestDenied");
    assert.deepEqual(corsHeaders(post), []);
    const preflight = await send(daemon.url, "OPTIONS", "/", {
      host: new URL(daemon.url).host,
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization,x-amz-date",
    });
    assert.equal(preflight.status, 403, origin);
    assert.equal(errorCode(preflight.body), "CrossOriginRequestDenied");
    assert.deepEqual(corsHeaders(preflight), []);
  }
  // A browser's cross-site request without an Origin (a GET) carries Sec-Fetch-Site.
  const crossSite = await send(daemon.url, "GET", "/health", {
    host: new URL(daemon.url).host,
    "sec-fetch-site": "cross-site",
  });
  assert.equal(crossSite.status, 403);
  assert.equal(errorCode(crossSite.body), "CrossOriginRequestDenied");
  assert.deepEqual(await volumeIds(), before, "nothing was created");
  // The server's own origin (a console served from it later) passes.
  const same = await send(
    daemon.url,
    "POST",
    "/",
    await signed(CREATE_VOLUME, { extra: { origin: daemon.url, "sec-fetch-site": "same-origin" } }),
    CREATE_VOLUME,
  );
  assert.equal(same.status, 200, same.body);
  assert.deepEqual(corsHeaders(same), []);
  assert.equal((await volumeIds()).length, before.length + 1);
});

test("bound to 0.0.0.0: the machine's names and --hostname names pass, others do not; a warning", async () => {
  const dir = tempDir();
  const wide = await startDaemon(dir, "us-east-1", {
    args: ["--host", "0.0.0.0", "--hostname", "strata.test,api.strata.test", "--hostname", "third.test"],
  });
  try {
    // The warning goes to stderr, the "listening" line the start waits for to stdout: the two pipes
    // may arrive in either order.
    const deadline = Date.now() + 10_000;
    while (!/warning: .*0\.0\.0\.0.* without TLS/.test(wide.output()) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(wide.output(), /warning: .*0\.0\.0\.0.* without TLS/);
    const url = wide.url.replace("0.0.0.0", "127.0.0.1");
    for (const host of [
      "strata.test",
      "API.strata.test:443",
      "third.test",
      hostname(),
      "localhost",
      "127.0.0.1",
    ]) {
      const health = await send(url, "GET", "/health", { host });
      assert.equal(health.status, 200, host);
    }
    const evil = await send(url, "GET", "/health", { host: "evil.example" });
    assert.equal(evil.status, 400);
    assert.equal(errorCode(evil.body), "InvalidHostHeader");
  } finally {
    await wide.kill("SIGTERM");
  }
});

test("an unsigned request or an unknown key is refused before its body is read", async () => {
  // Headers announcing a 1 MiB body that never comes: the answer must not wait for it.
  const u = new URL(daemon.url);
  const stranger = new SignatureV4({
    credentials: { accessKeyId: "AKIANOSUCHKEY0000000", secretAccessKey: "not-a-secret" },
    region: "us-east-1",
    service: "ec2",
    sha256: Hash.bind(null, "sha256"),
  });
  const unknownKey = (
    await stranger.sign(new HttpRequest({ method: "POST", path: "/", headers: { host: u.host }, body: "" }))
  ).headers as Record<string, string>;
  for (const [path, auth] of [
    ["/", {}],
    ["/snapshots", {}],
    ["/", unknownKey],
  ] as const) {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const headers: Record<string, string> = {
        ...auth,
        host: u.host,
        "content-type": "application/x-www-form-urlencoded",
        "content-length": String(1024 * 1024),
      };
      const req = request(
        { host: u.hostname, port: u.port, method: "POST", path, headers, setHost: false },
        (res) => {
          let text = "";
          res.on("data", (d) => {
            text += d;
          });
          res.on("end", () => resolve({ status: res.statusCode!, body: text }));
        },
      );
      req.on("error", reject);
      req.write("Action=CreateVolume"); // a start of the body, then nothing more
      setTimeout(() => reject(new Error(`no answer to ${path} without its body`)), 10_000).unref();
    });
    assert.equal(answer.status, 401, `${path}: ${answer.body}`);
    assert.match(answer.body, /not able to validate the provided access credentials/, answer.body);
  }
});

test("EBS operations whose parameters are in the body need a signed payload (PutSnapshotBlock keeps UNSIGNED-PAYLOAD)", async () => {
  const signer = new SignatureV4({
    credentials: admin,
    region: "us-east-1",
    service: "ebs",
    sha256: Hash.bind(null, "sha256"),
  });
  const body = JSON.stringify({ VolumeSize: 1, Timeout: 60 });
  const headers = {
    host: new URL(daemon.url).host,
    "content-type": "application/json",
    "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
  };
  const r = await signer.sign(new HttpRequest({ method: "POST", path: "/snapshots", headers, body }));
  // Replayed with another body (a larger volume): refused, nothing started.
  const swapped = JSON.stringify({ VolumeSize: 16384, Timeout: 4320 });
  const answer = await send(daemon.url, "POST", "/snapshots", r.headers as Record<string, string>, swapped);
  assert.equal(answer.status, 403, answer.body);
  assert.equal(answer.headers["x-amzn-errortype"], "SignatureDoesNotMatch");
});
