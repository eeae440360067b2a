// Anti-spoofing on each guest's tap, in the namespace's bridge family (stateless: conntrack is not
// available to bridge-family rules on this kernel). A guest may send only from its own MAC and
// address (ARP included; 0.0.0.0 only for DHCP), only IPv4 and ARP, and its tap delivers to it
// only IPv4 packets for its own address (or broadcast) and ARP. Both halves make the firewall's
// address matching sound, and let the metadata proxy trust the source address.
import { formatIp, parseIp, parseMac } from "./ipv4.ts";

export const GUARD_TABLE = "strata-guard";

export interface GuardedPort {
  tap: string;
  mac: string;
  ip: string;
}

export function compileGuard(ports: GuardedPort[]): string {
  const sorted = [...ports].sort((a, b) => a.tap.localeCompare(b.tap));
  const chains: string[] = [];
  const fromMap: string[] = [];
  const toMap: string[] = [];
  for (const [i, p] of sorted.entries()) {
    if (!/^[a-z0-9]{1,15}$/.test(p.tap)) throw new Error(`bad tap name: ${p.tap}`);
    const mac = parseMac(p.mac);
    const ip = formatIp(parseIp(p.ip));
    fromMap.push(`"${p.tap}" : jump from_${i}`);
    toMap.push(`"${p.tap}" : jump to_${i}`);
    chains.push(
      chain(`from_${i}`, [
        `ether saddr != ${mac} drop`,
        `ether type arp arp saddr ether ${mac} arp saddr ip { ${ip}, 0.0.0.0 } accept`,
        `ether type ip ip saddr ${ip} accept`,
        "ether type ip ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 accept",
        "drop",
      ]),
      chain(`to_${i}`, [
        "ether type arp accept",
        `ether type ip ip daddr { ${ip}, 255.255.255.255 } accept`,
        "drop",
      ]),
    );
  }
  const pre = ["type filter hook prerouting priority filter; policy accept;"];
  const post = ["type filter hook postrouting priority filter; policy accept;"];
  if (sorted.length) {
    pre.push(`iifname vmap { ${fromMap.join(", ")} }`);
    post.push(`oifname vmap { ${toMap.join(", ")} }`);
  }
  return [
    `table bridge ${GUARD_TABLE}`,
    `delete table bridge ${GUARD_TABLE}`,
    `table bridge ${GUARD_TABLE} {`,
    chain("pre", pre),
    chain("post", post),
    ...chains,
    "}",
    "",
  ].join("\n");
}

function chain(name: string, lines: string[]): string {
  return [`  chain ${name} {`, ...lines.map((l) => `    ${l}`), "  }"].join("\n");
}
