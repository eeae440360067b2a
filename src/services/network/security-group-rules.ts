// Security group rules as EC2 takes them (IpPermissions: a protocol, a port range and sources),
// checked and normalised into one rule per source, the form EC2 stores and counts them in.
import { StrataError } from "../../errors.ts";
import type { RuleProtocol, SecurityGroupRuleRecord } from "./network-records.ts";

/** One IpPermission of a request (the handler maps the SDK shape onto this). */
export interface PermissionInput {
  ipProtocol?: string;
  fromPort?: number;
  toPort?: number;
  ipRanges?: { cidrIp?: string; description?: string }[];
  groups?: GroupPairInput[];
  /** IPv6 ranges and prefix lists: Strata has neither (refused when given). */
  ipv6Ranges?: number;
  prefixListIds?: number;
}

export interface GroupPairInput {
  groupId?: string;
  groupName?: string;
  userId?: string;
  description?: string;
}

/** One rule as a request gives it: one source (a CIDR or a group, not yet resolved). */
export interface RuleSpec {
  protocol: RuleProtocol;
  fromPort: number;
  toPort: number;
  cidr: string | null;
  group: GroupPairInput | null;
  description: string | null;
}

const PROTOCOLS: Record<string, RuleProtocol> = {
  tcp: "tcp",
  "6": "tcp",
  udp: "udp",
  "17": "udp",
  icmp: "icmp",
  "1": "icmp",
  "-1": "-1",
};

/** EC2's protocol names and numbers (tcp/6, udp/17, icmp/1, -1 = all) as the stored name. */
export function normaliseProtocol(value: string | undefined): RuleProtocol {
  if (value === undefined || value === "") {
    throw new StrataError("MissingParameter", "The request must contain the parameter ipProtocol");
  }
  const known = PROTOCOLS[value.toLowerCase()];
  if (known) return known;
  if (/^\d+$/.test(value) && Number(value) <= 255) {
    throw new StrataError(
      "InvalidParameterValue",
      `Invalid value '${value}' for IP protocol. Strata supports tcp (6), udp (17), icmp (1) and -1 (all).`,
    );
  }
  throw new StrataError(
    "InvalidParameterValue",
    `Invalid value '${value}' for IP protocol. Unknown protocol.`,
  );
}

/** An IPv4 CIDR a.b.c.d/n in its canonical form (no host bits): InvalidParameterValue otherwise. */
export function normaliseCidr(value: string | undefined): string {
  const bad = () =>
    new StrataError(
      "InvalidParameterValue",
      `Value (${value ?? ""}) for parameter cidrIp is invalid. This is not a valid CIDR block.`,
    );
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value ?? "");
  if (!m) throw bad();
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o, i) => o > 255 || String(o) !== m[i + 1]) || prefix > 32) throw bad();
  const address = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if ((address & mask) >>> 0 !== address) {
    throw new StrataError(
      "InvalidParameterValue",
      `Value (${value}) for parameter cidrIp is invalid: it has host bits set (did you mean ${ipv4(address & mask)}/${prefix}?)`,
    );
  }
  return `${octets.join(".")}/${prefix}`;
}

function ipv4(n: number): string {
  return [24, 16, 8, 0].map((s) => ((n >>> 0) >>> s) & 255).join(".");
}

// EC2: rule descriptions are up to 255 characters of a-zA-Z0-9, spaces and ._-:/()#,@[]+=&;{}!$*
const DESCRIPTION = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/;

export function checkRuleDescription(value: string | undefined): string | null {
  if (value === undefined || value === "") return null;
  if (value.length > 255 || !DESCRIPTION.test(value)) {
    throw new StrataError(
      "InvalidParameterValue",
      "Invalid rule description. Valid descriptions are strings less than 256 characters from the following set: a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*",
    );
  }
  return value;
}

