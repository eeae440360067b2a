// The console's rules editor model without a browser: rules shown as rows (types as the AWS
// console names them) and the plan a save makes from the rows (Authorize new, Modify changed,
// Revoke removed; a rule removed and added back is kept).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { SecurityGroupRule } from "@aws-sdk/client-ec2";
import {
  draftOf,
  newDraft,
  portRangeText,
  type RuleDraft,
  specOfDraft,
  typeOf,
  withType,
} from "../../src/console/pages/security-groups/rule-model.ts";
import { planRules } from "../../src/console/pages/security-groups/rule-plan.ts";

const rule = (id: string, r: Partial<SecurityGroupRule>): SecurityGroupRule => ({
  SecurityGroupRuleId: id,
  GroupId: "sg-1",
  IsEgress: false,
  ...r,
});
const ssh = rule("sgr-ssh", { IpProtocol: "tcp", FromPort: 22, ToPort: 22, CidrIpv4: "10.0.0.0/8" });
const all = rule("sgr-all", { IpProtocol: "-1", FromPort: -1, ToPort: -1, CidrIpv4: "0.0.0.0/0" });
const icmp = rule("sgr-icmp", { IpProtocol: "icmp", FromPort: 8, ToPort: -1, CidrIpv4: "10.0.0.0/8" });
const ref = rule("sgr-ref", {
  IpProtocol: "tcp",
  FromPort: 5432,
  ToPort: 5433,
  ReferencedGroupInfo: { GroupId: "sg-2" },
  Description: "db",
});

function draft(type: RuleDraft["type"], peer: string, patch: Partial<RuleDraft> = {}): RuleDraft {
  return { ...newDraft(type, peer), ...patch };
}

test("rules read as the console's types, protocols and port ranges", () => {
  assert.deepEqual(
    [ssh, all, icmp, ref].map((r) => [typeOf(r), portRangeText(r)]),
    [
      ["ssh", "22"],
      ["all-traffic", "All"],
      ["custom-protocol", "8 - -1"],
      ["custom-tcp", "5432 - 5433"],
    ],
  );
  assert.deepEqual(draftOf(ref), {
    key: "sgr-ref",
    ruleId: "sgr-ref",
    type: "custom-tcp",
    protocol: "tcp",
    portRange: "5432 - 5433",
    peer: "sg-2",
    description: "db",
  });
  // A named type fixes protocol and ports; back to a custom one, the ports are the user's again.
  const http = withType(newDraft(), "http");
  assert.deepEqual([http.protocol, http.portRange], ["tcp", "80"]);
  assert.deepEqual(
    [withType(http, "custom-udp").protocol, withType(http, "custom-udp").portRange],
    ["udp", ""],
  );
});

test("rows become rules; what the console cannot build a request from is said per field", () => {
  assert.deepEqual(specOfDraft(draft("custom-tcp", "sg-2", { portRange: "8000-8080" })), {
    protocol: "tcp",
    fromPort: 8000,
    toPort: 8080,
    groupId: "sg-2",
    description: undefined,
  });
  assert.deepEqual(specOfDraft(draft("all-icmp", "0.0.0.0/0")), {
    protocol: "icmp",
    fromPort: -1,
    toPort: -1,
    cidr: "0.0.0.0/0",
    description: undefined,
  });
  // Values out of range are the API's to refuse, with its own code.
  assert.deepEqual(specOfDraft(draft("custom-tcp", "10.0.0.0/33", { portRange: "70000" })), {
    protocol: "tcp",
    fromPort: 70000,
    toPort: 70000,
    cidr: "10.0.0.0/33",
    description: undefined,
  });
  assert.equal(
    (specOfDraft(draft("custom-tcp", "10.0.0.0/8", { portRange: "ssh" })) as { field: string }).field,
    "portRange",
  );
  assert.equal((specOfDraft(draft("ssh", " ")) as { field: string }).field, "peer");
});

test("the save plan: authorize new rows, modify changed ones, revoke removed ones, keep the rest", () => {
  const rows = [
    draftOf(all), // unchanged
    { ...draftOf(ref), description: "postgres" }, // changed
    draft("http", "0.0.0.0/0"), // new
  ];
  const result = planRules([ssh, all, ref], rows);
  assert.ok("plan" in result);
  assert.deepEqual(result.plan, {
    authorize: [{ protocol: "tcp", fromPort: 80, toPort: 80, cidr: "0.0.0.0/0", description: undefined }],
    modify: [
      {
        ruleId: "sgr-ref",
        spec: { protocol: "tcp", fromPort: 5432, toPort: 5433, groupId: "sg-2", description: "postgres" },
      },
    ],
    revoke: ["sgr-ssh"],
  });
});

test("a rule removed and added back as a new row is kept, not revoked and authorized again", () => {
  // Also what a save that failed half-way leaves: rules it added match the rows that asked for them.
  const result = planRules([ssh], [draft("ssh", "10.0.0.0/8")]);
  assert.ok("plan" in result);
  assert.deepEqual(result.plan, { authorize: [], modify: [], revoke: [] });
  const errors = planRules([ssh], [draft("custom-tcp", "10.0.0.0/8")]);
  assert.ok("errors" in errors);
  assert.deepEqual(
    [...errors.errors.values()].map((e) => e.field),
    ["portRange"],
  );
});
