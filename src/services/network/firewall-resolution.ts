// Security groups as the data plane enforces them: per instance interface, the union of its
// groups' rules, with every group reference replaced by the current members' addresses (so a
// group-to-group rule follows membership, as on EC2). Pure: the service feeds it the records.

import type { FirewallRule, NicFirewall } from "../../network/spec.ts";
import type { GroupMember } from "./contracts.ts";
import type { SecurityGroupRuleRecord } from "./network-records.ts";

/**
 * The firewall of every attached interface among `members` (interfaces without an instance are
 * not plugged, so they have none). Rules with the same protocol and ports are merged into one
 * with the union of their sources; a rule whose referenced group has no members matches nothing
 * and is left out. Output is sorted, so equal inputs give equal outputs.
 */
export function resolveFirewall(members: GroupMember[], rules: SecurityGroupRuleRecord[]): NicFirewall[] {
  const addressesOf = new Map<string, Set<string>>();
  for (const m of members) {
    for (const g of m.groupIds) {
      const set = addressesOf.get(g) ?? new Set<string>();
      set.add(`${m.privateIp}/32`);
      addressesOf.set(g, set);
    }
  }
  const rulesOf = new Map<string, SecurityGroupRuleRecord[]>();
  for (const r of rules) rulesOf.set(r.groupId, [...(rulesOf.get(r.groupId) ?? []), r]);

  const seen = new Set<string>();
  const out: NicFirewall[] = [];
  for (const m of members) {
    if (m.instanceId === null || seen.has(m.networkInterfaceId)) continue;
    seen.add(m.networkInterfaceId);
    const own = [...new Set(m.groupIds)].flatMap((g) => rulesOf.get(g) ?? []);
    out.push({
      instanceId: m.instanceId,
      privateIp: m.privateIp,
      ingress: merge(
        own.filter((r) => !r.egress),
        addressesOf,
      ),
      egress: merge(
        own.filter((r) => r.egress),
        addressesOf,
      ),
    });
  }
  return out.sort((a, b) => compare(a.instanceId, b.instanceId));
}

function merge(rules: SecurityGroupRuleRecord[], addressesOf: Map<string, Set<string>>): FirewallRule[] {
  const byPorts = new Map<string, { rule: FirewallRule; cidrs: Set<string> }>();
  for (const r of rules) {
    const sources = r.cidr !== null ? [r.cidr] : [...(addressesOf.get(r.referencedGroupId ?? "") ?? [])];
    if (!sources.length) continue;
    const rule: FirewallRule =
      r.protocol === "-1"
        ? { protocol: "all", cidrs: [] }
        : { protocol: r.protocol, fromPort: r.fromPort, toPort: r.toPort, cidrs: [] };
    const key = `${rule.protocol}|${rule.fromPort ?? ""}|${rule.toPort ?? ""}`;
    const entry = byPorts.get(key) ?? { rule, cidrs: new Set<string>() };
    for (const s of sources) entry.cidrs.add(s);
    byPorts.set(key, entry);
  }
  return [...byPorts.entries()]
    .sort(([a], [b]) => compare(a, b))
    .map(([, { rule, cidrs }]) => ({ ...rule, cidrs: [...cidrs].sort(compareCidrs) }));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Numeric address order, then prefix length. */
function compareCidrs(a: string, b: string): number {
  const key = (c: string) => {
    const [ip, len] = c.split("/");
    return ip.split(".").reduce((n, o) => n * 256 + Number(o), 0) * 64 + Number(len);
  };
  return key(a) - key(b);
}
