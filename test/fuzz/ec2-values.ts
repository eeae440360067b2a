// Values for the EC2 fuzzer: plausible ones (so requests get past validation into the handlers),
// keyed by member name, and hostile ones, by the scalar type they are meant to break.
import type { ScalarShape } from "../../src/api/protocol/ec2-model.ts";
import type { Prng } from "./prng.ts";

/**
 * A parameter value: text (form-encoded when sent), or `raw`, sent exactly as given after `=`,
 * for bytes no JavaScript string encodes (invalid UTF-8, broken percent escapes).
 */
export type Value = string | { raw: string };
export type Param = [name: string, value: Value];

/** `@{vol.a.0}`: a pool resource, replaced by its id when the request is sent (see pool.ts). */
export const ref = (slot: string) => `@{${slot}}`;

// Pool slots (pool.ts creates them): a = the caller (admin), b = another account (bob),
// e = the caller's resources in eu-west-1.
export const POOL = {
  volumes: ["vol.a.0", "vol.a.1", "vol.b.0"],
  // dsnap: EBS direct snapshots (a.0 pending, a.1 completed, a child of snap.a.0).
  snapshots: ["snap.a.0", "snap.a.1", "snap.b.0", "snap.b.1", "snap.e.0", "dsnap.a.0", "dsnap.a.1"],
  images: ["ami.a.0", "ami.a.1", "ami.b.0", "ami.b.1", "ami.e.0"],
  keyNames: ["key.a.0", "key.b.0"],
  keyIds: ["keyid.a.0", "keyid.b.0"],
  accounts: ["acct.a", "acct.b"],
};

const hex = (r: Prng, n: number) =>
  r
    .bytes(Math.ceil(n / 2))
    .toString("hex")
    .slice(0, n);

/** An id of `prefix` that is well formed but (almost surely) names nothing, or a malformed one. */
export function strayId(r: Prng, prefix: string): string {
  return r.pick([
    () => `${prefix}-${hex(r, 17)}`,
    () => `${prefix}-${hex(r, 8)}`,
    () => `${prefix}-${hex(r, 17).toUpperCase()}`,
    () => `${prefix}-${hex(r, 18)}`,
    () => `${prefix}-`,
    () => `${prefix}-xyz`,
    () => `${prefix}${hex(r, 17)}`,
    () => `${r.pick(["vol", "snap", "ami", "i", "key", "sg", "r"])}-${hex(r, 17)}`,
    () => `${prefix}-0000000000000000${r.pick(["0", "f"])}`,
  ])();
}

/** An id: mostly a pool resource (own, another account's, another region's), else stray. */
function idOf(r: Prng, slots: string[], prefix: string): string {
  return r.chance(0.75) ? ref(r.pick(slots)) : strayId(r, prefix);
}

const anyId = (r: Prng) =>
  r.pick([
    () => idOf(r, POOL.volumes, "vol"),
    () => idOf(r, POOL.snapshots, "snap"),
    () => idOf(r, POOL.images, "ami"),
    () => idOf(r, POOL.keyIds, "key"),
    () => strayId(r, "i"),
  ])();

const regions = ["us-east-1", "eu-west-1", "us-west-2", "mars-north-1", ""];
const zones = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "eu-west-1a", "use1-az1", "us-east-1"];
const devices = ["/dev/xvda", "/dev/sda1", "/dev/sdf", "/dev/xvdb", "/dev/vdz", "xvdf", "/dev/sd", "/dev/"];
const owners = (r: Prng) =>
  r.pick(["self", ref("acct.a"), ref("acct.b"), "strata", "amazon", "all", "123", "000000000000"]);
const FILTER_NAMES = [
  "volume-id",
  "snapshot-id",
  "image-id",
  "instance-id",
  "owner-id",
  "owner-alias",
  "status",
  "state",
  "name",
  "description",
  "size",
  "volume-size",
  "availability-zone",
  "tag:Name",
  "tag:k",
  "tag-key",
  "tag-value",
  "key-name",
  "key-pair-id",
  "fingerprint",
  "resource-id",
  "resource-type",
  "key",
  "value",
  "region-name",
  "zone-name",
  "is-public",
  "block-device-mapping.snapshot-id",
  "instance-state-name",
  "instance-type",
  "architecture",
  "colour",
  "",
];
const filterValues = (r: Prng) =>
  r.chance(0.1)
    ? `${"*a".repeat(r.int(5, 40))}*b` // a backtracking regular expression would take forever
    : r.pick([
        "*",
        "?",
        "a*",
        "*-*",
        "available",
        "completed",
        "x86_64",
        "self",
        "1",
        "Name",
        "\\*",
        "[a-",
        "%",
      ]);
