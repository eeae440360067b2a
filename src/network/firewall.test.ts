import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileFirewall, FIREWALL_TABLE, mergeCidrs } from "./firewall.ts";
import { compileGuard } from "./guard-rules.ts";
import { compilePublic } from "./vpc-rules.ts";

/** The lines of one chain of a compiled script. */
function chainLines(script: string, chain: string): string[] {
  const start = script.indexOf(`  chain ${chain} {`);
  assert.ok(start >= 0, `no chain ${chain} in:\n${script}`);
  const end = script.indexOf("\n  }", start);
  return script
    .slice(start, end)
    .split("\n")
    .slice(1)
    .map((l) => l.trim());
}

describe("the nftables firewall compiler", () => {
  it("replaces the table in one transaction, closed when no interface has rules", () => {
    const script = compileFirewall([]);
    assert.deepEqual(script.split("\n").slice(0, 3), [
      `table inet ${FIREWALL_TABLE}`,
      `delete table inet ${FIREWALL_TABLE}`,
      `table inet ${FIREWALL_TABLE} {`,
    ]);
    assert.deepEqual(chainLines(script, "forward"), [
      "type filter hook forward priority filter; policy drop;",
      "ct state established,related accept",
      "ct state invalid drop",
    ]);
  });

  it("dispatches by address to per-interface chains: egress returns or drops, ingress accepts or drops", () => {
    const script = compileFirewall([
      {
        instanceId: "i-0b",
        privateIp: "10.0.0.5",
        ingress: [
          { protocol: "tcp", fromPort: 22, toPort: 22, cidrs: ["0.0.0.0/0"] },
          { protocol: "udp", fromPort: 1000, toPort: 2000, cidrs: ["10.0.0.4/32", "192.168.1.7/24"] },
          { protocol: "icmp", fromPort: 8, toPort: -1, cidrs: ["10.0.0.0/16"] },
          { protocol: "icmp", fromPort: 3, toPort: 4, cidrs: ["10.0.0.0/16"] },
          { protocol: "icmp", fromPort: -1, toPort: -1, cidrs: ["10.1.0.0/16"] },
          { protocol: "all", cidrs: ["10.2.0.0/16", "10.2.3.0/24", "10.2.0.0/16"] },
          { protocol: "tcp", cidrs: ["10.3.0.0/16"] },
          { protocol: "tcp", fromPort: 80, toPort: 80, cidrs: [] },
        ],
        egress: [{ protocol: "all", cidrs: ["0.0.0.0/0"] }],
      },
      { instanceId: "i-0a", privateIp: "10.0.0.4", ingress: [], egress: [] },
    ]);
    assert.deepEqual(chainLines(script, "forward").slice(3), [
      "ip saddr vmap { 10.0.0.4 : jump out_i_0a, 10.0.0.5 : jump out_i_0b }",
      "ip daddr vmap { 10.0.0.4 : jump in_i_0a, 10.0.0.5 : jump in_i_0b }",
      "ip saddr { 10.0.0.4, 10.0.0.5 } accept",
    ]);
    assert.deepEqual(chainLines(script, "in_i_0b"), [
      "tcp dport 22 accept",
      "ip saddr { 10.0.0.4, 192.168.1.0/24 } udp dport 1000-2000 accept",
      "ip saddr { 10.0.0.0/16 } meta l4proto icmp icmp type 8 accept",
      "ip saddr { 10.0.0.0/16 } meta l4proto icmp icmp type 3 icmp code 4 accept",
      "ip saddr { 10.1.0.0/16 } meta l4proto icmp accept",
      "ip saddr { 10.2.0.0/16 } accept",
      "ip saddr { 10.3.0.0/16 } meta l4proto tcp accept",
      "drop",
    ]);
    assert.deepEqual(chainLines(script, "out_i_0b"), ["return", "drop"]);
    assert.deepEqual(chainLines(script, "in_i_0a"), ["drop"]);
    assert.deepEqual(chainLines(script, "out_i_0a"), ["drop"]);
  });

  it("refuses what would not be a valid or safe rule", () => {
    const nic = (rule: object, ip = "10.0.0.4") => [
      { instanceId: "i-1", privateIp: ip, ingress: [rule as never], egress: [] },
    ];
    assert.throws(() =>
      compileFirewall(nic({ protocol: "tcp", fromPort: 80, toPort: 70000, cidrs: ["0.0.0.0/0"] })),
    );
    assert.throws(() =>
      compileFirewall(nic({ protocol: "tcp", fromPort: 90, toPort: 80, cidrs: ["0.0.0.0/0"] })),
    );
    assert.throws(() =>
      compileFirewall(nic({ protocol: "icmp", fromPort: 300, toPort: -1, cidrs: ["0.0.0.0/0"] })),
    );
    assert.throws(() => compileFirewall(nic({ protocol: "gre", cidrs: ["0.0.0.0/0"] })));
    assert.throws(() => compileFirewall(nic({ protocol: "all", cidrs: ["10.0.0.0/8 } accept; drop {"] })));
    assert.throws(() => compileFirewall(nic({ protocol: "all", cidrs: ["10.0.0.256/8"] })));
    assert.throws(() =>
      compileFirewall(nic({ protocol: "all", cidrs: ["0.0.0.0/0"] }, "10.0.0.4; flush ruleset")),
    );
    const twice = [...nic({ protocol: "all", cidrs: [] }), ...nic({ protocol: "all", cidrs: [] })];
    assert.throws(() => compileFirewall(twice), /two interfaces/);
  });

  it("merges CIDRs that nest (nft refuses overlapping set elements)", () => {
    assert.deepEqual(mergeCidrs(["10.0.0.7/24", "10.0.0.9", "10.0.1.0/24", "10.0.0.0/23", "172.16.0.1/32"]), [
      "10.0.0.0/23",
      "172.16.0.1",
    ]);
    assert.deepEqual(mergeCidrs(["10.0.0.0/8", "0.0.0.0/0"]), ["0.0.0.0/0"]);
  });
});

