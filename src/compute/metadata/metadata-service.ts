// The instance metadata service (IMDS), as EC2 serves it at 169.254.169.254 and as cloud-init and
// the base image's `imds` client read it. One HTTP server per instance on its own unix socket in
// the daemon's run dir (mode 0700, the socket 0600): QEMU's guestfwd runs `nc -U <socket>` for each
// guest connection to 169.254.169.254:80. No TCP port: nothing else on the host (another guest, a
// local user) can ask for an instance's metadata, and the socket identifies the instance.
//
// IMDSv2 sessions: `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds` (1-21600)
// returns an opaque token; GETs carrying an invalid or expired token get 401. GETs without a token
// are allowed (EC2's default HttpTokens=optional). The same tree is served under `latest` and every
// dated version.
import { randomBytes } from "node:crypto";
import { chmodSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { dirname } from "node:path";
import { checkUnixSocketPath, removeStaleSocket } from "../unix-socket.ts";

export interface InstanceMetadata {
  instanceId: string;
  imageId: string;
  instanceType: string;
  region: string;
  availabilityZone: string;
  accountId: string;
  /** Private DNS name, e.g. ip-169-254-0-15.ec2.internal. */
  hostname: string;
  localIpv4: string;
  mac: string;
  amiLaunchIndex: number;
  reservationId: string;
  launchedAt: Date;
  publicKeys: { name: string; openssh: string }[];
  /** Raw bytes (already base64-decoded). */
  userData?: Buffer;
  /** Device names as the API shows them: root "/dev/xvda", ebs ["/dev/sdf", ...] (attached, besides the root). */
  blockDevices: { root: string; ebs: string[] };
  /** Exposed under meta-data/tags/instance/ when given (EC2: InstanceMetadataTags=enabled). */
  tags?: Record<string, string>;
  securityGroups?: { id: string; name: string }[];
  /** eni-...; derived from the instance id when absent. */
  interfaceId?: string;
  subnetId?: string;
  vpcId?: string;
  /** The network the guest is on; default 169.254.0.0/16 (QEMU user networking). */
  subnetCidr?: string;
  publicIpv4?: string;
  publicHostname?: string;
  /** meta-data/instance-life-cycle: "on-demand" unless given. */
  lifecycle?: "on-demand" | "spot" | "scheduled";
}

/** The API versions EC2 lists at `/`; any other YYYY-MM-DD is served too. */
export const IMDS_VERSIONS = [
  "1.0",
  "2007-01-19",
  "2007-03-01",
  "2007-08-29",
  "2007-10-10",
  "2007-12-15",
  "2008-02-01",
  "2008-09-01",
  "2009-04-04",
  "2011-01-01",
  "2011-05-01",
  "2012-01-12",
  "2014-02-25",
  "2014-11-05",
  "2015-10-20",
  "2016-04-19",
  "2016-06-30",
  "2016-09-02",
  "2018-03-28",
  "2018-08-17",
  "2018-09-24",
  "2019-10-01",
  "2020-10-27",
  "2021-01-03",
  "2021-03-23",
  "2021-07-15",
  "2022-09-24",
  "2024-04-11",
  "latest",
];

const MAX_TTL_SECONDS = 21600;
const MAX_TOKENS = 10_000;
const TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds";
const TOKEN_HEADER = "x-aws-ec2-metadata-token";

/** A directory maps names to subtrees; a leaf is its text (or bytes). Names of directories list with "/". */
type Node = string | Buffer | Dir;
interface Dir {
  [name: string]: Node | undefined;
}

export class MetadataService {
  readonly socketPath: string;
  readonly #server: Server;
  readonly #getMetadata: () => InstanceMetadata;
  /** token -> expiry (ms since the epoch) */
  readonly #tokens = new Map<string, number>();

  private constructor(server: Server, socketPath: string, getMetadata: () => InstanceMetadata) {
    this.#server = server;
    this.socketPath = socketPath;
    this.#getMetadata = getMetadata;
  }

  /**
   * Serves on a unix socket at `socketPath`, in a directory only this user may enter (a socket left
   * there by a killed daemon is replaced).
   */
  static async start(getMetadata: () => InstanceMetadata, socketPath: string): Promise<MetadataService> {
    checkUnixSocketPath(socketPath);
    assertPrivateDir(dirname(socketPath));
    removeStaleSocket(socketPath);
    const server = createServer();
    server.keepAliveTimeout = 5_000;
    server.headersTimeout = 10_000;
    server.requestTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ path: socketPath }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    try {
      chmodSync(socketPath, 0o600);
    } catch (e) {
      await new Promise((r) => server.close(r));
      throw e;
    }
    const service = new MetadataService(server, socketPath, getMetadata);
    server.on("request", (req, res) => service.#handle(req, res));
    return service;
  }

  /** Stops serving; the socket file goes with it (libuv unlinks a listening socket on close). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    // Bodies are never used; drain them so the connection stays usable.
    req.resume();
    let reply: Reply;
    try {
      reply = this.#reply(req);
    } catch (e) {
      console.error(`metadata service: ${(e as Error).stack ?? e}`);
      reply = error(500, "Internal Server Error");
    }
    const data = typeof reply.body === "string" ? Buffer.from(reply.body) : reply.body;
    res.statusCode = reply.status;
    res.setHeader("Server", "EC2ws");
    res.setHeader("Content-Type", reply.type);
    res.setHeader("Content-Length", data.length);
    for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
    res.end(req.method === "HEAD" ? undefined : data);
  }

  #reply(req: IncomingMessage): Reply {
    const path = normalize(req.url ?? "/");
    const method = req.method ?? "GET";
    if (path === "/latest/api/token") return this.#token(req, method);
    if (method !== "GET" && method !== "HEAD") {
      return { ...error(405, "Method Not Allowed"), headers: { Allow: "OPTIONS, GET, HEAD" } };
    }
    const token = req.headers[TOKEN_HEADER];
    if (token !== undefined && !this.#valid(String(token))) return error(401, "Unauthorized");
    const node = this.#lookup(path);
    if (node === undefined) return error(404, "Not Found");
    if (typeof node === "string") return { status: 200, body: node, type: "text/plain" };
    if (Buffer.isBuffer(node)) return { status: 200, body: node, type: "application/octet-stream" };
    // EC2 lists /<version>/ without the trailing slashes it shows on every other directory.
    const slashes = path.split("/").filter(Boolean).length > 1;
    return { status: 200, body: listing(node, slashes), type: "text/plain" };
  }

  #token(req: IncomingMessage, method: string): Reply {
    if (method !== "PUT") return { ...error(405, "Method Not Allowed"), headers: { Allow: "OPTIONS, PUT" } };
    // EC2 refuses token requests that went through a proxy.
    if (req.headers["x-forwarded-for"] !== undefined) return error(403, "Forbidden");
    const raw = req.headers[TTL_HEADER];
    const ttl = typeof raw === "string" && /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
    if (!(ttl >= 1 && ttl <= MAX_TTL_SECONDS)) return error(400, "Bad Request");
    this.#sweep();
    if (this.#tokens.size >= MAX_TOKENS) {
      // Forget the oldest (a Map keeps insertion order).
      const first = this.#tokens.keys().next().value;
      if (first !== undefined) this.#tokens.delete(first);
    }
    const token = `AQAEA${randomBytes(36).toString("base64url")}==`;
    this.#tokens.set(token, Date.now() + ttl * 1000);
    return {
      status: 200,
      body: token,
      type: "text/plain",
      headers: { "X-Aws-Ec2-Metadata-Token-Ttl-Seconds": String(ttl) },
    };
  }

  #valid(token: string): boolean {
    const expiry = this.#tokens.get(token);
    if (expiry === undefined) return false;
    if (expiry <= Date.now()) {
      this.#tokens.delete(token);
      return false;
    }
    return true;
  }

  #sweep(): void {
    const now = Date.now();
    for (const [t, expiry] of this.#tokens) if (expiry <= now) this.#tokens.delete(t);
  }

  /** The node at a normalized path: "/" lists the versions; "/<version>/..." walks the tree. */
  #lookup(path: string): Node | undefined {
    const parts = path.split("/").filter(Boolean);
    if (parts.length === 0) return Object.fromEntries(IMDS_VERSIONS.map((v) => [v, v])) as Dir;
    const [version, ...rest] = parts;
    if (!IMDS_VERSIONS.includes(version) && !/^\d{4}-\d{2}-\d{2}$/.test(version)) return undefined;
    let node: Node | undefined = metadataTree(this.#getMetadata());
    for (const name of rest) {
      if (node === undefined || typeof node === "string" || Buffer.isBuffer(node)) return undefined;
      node = Object.hasOwn(node, name) ? node[name] : undefined;
    }
    return node;
  }
}

/** The directory must be this user's and closed to everyone else (0700): it guards the sockets in it. */
function assertPrivateDir(dir: string): void {
  const st = statSync(dir);
  const mode = st.mode & 0o777;
  if (!st.isDirectory() || (st.mode & 0o077) !== 0 || st.uid !== process.getuid?.()) {
    throw new Error(
      `metadata service: ${dir} must be a directory of this user with mode 0700 (it is ${mode.toString(8).padStart(4, "0")})`,
    );
  }
}

/** Directories EC2 lists differently from their paths: public-keys/ lists "0=name" but serves "0/". */
const customListings = new WeakMap<Dir, string>();

/** The tree under /<version>/: meta-data/, dynamic/, user-data (only when there is some). */
export function metadataTree(m: InstanceMetadata): Dir {
  const macs: Dir = { [m.mac]: interfaceTree(m) };
  const keys: Dir = {};
  m.publicKeys.forEach((k, i) => {
    keys[String(i)] = { "openssh-key": k.openssh.endsWith("\n") ? k.openssh : `${k.openssh}\n` };
  });
  const bdm: Dir = { ami: deviceName(m.blockDevices.root), root: m.blockDevices.root };
  m.blockDevices.ebs.forEach((d, i) => {
    bdm[`ebs${i + 1}`] = deviceName(d);
  });
  const groups = m.securityGroups ?? [{ id: "sg-00000000000000000", name: "default" }];
  const metaData: Dir = {
    "ami-id": m.imageId,
    "ami-launch-index": String(m.amiLaunchIndex),
    "ami-manifest-path": "(unknown)",
    "block-device-mapping": bdm,
    hostname: m.hostname,
    "instance-action": "none",
    "instance-id": m.instanceId,
    "instance-life-cycle": m.lifecycle ?? "on-demand",
    "instance-type": m.instanceType,
    "local-hostname": m.hostname,
    "local-ipv4": m.localIpv4,
    mac: m.mac,
    network: { interfaces: { macs } },
    placement: {
      "availability-zone": m.availabilityZone,
      region: m.region,
    },
    profile: "default-hvm",
    "reservation-id": m.reservationId,
    "security-groups": groups.map((g) => g.name).join("\n"),
    services: { domain: "amazonaws.com", partition: partitionOf(m.region) },
  };
  if (m.publicIpv4) {
    metaData["public-ipv4"] = m.publicIpv4;
    metaData["public-hostname"] = m.publicHostname ?? "";
  }
  if (m.publicKeys.length) {
    metaData["public-keys"] = keys;
    customListings.set(keys, m.publicKeys.map((k, i) => `${i}=${k.name}`).join("\n"));
  }
  // Keys with "/" cannot be paths, EC2 leaves them out too.
  if (m.tags)
    metaData.tags = {
      instance: Object.fromEntries(Object.entries(m.tags).filter(([k]) => !k.includes("/"))),
    };
  const tree: Dir = {
    dynamic: { "instance-identity": { document: identityDocument(m) } },
    "meta-data": metaData,
  };
  if (m.userData && m.userData.length > 0) tree["user-data"] = m.userData;
  return tree;
}

function interfaceTree(m: InstanceMetadata): Dir {
  const groups = m.securityGroups ?? [{ id: "sg-00000000000000000", name: "default" }];
  const cidr = m.subnetCidr ?? "169.254.0.0/16";
  const suffix = m.instanceId.replace(/^i-/, "").padEnd(17, "0").slice(0, 17);
  const dir: Dir = {
    "device-number": "0",
    "interface-id": m.interfaceId ?? `eni-${suffix}`,
    "local-hostname": m.hostname,
    "local-ipv4s": m.localIpv4,
    mac: m.mac,
    "owner-id": m.accountId,
    "security-group-ids": groups.map((g) => g.id).join("\n"),
    "security-groups": groups.map((g) => g.name).join("\n"),
    "subnet-id": m.subnetId ?? `subnet-${suffix}`,
    "subnet-ipv4-cidr-block": cidr,
    "vpc-id": m.vpcId ?? `vpc-${suffix}`,
    "vpc-ipv4-cidr-block": cidr,
    "vpc-ipv4-cidr-blocks": cidr,
  };
  if (m.publicIpv4) {
    dir["public-ipv4s"] = m.publicIpv4;
    dir["public-hostname"] = m.publicHostname ?? "";
    dir["ipv4-associations"] = { [m.publicIpv4]: m.localIpv4 };
  }
  return dir;
}

/** EC2 shows "sda1"-style names here for all but `root`. */
function deviceName(d: string): string {
  return d.replace(/^\/dev\//, "");
}

function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/** dynamic/instance-identity/document, formatted as EC2 does ("key" : value, two-space indent). */
export function identityDocument(m: InstanceMetadata): string {
  const doc: Record<string, unknown> = {
    accountId: m.accountId,
    architecture: "x86_64",
    availabilityZone: m.availabilityZone,
    billingProducts: null,
    devpayProductCodes: null,
    marketplaceProductCodes: null,
    imageId: m.imageId,
    instanceId: m.instanceId,
    instanceType: m.instanceType,
    kernelId: null,
    pendingTime: `${m.launchedAt.toISOString().slice(0, 19)}Z`,
    privateIp: m.localIpv4,
    ramdiskId: null,
    region: m.region,
    version: "2017-09-30",
  };
  const lines = Object.entries(doc).map(([k, v]) => `  ${JSON.stringify(k)} : ${JSON.stringify(v)}`);
  return `{\n${lines.join(",\n")}\n}`;
}

function listing(dir: Dir, slashes = true): string {
  const custom = customListings.get(dir);
  if (custom !== undefined) return custom;
  return Object.entries(dir)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => (typeof v === "string" || Buffer.isBuffer(v) || !slashes ? k : `${k}/`))
    .join("\n");
}

/** Collapses repeated slashes and drops the query; "/latest/meta-data/" and "/latest/meta-data" are the same. */
function normalize(url: string): string {
  const path = url.split("?")[0].split("#")[0];
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // keep it as sent
  }
  return `/${decoded.split("/").filter(Boolean).join("/")}`;
}

function errorPage(status: number, title: string): string {
  return `<?xml version="1.0" encoding="iso-8859-1"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
         "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>${status} - ${title}</title>
 </head>
 <body>
  <h1>${status} - ${title}</h1>
 </body>
</html>
`;
}

interface Reply {
  status: number;
  body: string | Buffer;
  type: string;
  headers?: Record<string, string>;
}

function error(status: number, title: string): Reply {
  return { status, body: errorPage(status, title), type: "text/html" };
}
