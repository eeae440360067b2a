import assert from "node:assert/strict";
import { test } from "node:test";
import { isStrataError } from "../../errors.ts";
import type { SecurityGroupRuleRecord } from "./network-records.ts";
import {
  firstDuplicate,
  normaliseCidr,
  normaliseProtocol,
  parsePermissions,
  ruleText,
} from "./security-group-rules.ts";

const code = (c: string) => (e: unknown) => isStrataError(e) && e.code === c;

test("protocol names and numbers map to the stored name; others are EC2 errors", () => {
  assert.equal(normaliseProtocol("tcp"), "tcp");
  assert.equal(normaliseProtocol("TCP"), "tcp");
  assert.equal(normaliseProtocol("6"), "tcp");
  assert.equal(normaliseProtocol("17"), "udp");
  assert.equal(normaliseProtocol("udp"), "udp");
  assert.equal(normaliseProtocol("1"), "icmp");
  assert.equal(normaliseProtocol("icmp"), "icmp");
  assert.equal(normaliseProtocol("-1"), "-1");
  assert.throws(() => normaliseProtocol("gre"), code("InvalidParameterValue"));
  assert.throws(() => normaliseProtocol("47"), /Strata supports tcp/);
  assert.throws(() => normaliseProtocol("256"), /Unknown protocol/);
  assert.throws(() => normaliseProtocol(undefined), code("MissingParameter"));
});

test("CIDRs: canonical IPv4 only", () => {
  assert.equal(normaliseCidr("0.0.0.0/0"), "0.0.0.0/0");
  assert.equal(normaliseCidr("10.1.2.0/24"), "10.1.2.0/24");
  assert.equal(normaliseCidr("203.0.113.7/32"), "203.0.113.7/32");
  for (const bad of [
    "10.0.0.0",
    "10.0.0.0/33",
    "256.0.0.0/8",
    "10.0.0/8",
    "::/0",
    "010.0.0.0/8",
    "x",
    "",
    undefined,
  ]) {
    assert.throws(() => normaliseCidr(bad), code("InvalidParameterValue"), String(bad));
  }
  assert.throws(() => normaliseCidr("10.1.2.3/24"), /did you mean 10\.1\.2\.0\/24/);
});

test("a permission becomes one rule per source, ports checked per protocol", () => {
  const specs = parsePermissions([
    {
      ipProtocol: "6",
      fromPort: 22,
      toPort: 22,
      ipRanges: [{ cidrIp: "0.0.0.0/0", description: "ssh" }, { cidrIp: "10.0.0.0/8" }],
      groups: [{ groupId: "sg-0123456789abcdef0" }],
    },
    { ipProtocol: "-1", fromPort: 5, toPort: 1, ipRanges: [{ cidrIp: "10.0.0.0/8" }] },
    { ipProtocol: "icmp", fromPort: 8, toPort: -1, ipRanges: [{ cidrIp: "10.0.0.0/8" }] },
  ]);
  assert.deepEqual(
    specs.map((s) => [s.protocol, s.fromPort, s.toPort, s.cidr, s.group?.groupId ?? null, s.description]),
    [
      ["tcp", 22, 22, "0.0.0.0/0", null, "ssh"],
      ["tcp", 22, 22, "10.0.0.0/8", null, null],
      ["tcp", 22, 22, null, "sg-0123456789abcdef0", null],
      // All traffic: ports are ignored, as EC2 does.
      ["-1", -1, -1, "10.0.0.0/8", null, null],
      ["icmp", 8, -1, "10.0.0.0/8", null, null],
    ],
  );
});

test("bad ports, missing sources and bad descriptions are refused", () => {
  const cidr = [{ cidrIp: "0.0.0.0/0" }];
  const refused: [object, string][] = [
    [{ ipProtocol: "tcp", fromPort: 80, toPort: 22, ipRanges: cidr }, "InvalidParameterValue"],
    [{ ipProtocol: "tcp", fromPort: 0, toPort: 65536, ipRanges: cidr }, "InvalidParameterValue"],
    [{ ipProtocol: "udp", fromPort: -1, toPort: -1, ipRanges: cidr }, "InvalidParameterValue"],
    [{ ipProtocol: "tcp", fromPort: 22, ipRanges: cidr }, "InvalidParameterValue"],
    [{ ipProtocol: "icmp", fromPort: 256, toPort: 0, ipRanges: cidr }, "InvalidParameterValue"],
    [{ ipProtocol: "icmp", fromPort: -1, toPort: 3, ipRanges: cidr }, "InvalidParameterValue"],
    [{ ipProtocol: "icmp", ipRanges: cidr }, "InvalidParameterValue"],
    [{ ipProtocol: "tcp", fromPort: 22, toPort: 22 }, "InvalidPermission.Malformed"],
    [
      { ipProtocol: "tcp", fromPort: 22, toPort: 22, groups: [{ userId: "123456789012" }] },
      "InvalidPermission.Malformed",
    ],
    [{ ipProtocol: "tcp", fromPort: 22, toPort: 22, ipRanges: cidr, ipv6Ranges: 1 }, "InvalidParameterValue"],
    [
      {
        ipProtocol: "tcp",
        fromPort: 22,
        toPort: 22,
        ipRanges: [{ cidrIp: "0.0.0.0/0", description: "<b>" }],
      },
      "InvalidParameterValue",
    ],
  ];
  for (const [p, c] of refused) assert.throws(() => parsePermissions([p]), code(c), JSON.stringify(p));
  assert.throws(() => parsePermissions([]), code("MissingParameter"));
});

function rule(over: Partial<SecurityGroupRuleRecord>): SecurityGroupRuleRecord {
  return {
    id: "sgr-0",
    groupId: "sg-1",
    ownerId: "111111111111",
    egress: false,
    protocol: "tcp",
    fromPort: 22,
    toPort: 22,
    cidr: "0.0.0.0/0",
    referencedGroupId: null,
    description: null,
    ...over,
  };
}

test("duplicates: same direction, protocol, ports and source, whatever the description", () => {
  const existing = [rule({ description: "ssh" })];
  assert.equal(firstDuplicate(existing, [rule({ id: "sgr-1" })])?.id, "sgr-1");
  assert.equal(firstDuplicate(existing, [rule({ egress: true })]), undefined);
  assert.equal(firstDuplicate(existing, [rule({ toPort: 23 })]), undefined);
  assert.equal(firstDuplicate(existing, [rule({ cidr: "10.0.0.0/8" })]), undefined);
  assert.equal(firstDuplicate(existing, [rule({ cidr: null, referencedGroupId: "sg-2" })]), undefined);
  // Twice in one request is a duplicate too.
  const twice = [rule({ id: "a", cidr: "10.0.0.0/8" }), rule({ id: "b", cidr: "10.0.0.0/8" })];
  assert.equal(firstDuplicate(existing, twice)?.id, "b");
  assert.equal(ruleText(rule({})), "peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW");
  assert.equal(
    ruleText(rule({ protocol: "-1", cidr: null, referencedGroupId: "sg-2" })),
    "peer: sg-2, ALL, ALLOW",
  );
});