describe("the guard and NAT compilers", () => {
  it("admits only the tap's own MAC and address, and delivers only its own address", () => {
    const script = compileGuard([{ tap: "tabc", mac: "02:AA:00:00:00:01", ip: "10.0.0.4" }]);
    assert.deepEqual(chainLines(script, "pre").slice(1), ['iifname vmap { "tabc" : jump from_0 }']);
    assert.deepEqual(chainLines(script, "from_0"), [
      "ether saddr != 02:aa:00:00:00:01 drop",
      "ether type arp arp saddr ether 02:aa:00:00:00:01 arp saddr ip { 10.0.0.4, 0.0.0.0 } accept",
      "ether type ip ip saddr 10.0.0.4 accept",
      "ether type ip ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 accept",
      "drop",
    ]);
    assert.deepEqual(chainLines(script, "to_0"), [
      "ether type arp accept",
      "ether type ip ip daddr { 10.0.0.4, 255.255.255.255 } accept",
      "drop",
    ]);
    assert.throws(() => compileGuard([{ tap: 'x" accept', mac: "02:00:00:00:00:01", ip: "10.0.0.4" }]));
    assert.throws(() => compileGuard([{ tap: "t", mac: "02:00:00:00:00", ip: "10.0.0.4" }]));
  });

  it("maps public to private addresses both ways; lets nothing new out without guest egress", () => {
    const addrs = [{ privateIp: "10.0.0.4", publicIp: "100.96.0.20" }];
    const off = compilePublic(addrs, false);
    assert.deepEqual(chainLines(off, "pre").slice(1), [
      'iifname "uplink" dnat ip to ip daddr map { 100.96.0.20 : 10.0.0.4 }',
    ]);
    assert.deepEqual(chainLines(off, "post").slice(1), [
      'oifname "uplink" snat ip to ip saddr map { 10.0.0.4 : 100.96.0.20 }',
    ]);
    assert.deepEqual(chainLines(off, "out").slice(1), [
      "ct state established,related accept",
      'oifname "uplink" drop',
    ]);
    const on = compilePublic(addrs, true);
    assert.deepEqual(chainLines(on, "out").slice(2), [
      'oifname "uplink" ip saddr { 10.0.0.4 } accept',
      'oifname "uplink" drop',
    ]);
  });
});
