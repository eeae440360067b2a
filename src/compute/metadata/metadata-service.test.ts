import assert from "node:assert/strict";
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { request } from "node:http";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { IMDS_VERSIONS, type InstanceMetadata, MetadataService } from "./metadata-service.ts";

const MAC = "02:ab:cd:ef:01:23";

function instance(overrides: Partial<InstanceMetadata> = {}): InstanceMetadata {
  return {
    instanceId: "i-0123456789abcdef0",
    imageId: "ami-0fedcba9876543210",
    instanceType: "t3.micro",
    region: "us-east-1",
    availabilityZone: "us-east-1a",
    accountId: "123456789012",
    hostname: "ip-169-254-0-15.ec2.internal",
    localIpv4: "169.254.0.15",
    mac: MAC,
    amiLaunchIndex: 0,
    reservationId: "r-0123456789abcdef0",
    launchedAt: new Date("2026-11-22T07:00:00.123Z"),
    publicKeys: [{ name: "my-key", openssh: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample my-key" }],
    userData: Buffer.from("#!/bin/sh\necho hi\n"),
    blockDevices: { root: "/dev/xvda", ebs: ["/dev/sdf", "/dev/sdg"] },
    ...overrides,
  };
}

interface RequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** fetch() through a unix socket (Node's fetch has no option for one). */
function fetchVia(socketPath: string, path: string, init: RequestInit = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const method = init.method ?? "GET";
    const req = request({ socketPath, path, method, headers: init.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
        }
        const body = method === "HEAD" ? null : Buffer.concat(chunks);
        resolve(new Response(body, { status: res.statusCode, headers }));
      });
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

/** This process's listening TCP sockets (inode numbers), IPv4 and IPv6. */
function ownTcpListeners(): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const out = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").trim().split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      // st 0A is LISTEN; column 9 the inode.
      if (cols[3] === "0A" && inodes.has(cols[9])) out.add(cols[9]);
    }
  }
  return out;
}

