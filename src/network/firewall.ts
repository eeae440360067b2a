// Security groups as nftables rules: a pure compiler from the VPC's interfaces' rule sets to one nft
// script that replaces the VPC namespace's firewall table in a single transaction (`nft -f`), so a
// change applies at once to running guests and no packet ever sees half a rule set.
//
// EC2 semantics: stateful (replies of allowed connections pass both ways, and connections already
// established survive a revoke, as on AWS); ingress denied unless a rule allows it; egress only
// where a rule allows it. Rules match the interfaces' addresses, not their taps: bridged traffic
// reaches the inet hooks through br_netfilter, where the in/out interface is the bridge. That is
// sound because each tap admits only its own source address and delivers only its own destination
// address (the bridge-family guard, see guard-rules.ts).
import { formatIp, normalizeCidr, parseCidr, parseIp, size } from "./ipv4.ts";
import type { FirewallRule, NicFirewall } from "./spec.ts";

export const FIREWALL_TABLE = "strata-fw";

export function compileFirewall(nics: NicFirewall[]): string {
  const seen = new Set<string>();
  const chains: string[] = [];
  const egressMap: string[] = [];
  const ingressMap: string[] = [];
  for (const nic of [...nics].sort((a, b) => parseIp(a.privateIp) - parseIp(b.privateIp))) {
    const ip = formatIp(parseIp(nic.privateIp));
    if (seen.has(ip)) throw new Error(`two interfaces with the address ${ip} in one firewall`);
    seen.add(ip);
    const name = chainSuffix(nic.instanceId);
    egressMap.push(`${ip} : jump out_${name}`);
    ingressMap.push(`${ip} : jump in_${name}`);
    // An egress chain returns to the dispatcher (the destination's ingress is checked next) or drops.
    chains.push(
      chain(`out_${name}`, [...nic.egress.flatMap((r) => ruleLines(r, "daddr", "return")), "drop"]),
    );
    chains.push(
      chain(`in_${name}`, [...nic.ingress.flatMap((r) => ruleLines(r, "saddr", "accept")), "drop"]),
    );
  }
  const forward = [
    "type filter hook forward priority filter; policy drop;",
    "ct state established,related accept",
    "ct state invalid drop",
  ];
  if (seen.size) {
    forward.push(`ip saddr vmap { ${egressMap.join(", ")} }`);
    forward.push(`ip daddr vmap { ${ingressMap.join(", ")} }`);
    // From an interface, allowed by its egress, to no interface of the VPC (beyond it): whether it
    // may leave is the public table's business (guest egress).
    forward.push(`ip saddr { ${[...seen].join(", ")} } accept`);
  }
  return [
    // Creating the table first makes the delete valid when it does not exist yet; the three
    // commands are one transaction.
    `table inet ${FIREWALL_TABLE}`,
    `delete table inet ${FIREWALL_TABLE}`,
    `table inet ${FIREWALL_TABLE} {`,
    chain("forward", forward),
    ...chains,
    "}",
    "",
  ].join("\n");
}

function chain(name: string, lines: string[]): string {
  return [`  chain ${name} {`, ...lines.map((l) => `    ${l}`), "  }"].join("\n");
}

function chainSuffix(instanceId: string): string {
  if (!/^[A-Za-z0-9-]{1,40}$/.test(instanceId)) throw new Error(`bad instance id: ${instanceId}`);
  return instanceId.replaceAll("-", "_");
}

/** The nft statement(s) of one rule: nothing when it matches nothing (no CIDRs). */
function ruleLines(rule: FirewallRule, peer: "saddr" | "daddr", verdict: "accept" | "return"): string[] {
  const peers = mergeCidrs(rule.cidrs);
  if (!peers.length) return [];
  const addr = peers.includes("0.0.0.0/0") ? "" : `ip ${peer} { ${peers.join(", ")} } `;
  return [`${addr}${protocolMatch(rule)}${verdict}`];
}

function protocolMatch(rule: FirewallRule): string {
  const from = rule.fromPort ?? -1;
  const to = rule.toPort ?? -1;
  switch (rule.protocol) {
    case "all":
      return "";
    case "tcp":
    case "udp": {
      if (from === -1 && to === -1) return `meta l4proto ${rule.protocol} `;
      checkRange(from, 0, 65535, "port");
      checkRange(to, from, 65535, "port");
      return `${rule.protocol} dport ${from === to ? from : `${from}-${to}`} `;
    }
    case "icmp": {
      let m = "meta l4proto icmp ";
      if (from !== -1) {
        checkRange(from, 0, 255, "ICMP type");
        m += `icmp type ${from} `;
        if (to !== -1) {
          checkRange(to, 0, 255, "ICMP code");
          m += `icmp code ${to} `;
        }
      }
      return m;
    }
    default:
      throw new Error(`unknown protocol: ${(rule as { protocol: string }).protocol}`);
  }
}

function checkRange(n: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`bad ${what}: ${n}`);
}

/**
 * Normalized, deduplicated CIDRs without those inside another one: nft refuses overlapping
 * intervals in one set, and two CIDRs either nest or are disjoint.
 */
export function mergeCidrs(cidrs: string[]): string[] {
  const parsed = [...new Set(cidrs.map((c) => normalizeCidr(c.includes("/") ? c : `${c}/32`)))]
    .map((text) => ({ text, ...parseCidr(text.includes("/") ? text : `${text}/32`) }))
    .sort((a, b) => a.prefix - b.prefix || a.base - b.base);
  const kept: typeof parsed = [];
  for (const c of parsed) {
    if (!kept.some((k) => c.base >= k.base && c.base < k.base + size(k.prefix))) kept.push(c);
  }
  return kept.sort((a, b) => a.base - b.base).map((c) => c.text);
}
