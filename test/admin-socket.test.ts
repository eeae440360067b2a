// The JSON admin API lives only on the data dir's unix socket (the operator's own), and the
// engine commands act as an account: what they create belongs to it and shows through EC2.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createReadStream, statSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { DescribeSnapshotsCommand, DescribeVolumesCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import { type Account, adminCredentials, createAccount, ec2, strataCli } from "./ec2-helpers.ts";
import { MiB, seededBytes, tempDir } from "./helpers.ts";

const _run = promisify(execFile);
const STRATA = join(import.meta.dirname, "..", "bin", "strata");
const dataDir = tempDir();
const socketPath = join(dataDir, "run", "admin.sock");
let daemon: Daemon;
let adminEc2: EC2Client;
let bob: Account;
let bobEc2: EC2Client;

before(async () => {
  daemon = await startDaemon(dataDir);
  adminEc2 = ec2(daemon, adminCredentials(dataDir));
  bob = await createAccount(dataDir, "bob");
  bobEc2 = ec2(daemon, bob);
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

const strata = (...args: string[]) => strataCli(dataDir, ...args);

async function json(...args: string[]): Promise<{ id: string; [k: string]: unknown }> {
  const r = await strata(...args);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out);
}

async function volumesOf(client: EC2Client): Promise<string[]> {
  const { Volumes } = await client.send(new DescribeVolumesCommand({}));
  return Volumes!.map((v) => v.VolumeId!).sort();
}

/** A raw admin API call on the socket, with whatever headers. */
function onSocket(
  method: string,
  path: string,
  headers: Record<string, string>,
  body = "",
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers }, (res) => {
      let text = "";
      res.on("data", (d) => {
        text += d;
      });
      res.on("end", () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

test("the admin API is not on the TCP port: /strata/v1 answers like an unknown path, nothing done", async () => {
  const before = await volumesOf(adminEc2);
  const cases: [string, RequestInit][] = [
    ["/strata/v1/us-east-1/volumes", { method: "POST", body: '{"sizeGiB":1}' }],
    [
      "/strata/v1/us-east-1/volumes",
      { method: "POST", body: '{"sizeGiB":1}', headers: { "x-strata-account": "admin" } },
    ],
    ["/strata/v1/us-east-1/volumes", { method: "GET" }],
    ["/strata/v1/us-east-1/snapshots", { method: "GET" }],
  ];
  for (const [path, init] of cases) {
    const res = await fetch(daemon.url + path, init);
    const text = await res.text();
    assert.equal(res.status, 400, `${init.method} ${path}: ${text}`);
    assert.match(text, /<Code>InvalidAction<\/Code>/, `${init.method} ${path}`);
    assert.doesNotMatch(text, /vol-/);
  }
  const unknown = await fetch(`${daemon.url}/nothing/here`);
  assert.equal(unknown.status, 400);
  assert.match(await unknown.text(), /<Code>InvalidAction<\/Code>/);
  assert.deepEqual(await volumesOf(adminEc2), before, "no volume was created");
  assert.deepEqual(await daemon.client().listVolumes(), []);
});

test("the socket is private: run dir 0700, socket 0600", () => {
  assert.equal(statSync(join(dataDir, "run")).mode & 0o777, 0o700);
  const s = statSync(socketPath);
  assert.ok(s.isSocket());
  assert.equal(s.mode & 0o777, 0o600);
});

test("a volume and snapshot the CLI creates belong to the credentials file's account, and show through EC2", async () => {
  const vol = await json("volume", "create", "--size", "1");
  assert.ok((await volumesOf(adminEc2)).includes(vol.id), "admin sees it through DescribeVolumes");
  assert.ok(!(await volumesOf(bobEc2)).includes(vol.id), "bob does not");
  await assert.rejects(bobEc2.send(new DescribeVolumesCommand({ VolumeIds: [vol.id] })), {
    name: "InvalidVolume.NotFound",
  });
  const snap = await json("snapshot", "create", vol.id, "--wait");
  const { Snapshots } = await adminEc2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap.id] }));
  assert.equal(Snapshots![0].State, "completed");
  const adminId = (await adminEc2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }))).Snapshots!.map(
    (s) => s.OwnerId,
  );
  assert.deepEqual(adminId, [Snapshots![0].OwnerId]);
  assert.notEqual(Snapshots![0].OwnerId, "");
  await assert.rejects(bobEc2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap.id] })), {
    name: "InvalidSnapshot.NotFound",
  });

  // Another account sees none of it through the engine commands either.
  for (const args of [
    ["volume", "show", vol.id],
    ["volume", "delete", vol.id],
    ["volume", "read", vol.id, "--out", join(tempDir(), "x")],
    ["snapshot", "create", vol.id],
  ]) {
    const r = await strata(...args, "--account", "bob");
    assert.equal(r.code, 1, args.join(" "));
    assert.match(r.err, /InvalidVolume\.NotFound/, args.join(" "));
  }
  for (const args of [
    ["snapshot", "show", snap.id],
    ["snapshot", "delete", snap.id],
    ["snapshot", "copy", snap.id, "--to", "eu-west-1"],
    ["volume", "create", "--snapshot", snap.id],
  ]) {
    const r = await strata(...args, "--account", "bob");
    assert.equal(r.code, 1, args.join(" "));
    assert.match(r.err, /InvalidSnapshot\.NotFound/, args.join(" "));
  }
  assert.deepEqual(JSON.parse((await strata("volume", "list", "--account", "bob")).out), []);
  assert.deepEqual(JSON.parse((await strata("snapshot", "list", "--account", "bob")).out), []);
  // Still there, unchanged, for its owner.
  assert.equal((await json("volume", "show", vol.id)).id, vol.id);
  assert.equal((await json("snapshot", "show", snap.id)).state, "completed");
});