const attributes = [
  "launchPermission",
  "description",
  "createVolumePermission",
  "productCodes",
  "blockDeviceMapping",
  "bootMode",
  "instanceType",
  "userData",
  "instanceInitiatedShutdownBehavior",
  "deregistrationProtection",
  "lastLaunchedTime",
  "kernel",
  "colour",
];
const b64 = (s: string) => Buffer.from(s).toString("base64");

/** A plausible value for a member, by its name (ids come from the pool); undefined if no idea. */
export function plausible(r: Prng, member: string, shape: ScalarShape): string | undefined {
  switch (member) {
    case "VolumeId":
    case "VolumeIds":
    case "ExcludeDataVolumeIds":
      return idOf(r, POOL.volumes, "vol");
    case "SnapshotId":
    case "SnapshotIds":
    case "SourceSnapshotId":
      return idOf(r, POOL.snapshots, "snap");
    case "ImageId":
    case "ImageIds":
    case "SourceImageId":
      return idOf(r, POOL.images, "ami");
    case "InstanceId":
    case "InstanceIds":
      return strayId(r, "i");
    case "KeyName":
    case "KeyNames":
      // A few fixed new names: a key pair is made once, then the name is a duplicate (RSA keys are slow).
      return r.chance(0.6) ? ref(r.pick(POOL.keyNames)) : r.pick(["fuzz-key", "fuzz-key-2", " ", "x"]);
    case "KeyPairId":
    case "KeyPairIds":
      return idOf(r, POOL.keyIds, "key");
    case "Resources":
      return anyId(r);
    case "AvailabilityZone":
    case "ZoneNames":
    case "ZoneIds":
      return r.pick(zones);
    case "SourceRegion":
    case "DestinationRegion":
    case "RegionNames":
      return r.pick(regions);
    case "Device":
    case "DeviceName":
    case "RootDeviceName":
      return r.pick(devices);
    case "InstanceType":
    case "InstanceTypes":
      return r.pick(["t3.micro", "t3.nano", "m5.2xlarge", "m1.small", "t3.MICRO"]);
    case "Owners":
    case "OwnerIds":
    case "ExecutableUsers":
    case "RestorableByUserIds":
    case "UserId":
    case "UserIds":
      return owners(r);
    case "Group":
    case "UserGroups":
      return r.pick(["all", "everyone"]);
    case "OperationType":
      return r.pick(["add", "remove"]);
    case "Attribute":
      return shape.enum && r.chance(0.7) ? r.pick(shape.enum) : r.pick(attributes);
    case "Name":
      return r.chance(0.5) ? r.pick(FILTER_NAMES) : r.pick(["img-fuzz-1", "img-fuzz-2", "img-fuzz-3", "ab"]);
    case "Values":
      return filterValues(r);
    case "Key":
      return r.pick(["Name", "k", "env", `k${r.int(0, 60)}`, "aws:x", ""]);
    case "Value":
      return r.pick(["v", "", "web", "x".repeat(r.int(1, 300))]);
    case "ResourceType":
      return r.pick(["volume", "snapshot", "image", "instance", "key-pair", "vpc"]);
    case "Description":
      return r.pick(["fuzz", "", "d".repeat(r.int(200, 300))]);
    case "UserData":
      return r.pick([b64("#!/bin/sh\necho hi\n"), "not base64!", b64("x".repeat(17_000)), ""]);
    case "PublicKeyMaterial":
      return r.pick([ref("pubkey"), b64("ssh-rsa AAAA"), b64("garbage"), ""]);
    case "NextToken":
      return r.pick([
        Buffer.from(JSON.stringify({ after: "vol-0" })).toString("base64url"),
        Buffer.from("null").toString("base64url"),
        Buffer.from("[1]").toString("base64url"),
        "not-a-token",
        "",
      ]);
    case "MaxResults":
      return String(r.pick([5, 6, 50, 1000, 1001, 4, 0]));
    case "ClientToken":
      return r.pick(["tok-1", "tok-2", `t-${hex(r, 8)}`]);
    case "Size":
    case "VolumeSize":
      return String(r.pick([1, 1, 2, 8, 16384, 16385, 0]));
    case "MinCount":
    case "MaxCount":
      return String(r.pick([1, 1, 2, 0]));
    case "DeprecateAt":
      return new Date(Date.now() + r.pick([3_600_000, -3_600_000, 86_400_000 * 365 * 11])).toISOString();
    case "KeyType":
      return r.pick(["ed25519", "ed25519", "rsa"]);
  }
  return undefined;
}

