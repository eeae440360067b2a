// The rules editor's model, as the AWS console's "Edit inbound rules" page has it: each row is a
// rule type (SSH, HTTP, Custom TCP...) that fixes the protocol and port range or lets them be
// typed, a source (inbound) or destination (outbound) that is a CIDR block or a security group id,
// and a description. Saving turns the rows into a plan against the group's current rules.
import type { SecurityGroupRule } from "@aws-sdk/client-ec2";
import type { RuleSpec } from "../../api/security-groups.ts";

export type RuleType =
  | "custom-tcp"
  | "custom-udp"
  | "custom-protocol"
  | "all-tcp"
  | "all-udp"
  | "all-icmp"
  | "all-traffic"
  | "ssh"
  | "http"
  | "https";

/** A type fixes the protocol (unless custom protocol) and, unless custom, the port range. */
export const RULE_TYPES: { id: RuleType; label: string; protocol?: string; ports?: string }[] = [
  { id: "custom-tcp", label: "Custom TCP", protocol: "tcp" },
  { id: "custom-udp", label: "Custom UDP", protocol: "udp" },
  { id: "custom-protocol", label: "Custom protocol" },
  { id: "all-tcp", label: "All TCP", protocol: "tcp", ports: "0 - 65535" },
  { id: "all-udp", label: "All UDP", protocol: "udp", ports: "0 - 65535" },
  { id: "all-icmp", label: "All ICMP", protocol: "icmp", ports: "All" },
  { id: "all-traffic", label: "All traffic", protocol: "-1", ports: "All" },
  { id: "ssh", label: "SSH", protocol: "tcp", ports: "22" },
  { id: "http", label: "HTTP", protocol: "tcp", ports: "80" },
  { id: "https", label: "HTTPS", protocol: "tcp", ports: "443" },
];

export function ruleType(id: RuleType) {
  return RULE_TYPES.find((t) => t.id === id) ?? RULE_TYPES[0];
}

/** One row of the editor; `ruleId` is the existing rule it shows (none for a new row). */
export interface RuleDraft {
  key: string;
  ruleId?: string;
  type: RuleType;
  /** The protocol as typed (custom protocol) or fixed by the type: tcp, udp, icmp, -1 or a number. */
  protocol: string;
  portRange: string;
  /** CIDR block or security group id. */
  peer: string;
  description: string;
}

let counter = 0;

export function newDraft(type: RuleType = "custom-tcp", peer = ""): RuleDraft {
  const t = ruleType(type);
  return {
    key: `new-${++counter}`,
    type,
    protocol: t.protocol ?? "",
    portRange: t.ports ?? "",
    peer,
    description: "",
  };
}

/** A draft with another type: the type's fixed protocol and ports, or the row's own if custom. */
export function withType(d: RuleDraft, type: RuleType): RuleDraft {
  const t = ruleType(type);
  const wasFixed = ruleType(d.type).ports !== undefined;
  return {
    ...d,
    type,
    protocol: t.protocol ?? (d.type === "custom-protocol" ? d.protocol : ""),
    portRange: t.ports ?? (wasFixed ? "" : d.portRange),
  };
}

/** "TCP", "UDP", "ICMP", "All" or the protocol's number, as the console's tables show it. */
export function protocolText(p: string | undefined): string {
  if (p === undefined) return "-";
  if (p === "-1") return "All";
  return /^[a-z]+$/.test(p) ? p.toUpperCase() : p;
}

export function portRangeText(r: Pick<SecurityGroupRule, "IpProtocol" | "FromPort" | "ToPort">): string {
  if (r.IpProtocol === "-1" || r.FromPort === undefined || r.FromPort === -1) return "All";
  return r.FromPort === r.ToPort ? String(r.FromPort) : `${r.FromPort} - ${r.ToPort}`;
}

export function peerOf(r: SecurityGroupRule): string {
  return r.CidrIpv4 ?? r.ReferencedGroupInfo?.GroupId ?? r.CidrIpv6 ?? r.PrefixListId ?? "";
}

/** The type a rule shows as: a named type when it matches one exactly, else a custom one. */
export function typeOf(r: Pick<SecurityGroupRule, "IpProtocol" | "FromPort" | "ToPort">): RuleType {
  const ports = portRangeText(r);
  const named = RULE_TYPES.find((t) => t.protocol === r.IpProtocol && t.ports === ports);
  if (named) return named.id;
  if (r.IpProtocol === "tcp") return "custom-tcp";
  if (r.IpProtocol === "udp") return "custom-udp";
  return "custom-protocol";
}

export function typeLabel(r: SecurityGroupRule): string {
  return ruleType(typeOf(r)).label;
}

export function draftOf(r: SecurityGroupRule): RuleDraft {
  return {
    key: r.SecurityGroupRuleId ?? `rule-${++counter}`,
    ruleId: r.SecurityGroupRuleId,
    type: typeOf(r),
    protocol: r.IpProtocol ?? "",
    portRange: portRangeText(r),
    peer: peerOf(r),
    description: r.Description ?? "",
  };
}

export function specOfRule(r: SecurityGroupRule): RuleSpec {
  return {
    protocol: r.IpProtocol ?? "-1",
    fromPort: r.FromPort,
    toPort: r.ToPort,
    cidr: r.CidrIpv4,
    groupId: r.ReferencedGroupInfo?.GroupId,
    description: r.Description || undefined,
  };
}

export interface DraftError {
  field: "protocol" | "portRange" | "peer";
  message: string;
}

const PORTS = /^\s*(-?\d+)\s*(?:-\s*(-?\d+)\s*)?$/;

/**
 * The rule a row asks for, or what the user must fix first. Only what the console must know to
 * build the request is checked here; the values themselves (a port of 70000, a /33) are the API's
 * to judge, and its error is shown as it gave it.
 */
export function specOfDraft(d: RuleDraft): RuleSpec | DraftError {
  const protocol = d.protocol.trim().toLowerCase();
  if (!protocol) return { field: "protocol", message: "Enter a protocol name or number." };
  const peer = d.peer.trim();
  if (!peer) return { field: "peer", message: "Enter a CIDR block or a security group ID." };
  const target = peer.startsWith("sg-") ? { groupId: peer } : { cidr: peer };
  const description = d.description.trim() || undefined;
  const range = d.portRange.trim();
  if (
    protocol === "-1" ||
    ((range === "" || range.toLowerCase() === "all") && !["tcp", "udp"].includes(protocol))
  ) {
    // EC2 stores "all ports" of ICMP and other protocols as -1.
    const ports = protocol === "-1" ? {} : { fromPort: -1, toPort: -1 };
    return { protocol, ...ports, ...target, description };
  }
  const m = PORTS.exec(range);
  if (!m) return { field: "portRange", message: "Enter a port (22) or a range (8000-8080)." };
  const fromPort = Number(m[1]);
  return { protocol, fromPort, toPort: m[2] === undefined ? fromPort : Number(m[2]), ...target, description };
}

export function isDraftError(x: RuleSpec | DraftError): x is DraftError {
  return "field" in x;
}

/** Equal keys: the same rule to EC2 (ports of "all" protocols are -1 whichever way they came). */
export function specKey(s: RuleSpec): string {
  const allPorts = s.protocol === "-1";
  const from = allPorts ? -1 : (s.fromPort ?? -1);
  const to = allPorts ? -1 : (s.toPort ?? -1);
  return [s.protocol, from, to, s.cidr ?? "", s.groupId ?? "", s.description ?? ""].join("|");
}