/** A volume's first 8 MiB: data, a hole, a block of written zeros, a partial block, data across blocks. */
function volumeStart(): Buffer {
  const b = Buffer.alloc(8 * MiB);
  seededBytes("start", MiB + 1000).copy(b, 0);
  seededBytes("partial", 3000).copy(b, 3 * MiB + 77);
  seededBytes("across", MiB).copy(b, 6 * MiB + 512 * 1024 - 10);
  return b;
}

/** The file holds `start`, then zeros up to `size` bytes. */
async function assertFileIs(path: string, start: Buffer, size: number): Promise<void> {
  assert.equal(statSync(path).size, size);
  let pos = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 8 * MiB }) as AsyncIterable<Buffer>) {
    const own = chunk.subarray(0, Math.max(0, start.length - pos));
    assert.ok(own.equals(start.subarray(pos, pos + own.length)), `differs near byte ${pos}`);
    assert.ok(
      chunk.subarray(own.length).every((x) => x === 0),
      `not zero past the data near ${pos}`,
    );
    pos += chunk.length;
  }
  assert.equal(pos, size);
}

test("strata volume read writes a volume's bytes, or a range of them, sparse; of a lazily restored volume too", async () => {
  const dir = tempDir();
  const content = volumeStart();
  const input = join(dir, "in");
  writeFileSync(input, content);
  const vol = await json("volume", "create", "--size", "1");
  assert.equal((await json("volume", "write", vol.id, input)).written, content.length);
  // Zeros written over a block: it may hold data, reads as zeros, is left out of the file.
  writeFileSync(input, Buffer.alloc(512 * 1024));
  await json("volume", "write", vol.id, input, "--offset", String(4 * MiB));
  const snap = await json("snapshot", "create", vol.id, "--wait");
  const restored = await json("volume", "create", "--snapshot", snap.id);
  for (const id of [vol.id, restored.id]) {
    const out = join(dir, `${id}.raw`);
    writeFileSync(out, "previous content, replaced");
    const r = await strata("volume", "read", id, "--out", out);
    assert.equal(r.code, 0, r.err);
    await assertFileIs(out, content, 1024 * MiB);
    assert.ok(statSync(out).blocks * 512 < 16 * MiB, "holes and zero blocks stay sparse");
    const part = await strata(
      "volume",
      "read",
      id,
      "--out",
      out,
      "--offset",
      "1000",
      "--length",
      String(7 * MiB),
    );
    assert.equal(part.code, 0, part.err);
    await assertFileIs(out, content.subarray(1000, 1000 + 7 * MiB), 7 * MiB);
  }
  const beyond = await strata(
    "volume",
    "read",
    vol.id,
    "--out",
    join(dir, "x"),
    "--offset",
    String(1024 * MiB),
    "--length",
    "1",
  );
  assert.equal(beyond.code, 1);
  assert.match(beyond.err, /InvalidParameterValue: Range/);
});