function portRange(p: PermissionInput, protocol: RuleProtocol): { fromPort: number; toPort: number } {
  if (protocol === "-1") return { fromPort: -1, toPort: -1 }; // EC2 ignores ports for all traffic
  const { fromPort, toPort } = p;
  if (protocol === "icmp") {
    if (fromPort === undefined || toPort === undefined) {
      throw new StrataError(
        "InvalidParameterValue",
        "Invalid value 'Must specify both ICMP type and code (-1 for all).' for icmpTypeCode",
      );
    }
    const ok = (v: number) => Number.isInteger(v) && v >= -1 && v <= 255;
    if (!ok(fromPort) || !ok(toPort)) {
      throw new StrataError(
        "InvalidParameterValue",
        `Invalid ICMP type ${fromPort} or code ${toPort}: each is -1 (all) or 0 to 255`,
      );
    }
    if (fromPort === -1 && toPort !== -1) {
      throw new StrataError("InvalidParameterValue", "All ICMP types (-1) require all ICMP codes (-1)");
    }
    return { fromPort, toPort };
  }
  if (fromPort === undefined || toPort === undefined) {
    throw new StrataError(
      "InvalidParameterValue",
      "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange",
    );
  }
  const ok = (v: number) => Number.isInteger(v) && v >= 0 && v <= 65535;
  if (!ok(fromPort) || !ok(toPort)) {
    throw new StrataError(
      "InvalidParameterValue",
      `Invalid value '${ok(fromPort) ? toPort : fromPort}' for portRange. Ports are 0 to 65535.`,
    );
  }
  if (fromPort > toPort) {
    throw new StrataError(
      "InvalidParameterValue",
      `Invalid port range ${fromPort}-${toPort}: the from port must not exceed the to port`,
    );
  }
  return { fromPort, toPort };
}

/** Every rule of the permissions, one per source, checked (nothing is stored yet). */
export function parsePermissions(permissions: PermissionInput[]): RuleSpec[] {
  if (!permissions.length) {
    throw new StrataError("MissingParameter", "The request must contain the parameter ipPermissions");
  }
  const out: RuleSpec[] = [];
  for (const p of permissions) {
    const protocol = normaliseProtocol(p.ipProtocol);
    const ports = portRange(p, protocol);
    if (p.ipv6Ranges || p.prefixListIds) {
      throw new StrataError(
        "InvalidParameterValue",
        "Strata's VPCs are IPv4 only: Ipv6Ranges and PrefixListIds are not supported",
      );
    }
    const ranges = p.ipRanges ?? [];
    const groups = p.groups ?? [];
    if (!ranges.length && !groups.length) {
      throw new StrataError(
        "InvalidPermission.Malformed",
        "A permission must name a source or destination: IpRanges (CidrIp) or UserIdGroupPairs",
      );
    }
    for (const r of ranges) {
      out.push({
        ...ports,
        protocol,
        cidr: normaliseCidr(r.cidrIp),
        group: null,
        description: checkRuleDescription(r.description),
      });
    }
    for (const g of groups) {
      if (!g.groupId && !g.groupName) {
        throw new StrataError(
          "InvalidPermission.Malformed",
          "A UserIdGroupPair must name the group (GroupId, or GroupName in the default VPC)",
        );
      }
      out.push({
        ...ports,
        protocol,
        cidr: null,
        group: g,
        description: checkRuleDescription(g.description),
      });
    }
  }
  return out;
}

/** What makes two rules the same rule (EC2 ignores the description). */
export function ruleKey(r: {
  egress: boolean;
  protocol: RuleProtocol;
  fromPort: number;
  toPort: number;
  cidr: string | null;
  referencedGroupId: string | null;
}): string {
  return [
    r.egress ? "out" : "in",
    r.protocol,
    r.fromPort,
    r.toPort,
    r.cidr ?? "",
    r.referencedGroupId ?? "",
  ].join("|");
}

/** The first rule that is already among `existing` or given twice in `adding`, if any. */
export function firstDuplicate(
  existing: SecurityGroupRuleRecord[],
  adding: SecurityGroupRuleRecord[],
): SecurityGroupRuleRecord | undefined {
  const seen = new Set(existing.map(ruleKey));
  for (const r of adding) {
    const key = ruleKey(r);
    if (seen.has(key)) return r;
    seen.add(key);
  }
  return undefined;
}

/** A stored rule as the one-source permission it came from (UnknownIpPermissions, shapes). */
export function ruleAsPermission(r: RuleSpec, referencedGroupId?: string | null): PermissionInput {
  return {
    ipProtocol: r.protocol,
    fromPort: r.protocol === "-1" ? undefined : r.fromPort,
    toPort: r.protocol === "-1" ? undefined : r.toPort,
    ipRanges: r.cidr ? [{ cidrIp: r.cidr, description: r.description ?? undefined }] : undefined,
    groups: r.group
      ? [
          {
            ...r.group,
            groupId: referencedGroupId ?? r.group.groupId,
            description: r.description ?? undefined,
          },
        ]
      : undefined,
  };
}

/** EC2's words for a rule in InvalidPermission.Duplicate. */
export function ruleText(r: SecurityGroupRuleRecord): string {
  const peer = r.cidr ?? r.referencedGroupId;
  const proto = r.protocol === "-1" ? "ALL" : r.protocol.toUpperCase();
  const ports = r.protocol === "-1" ? "" : `, from port: ${r.fromPort}, to port: ${r.toPort}`;
  return `peer: ${peer}, ${proto}${ports}, ALLOW`;
}