describe("MetadataService", () => {
  let meta = instance();
  let service: MetadataService;
  let dir: string;
  let tcpBefore: Set<string>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "strata-imds-"));
    tcpBefore = ownTcpListeners();
    service = await MetadataService.start(() => meta, join(dir, "i-0123456789abcdef0.imds"));
  });
  after(async () => {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function fetchImds(path: string, init: RequestInit = {}): Promise<Response> {
    return fetchVia(service.socketPath, path, init);
  }

  async function token(ttl = "21600", headers: Record<string, string> = {}): Promise<Response> {
    return fetchImds("/latest/api/token", {
      method: "PUT",
      headers: { "X-aws-ec2-metadata-token-ttl-seconds": ttl, ...headers },
    });
  }

  async function get(path: string, tok?: string): Promise<Response> {
    return fetchImds(path, { headers: tok ? { "X-aws-ec2-metadata-token": tok } : {} });
  }

  async function text(path: string, tok?: string): Promise<string> {
    const res = await get(path, tok);
    assert.equal(res.status, 200, `${path}: ${res.status}`);
    return res.text();
  }

  it("listens on a unix socket (0600, in a 0700 dir) and on no TCP port", async () => {
    const st = statSync(service.socketPath);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.deepEqual(
      [...ownTcpListeners()].filter((i) => !tcpBefore.has(i)),
      [],
      "no new TCP listener",
    );
    // The check sees a TCP listener when there is one.
    const tcp = createServer();
    await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", r));
    assert.equal([...ownTcpListeners()].filter((i) => !tcpBefore.has(i)).length, 1);
    await new Promise((r) => tcp.close(r));
    assert.equal(await (await get("/latest/meta-data/instance-id")).text(), "i-0123456789abcdef0");
  });

  it("issues IMDSv2 tokens that GETs may carry", async () => {
    const res = await token();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-aws-ec2-metadata-token-ttl-seconds"), "21600");
    const tok = await res.text();
    assert.match(tok, /^[A-Za-z0-9_=-]{40,}$/);
    assert.equal(await text("/latest/meta-data/instance-id", tok), "i-0123456789abcdef0");
    const other = await (await token("60")).text();
    assert.notEqual(other, tok);
  });

  it("refuses token requests without a TTL in 1-21600, through a proxy, or not PUT", async () => {
    for (const ttl of ["0", "21601", "abc", "-5", ""])
      assert.equal((await token(ttl)).status, 400, `ttl ${ttl}`);
    const noTtl = await fetchImds("/latest/api/token", { method: "PUT" });
    assert.equal(noTtl.status, 400);
    assert.equal((await token("21600", { "X-Forwarded-For": "10.0.0.1" })).status, 403);
    const getToken = await fetchImds("/latest/api/token");
    assert.equal(getToken.status, 405);
    assert.equal((await token("1")).status, 200);
  });

  it("answers 401 to an invalid or expired token, and serves requests without one (IMDSv1)", async (t) => {
    assert.equal((await get("/latest/meta-data/instance-id", "not-a-token")).status, 401);
    assert.equal(await text("/latest/meta-data/instance-id"), "i-0123456789abcdef0");
    t.mock.timers.enable({ apis: ["Date"], now: Date.now() });
    const tok = await (await token("1")).text();
    assert.equal((await get("/latest/meta-data/instance-id", tok)).status, 200);
    t.mock.timers.tick(1001);
    assert.equal((await get("/latest/meta-data/instance-id", tok)).status, 401);
  });

  it("serves the same tree under latest and every version, and lists the versions at /", async () => {
    const versions = (await text("/")).split("\n");
    assert.deepEqual(versions, IMDS_VERSIONS);
    for (const v of ["latest", "2021-03-23", "2018-09-24", "2016-09-02", "2009-04-04", "1.0"]) {
      assert.equal(await text(`/${v}/meta-data/instance-id`), "i-0123456789abcdef0", v);
    }
    assert.equal((await get("/not-a-version/meta-data/instance-id")).status, 404);
  });

  it("lists directories, sub-directories with a trailing slash", async () => {
    assert.deepEqual((await text("/latest/")).split("\n").sort(), ["dynamic", "meta-data", "user-data"]);
    const keys = (await text("/latest/meta-data/")).split("\n");
    for (const k of [
      "ami-id",
      "ami-launch-index",
      "block-device-mapping/",
      "hostname",
      "instance-id",
      "instance-type",
      "local-hostname",
      "local-ipv4",
      "mac",
      "network/",
      "placement/",
      "public-keys/",
      "reservation-id",
      "security-groups",
      "services/",
    ]) {
      assert.ok(keys.includes(k), `meta-data/ lists ${k}: ${keys}`);
    }
    assert.equal(await text("/latest/meta-data"), keys.join("\n"));
    assert.equal(await text("/latest/meta-data/placement/"), "availability-zone\nregion");
  });

  it("serves the instance's values", async () => {
    const expect: Record<string, string> = {
      "ami-id": "ami-0fedcba9876543210",
      "ami-launch-index": "0",
      "instance-type": "t3.micro",
      hostname: "ip-169-254-0-15.ec2.internal",
      "local-hostname": "ip-169-254-0-15.ec2.internal",
      "local-ipv4": "169.254.0.15",
      mac: MAC,
      "placement/availability-zone": "us-east-1a",
      "placement/region": "us-east-1",
      "reservation-id": "r-0123456789abcdef0",
      "security-groups": "default",
      "services/domain": "amazonaws.com",
      "services/partition": "aws",
      "block-device-mapping/ami": "xvda",
      "block-device-mapping/root": "/dev/xvda",
      "block-device-mapping/ebs1": "sdf",
      "block-device-mapping/ebs2": "sdg",
    };
    for (const [path, value] of Object.entries(expect)) {
      assert.equal(await text(`/latest/meta-data/${path}`), value, path);
    }
    assert.equal(await text("/latest/meta-data/block-device-mapping/"), "ami\nroot\nebs1\nebs2");
    const res = await get("/latest/meta-data/instance-id");
    assert.equal(res.headers.get("content-type"), "text/plain");
    assert.equal(res.headers.get("server"), "EC2ws");
  });

  it("serves public keys as cloud-init reads them", async () => {
    assert.equal(await text("/latest/meta-data/public-keys/"), "0=my-key");
    assert.equal(await text("/latest/meta-data/public-keys/0/"), "openssh-key");
    assert.equal(
      await text("/latest/meta-data/public-keys/0/openssh-key"),
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample my-key\n",
    );
  });

  it("serves the network interface under its MAC", async () => {
    assert.equal(await text("/latest/meta-data/network/interfaces/macs/"), `${MAC}/`);
    const dir = `/latest/meta-data/network/interfaces/macs/${MAC}`;
    const keys = (await text(`${dir}/`)).split("\n");
    for (const k of [
      "device-number",
      "interface-id",
      "local-ipv4s",
      "mac",
      "owner-id",
      "subnet-id",
      "vpc-id",
    ]) {
      assert.ok(keys.includes(k), k);
    }
    assert.equal(await text(`${dir}/device-number`), "0");
    assert.equal(await text(`${dir}/local-ipv4s`), "169.254.0.15");
    assert.equal(await text(`${dir}/mac`), MAC);
    assert.equal(await text(`${dir}/owner-id`), "123456789012");
    assert.match(await text(`${dir}/interface-id`), /^eni-[0-9a-f]{17}$/);
    assert.equal(await text(`${dir}/subnet-ipv4-cidr-block`), "169.254.0.0/16");
  });

  it("serves the instance identity document like EC2", async () => {
    assert.equal(await text("/latest/dynamic/"), "instance-identity/");
    const doc = await text("/latest/dynamic/instance-identity/document");
    assert.match(doc, /^\{\n {2}"accountId" : "123456789012",\n/);
    assert.deepEqual(JSON.parse(doc), {
      accountId: "123456789012",
      architecture: "x86_64",
      availabilityZone: "us-east-1a",
      billingProducts: null,
      devpayProductCodes: null,
      marketplaceProductCodes: null,
      imageId: "ami-0fedcba9876543210",
      instanceId: "i-0123456789abcdef0",
      instanceType: "t3.micro",
      kernelId: null,
      pendingTime: "2026-11-22T07:00:00Z",
      privateIp: "169.254.0.15",
      ramdiskId: null,
      region: "us-east-1",
      version: "2017-09-30",
    });
  });

  it("serves user data as raw bytes, and 404 when there is none", async () => {
    const bytes = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0x00, 0x80]);
    meta = instance({ userData: bytes });
    const res = await get("/latest/user-data");
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
    meta = instance({ userData: undefined, publicKeys: [] });
    assert.equal((await get("/latest/user-data")).status, 404);
    assert.deepEqual((await text("/latest/")).split("\n").sort(), ["dynamic", "meta-data"]);
    assert.equal((await get("/latest/meta-data/public-keys/")).status, 404);
    meta = instance();
  });

  it("reads the metadata per request (attached volumes show up)", async () => {
    meta = instance({ blockDevices: { root: "/dev/xvda", ebs: [] } });
    assert.equal(await text("/latest/meta-data/block-device-mapping/"), "ami\nroot");
    meta = instance();
    assert.equal(await text("/latest/meta-data/block-device-mapping/"), "ami\nroot\nebs1\nebs2");
  });

  it("serves instance tags when given", async () => {
    meta = instance({ tags: { Name: "web-1", team: "blue", "a/b": "hidden" } });
    assert.equal(await text("/latest/meta-data/tags/instance/"), "Name\nteam");
    assert.equal(await text("/latest/meta-data/tags/instance/Name"), "web-1");
    meta = instance();
    assert.equal((await get("/latest/meta-data/tags/instance/Name")).status, 404);
  });

  it("answers unknown paths with EC2's 404 page, and other methods with 405", async () => {
    const res = await get("/latest/meta-data/no-such-thing");
    assert.equal(res.status, 404);
    assert.equal(res.headers.get("content-type"), "text/html");
    assert.match(await res.text(), /<title>404 - Not Found<\/title>/);
    assert.equal((await get("/latest/meta-data/instance-id/extra")).status, 404);
    const post = await fetchImds("/latest/meta-data/instance-id", { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    const head = await fetchImds("/latest/meta-data/instance-id", { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), "19");
  });

  it("speaks HTTP/1.0 to a client that half-closes after its request, as the guest's nc does", async () => {
    const raw = (req: string) =>
      new Promise<string>((resolve, reject) => {
        const s = connect(service.socketPath, () => s.end(req));
        let data = "";
        s.setEncoding("utf8");
        s.on("data", (d: string) => {
          data += d;
        });
        s.on("end", () => resolve(data));
        s.on("error", reject);
      });
    const put = await raw(
      "PUT /latest/api/token HTTP/1.0\r\nHost: 169.254.169.254\r\n" +
        "X-aws-ec2-metadata-token-ttl-seconds: 21600\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert.match(put, /^HTTP\/1\.1 200 OK\r\n/);
    const tok = put.split("\r\n\r\n")[1];
    const got = await raw(
      `GET /latest/meta-data/local-ipv4 HTTP/1.0\r\nHost: 169.254.169.254\r\nX-aws-ec2-metadata-token: ${tok}\r\n\r\n`,
    );
    assert.match(got, /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal(got.split("\r\n\r\n")[1], "169.254.0.15");
  });

  it("closes with its connections and removes its socket", async () => {
    const other = await MetadataService.start(() => meta, join(dir, "other.imds"));
    assert.equal((await fetchVia(other.socketPath, "/latest/meta-data/instance-id")).status, 200);
    await other.close();
    assert.equal(existsSync(other.socketPath), false);
    await assert.rejects(fetchVia(other.socketPath, "/latest/meta-data/"), { code: "ENOENT" });
  });

  it("replaces a socket a killed daemon left behind, but never a file that is not a socket", async () => {
    // A second name for a listening socket stays behind as a dead socket once it closes.
    const path = join(dir, "stale.imds");
    const old = createServer();
    await new Promise<void>((r) => old.listen(join(dir, "old.sock"), r));
    linkSync(join(dir, "old.sock"), path);
    await new Promise((r) => old.close(r));
    await assert.rejects(fetchVia(path, "/"), { code: "ECONNREFUSED" });
    const fresh = await MetadataService.start(() => meta, path);
    assert.equal(await (await fetchVia(path, "/latest/meta-data/instance-id")).text(), "i-0123456789abcdef0");
    await fresh.close();

    const file = join(dir, "file.imds");
    writeFileSync(file, "keep me");
    await assert.rejects(
      MetadataService.start(() => meta, file),
      /not a unix socket/,
    );
    assert.equal(readFileSync(file, "utf8"), "keep me");
  });

  it("refuses a directory others may enter, and a socket path longer than Linux allows", async () => {
    const open = join(dir, "open");
    mkdirSync(open);
    chmodSync(open, 0o755);
    await assert.rejects(
      MetadataService.start(() => meta, join(open, "x.imds")),
      /mode 0700 \(it is 0755\)/,
    );
    assert.equal(existsSync(join(open, "x.imds")), false);
    const long = join(dir, `${"d".repeat(120)}.imds`);
    await assert.rejects(
      MetadataService.start(() => meta, long),
      /bytes, more than the 107 Linux allows/,
    );
  });
});
