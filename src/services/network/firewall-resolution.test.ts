import assert from "node:assert/strict";
import { test } from "node:test";
import type { GroupMember } from "./contracts.ts";
import { resolveFirewall } from "./firewall-resolution.ts";
import type { SecurityGroupRuleRecord } from "./network-records.ts";

let n = 0;
function rule(groupId: string, over: Partial<SecurityGroupRuleRecord>): SecurityGroupRuleRecord {
  return {
    id: `sgr-${n++}`,
    groupId,
    ownerId: "111111111111",
    egress: false,
    protocol: "tcp",
    fromPort: 80,
    toPort: 80,
    cidr: null,
    referencedGroupId: null,
    description: null,
    ...over,
  };
}

function member(instanceId: string | null, privateIp: string, groupIds: string[]): GroupMember {
  return { networkInterfaceId: `eni-${privateIp}`, instanceId, vpcId: "vpc-1", privateIp, groupIds };
}

test("group references resolve to the members' /32s and follow membership", () => {
  const rules = [
    rule("sg-web", { referencedGroupId: "sg-client" }),
    rule("sg-web", { fromPort: 22, toPort: 22, cidr: "0.0.0.0/0" }),
    rule("sg-web", { egress: true, protocol: "-1", fromPort: -1, toPort: -1, cidr: "0.0.0.0/0" }),
    rule("sg-client", { egress: true, protocol: "-1", fromPort: -1, toPort: -1, cidr: "0.0.0.0/0" }),
  ];
  const web = member("i-web", "172.31.0.4", ["sg-web"]);
  const client = member("i-client", "172.31.16.9", ["sg-client"]);
  const before = resolveFirewall([web, client], rules);
  assert.deepEqual(before, [
    {
      instanceId: "i-client",
      privateIp: "172.31.16.9",
      ingress: [],
      egress: [{ protocol: "all", cidrs: ["0.0.0.0/0"] }],
    },
    {
      instanceId: "i-web",
      privateIp: "172.31.0.4",
      ingress: [
        { protocol: "tcp", fromPort: 22, toPort: 22, cidrs: ["0.0.0.0/0"] },
        { protocol: "tcp", fromPort: 80, toPort: 80, cidrs: ["172.31.16.9/32"] },
      ],
      egress: [{ protocol: "all", cidrs: ["0.0.0.0/0"] }],
    },
  ]);
  // A second client joins the group: the web server's port 80 rule now admits both.
  const second = member("i-second", "172.31.0.10", ["sg-client"]);
  const after = resolveFirewall([web, client, second], rules);
  const webAfter = after.find((f) => f.instanceId === "i-web");
  assert.deepEqual(webAfter?.ingress[1], {
    protocol: "tcp",
    fromPort: 80,
    toPort: 80,
    cidrs: ["172.31.0.10/32", "172.31.16.9/32"],
  });
  // The client leaves: a reference to a group without members admits nobody (the rule is left out).
  const alone = resolveFirewall([web], rules);
  assert.deepEqual(alone[0].ingress, [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrs: ["0.0.0.0/0"] }]);
});

test("the default group's self reference admits every member including itself; ICMP keeps type and code", () => {
  const rules = [
    rule("sg-default", { protocol: "-1", fromPort: -1, toPort: -1, referencedGroupId: "sg-default" }),
    rule("sg-default", { protocol: "icmp", fromPort: 8, toPort: -1, cidr: "10.0.0.0/8" }),
    rule("sg-other", { protocol: "icmp", fromPort: 8, toPort: -1, cidr: "192.168.0.0/16" }),
  ];
  const a = member("i-a", "172.31.0.5", ["sg-default", "sg-other"]);
  const b = member("i-b", "172.31.0.6", ["sg-default"]);
  const unattached = member(null, "172.31.0.7", ["sg-default"]);
  const out = resolveFirewall([a, b, unattached], rules);
  assert.deepEqual(
    out.map((f) => f.instanceId),
    ["i-a", "i-b"],
    "an interface without an instance has no firewall",
  );
  assert.deepEqual(out[0].ingress, [
    // Same protocol and ports from two groups: one rule, sources merged and sorted.
    { protocol: "all", cidrs: ["172.31.0.5/32", "172.31.0.6/32", "172.31.0.7/32"] },
    { protocol: "icmp", fromPort: 8, toPort: -1, cidrs: ["10.0.0.0/8", "192.168.0.0/16"] },
  ]);
  assert.deepEqual(out[0].egress, [], "no egress rules: nothing leaves");
  assert.deepEqual(
    resolveFirewall([a, b, unattached], [...rules].reverse()),
    out,
    "order of rules does not matter",
  );
});