test("--account selects another account by name, id or alias", async () => {
  const byName = await json("volume", "create", "--size", "1", "--account", "bob");
  const byId = await json("volume", "create", "--size", "1", "--account", bob.accountId);
  const bobs = await volumesOf(bobEc2);
  assert.ok(bobs.includes(byName.id) && bobs.includes(byId.id), "bob sees both through EC2");
  const admins = await volumesOf(adminEc2);
  assert.ok(!admins.includes(byName.id) && !admins.includes(byId.id), "admin sees neither");
  const provider = await json("volume", "list", "--account", "strata");
  assert.deepEqual(provider, [], "the provider (by its alias) has no volumes");
  const listed = JSON.parse((await strata("volume", "list", "--account", "bob")).out) as { id: string }[];
  assert.deepEqual(listed.map((v) => v.id).sort(), [byName.id, byId.id].sort());
  const unknown = await strata("volume", "list", "--account", "nobody");
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /InvalidParameterValue: .*nobody/);
});

test("on the socket, a request must name an existing account", async () => {
  const missing = await onSocket("GET", "/strata/v1/us-east-1/volumes", {});
  assert.equal(missing.status, 400);
  assert.equal(JSON.parse(missing.body).error.code, "MissingParameter");
  const unknown = await onSocket(
    "POST",
    "/strata/v1/us-east-1/volumes",
    { "x-strata-account": "nobody" },
    '{"sizeGiB":1}',
  );
  assert.equal(unknown.status, 400);
  assert.equal(JSON.parse(unknown.body).error.code, "InvalidParameterValue");
  assert.deepEqual(JSON.parse((await strata("volume", "list", "--account", "bob")).out).length, 2);
});

test("malformed admin API requests get clear 4xx errors and change nothing", async () => {
  const admin = { "x-strata-account": "admin" };
  const before = (await onSocket("GET", "/strata/v1/us-east-1/volumes", admin)).body;
  const cases: [string, string, string, number, string][] = [
    ["POST", "/strata/v1/us-east-1/volumes", "{not json", 400, "InvalidParameterValue"],
    ["POST", "/strata/v1/us-east-1/volumes", "[1]", 400, "InvalidParameterValue"],
    ["POST", "/strata/v1/us-east-1/volumes", '{"sizeGiB":"8"}', 400, "InvalidParameterValue"],
    ["POST", "/strata/v1/us-east-1/volumes", "{}", 400, "MissingParameter"],
    ["PATCH", "/strata/v1/us-east-1/volumes", "", 400, "InvalidParameterValue"],
    ["POST", "/strata/v1/us-east-1/snapshots", "{}", 400, "MissingParameter"],
    ["PUT", "/strata/v1/us-east-1/volumes/vol-1/data?offset=-5", "x", 400, "InvalidParameterValue"],
    ["GET", "/strata/v1/xx-nowhere-1/volumes", "", 400, "InvalidRegion"],
    ["GET", "/nothing/here", "", 404, "InvalidAction"],
  ];
  for (const [method, path, body, status, code] of cases) {
    const res = await onSocket(method, path, admin, body);
    assert.equal(res.status, status, `${method} ${path}: ${res.body}`);
    assert.equal(JSON.parse(res.body).error.code, code, `${method} ${path}`);
  }
  assert.equal((await onSocket("GET", "/strata/v1/us-east-1/volumes", admin)).body, before);
});

test("a second server on the same data dir refuses to start and leaves the first serving", async () => {
  const second = spawn(
    STRATA,
    ["server", "--data-dir", dataDir, "--port", "0", "--no-base-image", "--network", "user"],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  // It either exits, or (wrongly) starts listening: then it is stopped and the test fails.
  const outcome = new Promise<number | "listening">((resolve) => {
    const collect = (d: Buffer) => {
      output += d;
      if (/listening on/.test(output)) resolve("listening");
    };
    second.stdout.on("data", collect);
    second.stderr.on("data", collect);
    second.once("exit", (code) => resolve(code ?? -1));
  });
  const result = await outcome;
  if (result === "listening") {
    second.kill("SIGTERM");
    await new Promise((r) => second.once("exit", r));
  }
  assert.equal(result, 1, output);
  assert.match(output, /already serving this data dir/);
  assert.equal(statSync(socketPath).isSocket(), true);
  assert.ok(Array.isArray(await daemon.client().listVolumes()));
});
