// The IMDS path tree: what an instance's metadata looks like under /<version>/ (meta-data/,
// dynamic/, user-data), the node at a path, and a directory's listing, as EC2 answers them.

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

/** A directory maps names to subtrees; a leaf is its text (or bytes). Names of directories list with "/". */
export type Node = string | Buffer | Dir;
export interface Dir {
  [name: string]: Node | undefined;
}

/** The node at a normalized path: "/" lists the versions; "/<version>/..." walks the tree. */
export function nodeAt(path: string, metadata: () => InstanceMetadata): Node | undefined {
  const parts = path.split("/").filter(Boolean);
  if (parts.length === 0) return Object.fromEntries(IMDS_VERSIONS.map((v) => [v, v])) as Dir;
  const [version, ...rest] = parts;
  if (!IMDS_VERSIONS.includes(version) && !/^\d{4}-\d{2}-\d{2}$/.test(version)) return undefined;
  let node: Node | undefined = metadataTree(metadata());
  for (const name of rest) {
    if (node === undefined || typeof node === "string" || Buffer.isBuffer(node)) return undefined;
    node = Object.hasOwn(node, name) ? node[name] : undefined;
  }
  return node;
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

export function listing(dir: Dir, slashes = true): string {
  const custom = customListings.get(dir);
  if (custom !== undefined) return custom;
  return Object.entries(dir)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => (typeof v === "string" || Buffer.isBuffer(v) || !slashes ? k : `${k}/`))
    .join("\n");
}
