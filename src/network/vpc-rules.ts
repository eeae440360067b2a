// The VPC namespace's own nftables tables besides the firewall: what guests may reach of the
// namespace itself (DHCP, DNS at base+2, the metadata proxy; nothing else), what may cross the
// uplink to the hub, and the 1:1 NAT of public addresses. Pure functions from the VPC's state.
import { formatIp, parseIp } from "./ipv4.ts";
import { VPC_UPLINK } from "./names.ts";

export const BASE_TABLE = "strata-base";
export const PUBLIC_TABLE = "strata-public";
export const METADATA_IP = "169.254.169.254";

export interface BaseRulesInput {
  bridges: string[];
  dnsIp: string;
}

export function compileVpcBase({ bridges, dnsIp }: BaseRulesInput): string {
  const dns = formatIp(parseIp(dnsIp));
  for (const b of bridges) if (!/^[a-z0-9]{1,15}$/.test(b)) throw new Error(`bad bridge name: ${b}`);
  const input = [
    "type filter hook input priority filter; policy drop;",
    'iif "lo" accept',
    "ct state established,related accept",
    "ct state invalid drop",
  ];
  if (bridges.length) {
    const ifs = `iifname { ${bridges.map((b) => `"${b}"`).join(", ")} }`;
    input.push(
      `${ifs} udp dport 67 accept`,
      `${ifs} ip daddr ${dns} udp dport 53 accept`,
      `${ifs} ip daddr ${dns} tcp dport 53 accept`,
      `${ifs} ip daddr ${METADATA_IP} tcp dport 80 accept`,
    );
  }
  const forward = [
    // Before the firewall table; an accept here only ends this chain, the firewall still decides.
    "type filter hook forward priority filter - 10; policy accept;",
    "ct state established,related accept",
    `iifname "${VPC_UPLINK}" oifname "${VPC_UPLINK}" drop`,
    // From the hub only what the public table's DNAT sent to a guest.
    `iifname "${VPC_UPLINK}" ct status & dnat != dnat drop`,
  ];
  return [
    `table inet ${BASE_TABLE}`,
    `delete table inet ${BASE_TABLE}`,
    `table inet ${BASE_TABLE} {`,
    chain("input", input),
    chain("forward", forward),
    "}",
    "",
  ].join("\n");
}

export interface PublicAddress {
  privateIp: string;
  publicIp: string;
}

/**
 * 1:1 NAT (DNAT pool address -> private address from the hub, SNAT back), and what may leave
 * through the uplink: with guest egress, new connections of guests that have a public address;
 * without, nothing new at all (replies to the host's connections are established, and pass).
 */
export function compilePublic(addresses: PublicAddress[], guestEgress: boolean): string {
  const sorted = [...addresses]
    .map((a) => ({ priv: formatIp(parseIp(a.privateIp)), pub: formatIp(parseIp(a.publicIp)) }))
    .sort((a, b) => parseIp(a.pub) - parseIp(b.pub));
  const pre = ["type nat hook prerouting priority dstnat; policy accept;"];
  const post = ["type nat hook postrouting priority srcnat; policy accept;"];
  const out = [
    "type filter hook forward priority filter - 5; policy accept;",
    "ct state established,related accept",
  ];
  if (sorted.length) {
    pre.push(
      `iifname "${VPC_UPLINK}" dnat ip to ip daddr map { ${sorted.map((a) => `${a.pub} : ${a.priv}`).join(", ")} }`,
    );
    post.push(
      `oifname "${VPC_UPLINK}" snat ip to ip saddr map { ${sorted.map((a) => `${a.priv} : ${a.pub}`).join(", ")} }`,
    );
    if (guestEgress)
      out.push(`oifname "${VPC_UPLINK}" ip saddr { ${sorted.map((a) => a.priv).join(", ")} } accept`);
  }
  out.push(`oifname "${VPC_UPLINK}" drop`);
  return [
    `table ip ${PUBLIC_TABLE}`,
    `delete table ip ${PUBLIC_TABLE}`,
    `table ip ${PUBLIC_TABLE} {`,
    chain("pre", pre),
    chain("post", post),
    chain("out", out),
    "}",
    "",
  ].join("\n");
}

function chain(name: string, lines: string[]): string {
  return [`  chain ${name} {`, ...lines.map((l) => `    ${l}`), "  }"].join("\n");
}
