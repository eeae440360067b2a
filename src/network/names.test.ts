import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  bridgeMac,
  dataPlaneTag,
  hostVeth,
  hubNetns,
  hubVpcLink,
  nicTap,
  subnetBridge,
  vpcNetns,
} from "./names.ts";
import { poolConflict, poolLayout } from "./public-link.ts";

describe("data plane names", () => {
  it("derive from the data dir's tag and the ids, within Linux's 15-character interface names", () => {
    const tag = dataPlaneTag("/var/lib/strata");
    assert.match(tag, /^[0-9a-f]{6}$/);
    assert.equal(tag, dataPlaneTag("/var/lib/strata"));
    assert.notEqual(tag, dataPlaneTag("/var/lib/strata2"));
    assert.equal(vpcNetns(tag, "vpc-0123456789abcdef0"), `strata-${tag}-0123456789abcdef0`);
    assert.equal(hubNetns(tag), `strata-${tag}-hub`);
    assert.equal(hostVeth(tag), `strata${tag}`);
    for (const name of [
      hostVeth(tag),
      hubVpcLink("vpc-0123456789abcdef0"),
      subnetBridge("subnet-1"),
      nicTap("i-1"),
    ]) {
      assert.ok(name.length <= 15, name);
      assert.match(name, /^[a-z0-9]+$/);
    }
    assert.notEqual(nicTap("i-1"), nicTap("i-2"));
    assert.match(bridgeMac("subnet-1"), /^0a(:[0-9a-f]{2}){5}$/);
    assert.notEqual(bridgeMac("subnet-1"), bridgeMac("subnet-2"));
    assert.equal(nicTap("i-1"), nicTap("i-1"));
    assert.throws(() => vpcNetns(tag, "vpc-../../etc"));
    assert.throws(() => hostVeth("ABCDEF"));
  });
});

describe("the public pool", () => {
  it("reserves its first addresses for the data plane's links", () => {
    assert.deepEqual(poolLayout("100.96.0.0/16"), {
      pool: { base: poolLayout("100.96.0.0/16").pool.base, prefix: 16 },
      hostIp: "100.96.0.1",
      hubIp: "100.96.0.2",
      hostLink: "100.96.0.0/30",
      hubVpcIp: "100.96.0.5",
      vpcUplinkIp: "100.96.0.6",
    });
    assert.throws(() => poolLayout("100.96.0.0/28"), /too small/);
  });

  it("conflicts with host routes and addresses it overlaps, not with the default route or its own veth", () => {
    const routes = [
      { dst: "default", dev: "eth0" },
      { dst: "192.0.2.0/24", dev: "eth0" },
      { dst: "100.96.0.0/16", dev: "strata123456" },
      { dst: "127.0.0.1", dev: "lo", table: "local", type: "local" },
    ];
    const addrs = [{ ifname: "eth1", addr_info: [{ family: "inet", local: "10.1.2.3", prefixlen: 8 }] }];
    assert.equal(poolConflict("100.96.0.0/16", routes, addrs, "strata123456"), null);
    assert.equal(
      poolConflict("100.96.0.0/16", routes, addrs, "strata654321"),
      "route 100.96.0.0/16 dev strata123456",
    );
    assert.equal(poolConflict("192.0.2.128/25", routes, addrs, "x"), "route 192.0.2.0/24 dev eth0");
    assert.equal(poolConflict("127.0.0.0/30", routes, addrs, "x"), "route 127.0.0.1 dev lo table local");
    assert.equal(poolConflict("10.200.0.0/16", routes, addrs, "x"), "address 10.1.2.3/8 on eth1");
  });
});