/** A well-formed value of the scalar's type (enum members, numbers in range, ISO times, base64). */
export function typical(r: Prng, shape: ScalarShape): string {
  switch (shape.type) {
    case "string":
      return shape.enum ? r.pick(shape.enum) : r.pick(["a", "test", "fuzz-1", `s-${hex(r, 6)}`]);
    case "integer":
    case "long": {
      const lo = shape.min ?? 0;
      const hi = Math.min(shape.max ?? 100, lo + 100);
      return String(r.int(lo, hi));
    }
    case "double":
    case "float":
      return r.pick(["0", "1.5", "0.25", "100"]);
    case "boolean":
      return r.pick(["true", "false", "false"]);
    case "timestamp":
      return new Date(Date.now() + r.int(-1, 48) * 3_600_000).toISOString();
    case "blob":
      return b64(r.pick(["hello", "x", ""]));
  }
}

const LONG = (n: number, c = "x") => c.repeat(n);

/** Strings that break parsers: encodings, controls, bidi text, sizes, syntax of other layers. */
export function hostileString(r: Prng): Value {
  return r.pick<() => Value>([
    () => "",
    () => " ",
    () => "\u0000",
    () => `a\u0000b`,
    () => "\u202Eevil\u202C",
    () => "\u200F\u05E9\u05DC\u05D5\u05DD",
    () => "\uFEFFbom",
    () => "😀".repeat(r.int(1, 64)),
    () => "e\u0301\u0301\u0301",
    () => "\r\n\t",
    () => "\uFFFF\uFFFE",
    () => "\uD800",
    () => "\uDC00x",
    () => ({ raw: "%ED%A0%80" }),
    () => ({ raw: "%FF%FE" }),
    () => ({ raw: "%C0%80" }),
    () => ({ raw: "%" }),
    () => ({ raw: "%zz" }),
    () => ({ raw: "%E2%82" }),
    () => ({ raw: "a%00b" }),
    () => LONG(r.pick([256, 1024, 65_536])),
    () => LONG(r.pick([200_000, 500_000]), "\u00e9"),
    () => "' OR 1=1 --",
    () => "'); DROP TABLE volumes; --",
    () => "<![CDATA[x]]><a>&amp;",
    () => "&#0;&#xD800;",
    () => "../../../etc/passwd",
    () => "%s%n%x",
    () => "$" + "{jndi:x}",
    () => "__proto__",
    () => "constructor",
    () => "toString",
    () => "null",
    () => "undefined",
    () => "NaN",
    () => "[object Object]",
    () => "*",
    () => "?*[]",
    () => "\\",
    () => "a".repeat(129),
    () => "x\ny",
  ])();
}

/** A value of the wrong kind or out of range for a scalar of this type. */
export function hostileFor(r: Prng, shape: ScalarShape): Value {
  if (r.chance(0.3)) return hostileString(r);
  switch (shape.type) {
    case "integer":
    case "long":
    case "double":
    case "float":
      return r.pick([
        "-1",
        "0",
        "-0",
        "+5",
        "1.5",
        "1e3",
        "0x10",
        " 5",
        "5 ",
        "2147483647",
        "2147483648",
        "-2147483649",
        "9007199254740991",
        "9007199254740993",
        "99999999999999999999999999999",
        "-99999999999999999999",
        "NaN",
        "Infinity",
        "-Infinity",
        "1e309",
        "\u0663",
        "\uFF11",
        "abc",
        "",
        "true",
      ]);
    case "boolean":
      return r.pick(["TRUE", "yes", "1", "0", "", "t", "truee", "false ", "null"]);
    case "timestamp":
      return r.pick([
        "2024-02-30T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "275760-09-13T00:00:00Z",
        "1700000000",
        "2024-01-01T25:00:00Z",
        "2024-01-01T00:00:00+99:99",
        "yesterday",
        "",
        "2024-01-01T00:00:00.999999999999Z",
      ]);
    case "blob":
      return r.pick(["!!!", "abc", "a===", "====", "", "YQ", "YQ=", LONG(100_000, "A")]);
    case "string":
      return shape.enum
        ? r.pick([shape.enum[0].toUpperCase(), `${shape.enum[0]} `, "bogus", ""])
        : hostileString(r);
  }
}
