// VPC traffic between two hosts' data planes (two daemons' worth of namespaces on one machine, each
// with its tunnel on 127.0.0.1 at its own port), with fake guests: one subnet spans both hosts,
// routing to another subnet crosses them, each host keeps its own router, DHCP and metadata, and
// security groups still apply on the receiving host. Traffic stays on loopback and in namespaces
// this test creates.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { linkNames } from "./commands.ts";
import { DataPlane, type NicFirewall, type NicSpec, type RemoteNic } from "./data-plane.ts";
import { FakeGuest } from "./fake-guest.ts";
import { parseEndpoint, tunnelMac, vpcVni } from "./tunnel.ts";

const probe = await DataPlane.probe();
process.umask(0o077);
const hex = (n: number) => randomBytes(n).toString("hex").slice(0, n);
const allowAll = [{ protocol: "all" as const, cidrs: ["0.0.0.0/0"] }];
/** A random /24 of the shared address space per plane (each routes its own pool from the host). */
const testPool = () => `100.${120 + (randomBytes(1)[0] % 8)}.${randomBytes(1)[0]}.0/24`;

it("parses tunnel endpoints and refuses anything but address:port", () => {
  assert.deepEqual(parseEndpoint("10.1.2.3:4789"), { address: "10.1.2.3", port: 4789 });
  for (const bad of ["10.1.2.3", "host:4789", "10.1.2.3:0", "10.1.2.3:65536", "300.1.1.1:1", ":4789"]) {
    assert.throws(() => parseEndpoint(bad), /IPv4 address and a UDP port/, bad);
  }
});

it("gives a VPC the same VNI everywhere, within 24 bits and never 0, and each host's tunnel its own MAC", () => {
  assert.equal(vpcVni("vpc-0123456789abcdef0"), vpcVni("vpc-0123456789abcdef0"));
  const vnis = new Set(Array.from({ length: 2000 }, (_, i) => vpcVni(`vpc-${i.toString(16)}`)));
  for (const v of vnis) assert.ok(v >= 1 && v <= 0xffffff);
  assert.ok(vnis.size > 1990, "spread over the space");
  const a = tunnelMac({ address: "10.0.0.1", port: 4789 }, "vpc-1");
  assert.match(a, /^0e(:[0-9a-f]{2}){5}$/);
  assert.notEqual(a, tunnelMac({ address: "10.0.0.2", port: 4789 }, "vpc-1"));
  assert.notEqual(a, tunnelMac({ address: "10.0.0.1", port: 4789 }, "vpc-2"));
});

describe("two hosts' data planes joined by tunnels", {
  skip: probe.ok ? false : probe.reason,
  timeout: 300_000,
}, () => {
  let dir: string;
  const planes: DataPlane[] = [];
  const guests = new Map<string, FakeGuest>();
  const servers: HttpServer[] = [];
  const vpc = `vpc-${hex(17)}`;
  const sub1 = `subnet-${hex(17)}`;
  const sub2 = `subnet-${hex(17)}`;
  const spec = {
    id: vpc,
    cidr: "10.0.0.0/16",
    subnets: [
      { id: sub1, cidr: "10.0.0.0/20" },
      { id: sub2, cidr: "10.0.16.0/20" },
    ],
  };
  const port = 40000 + (randomBytes(2).readUInt16BE() % 20000);
  const endpoints = [
    { address: "127.0.0.1", port },
    { address: "127.0.0.1", port: port + 1 },
  ];
  // a: host 0, subnet 1; b: host 1, subnet 1; c: host 1, subnet 2.
  const where = { a: 0, b: 1, c: 1 } as const;
  let nics: Record<keyof typeof where, NicSpec>;
  const g = (name: string) => guests.get(name)!;
  const remotesFor = (host: number): RemoteNic[] =>
    Object.entries(nics)
      .filter(([name]) => where[name as keyof typeof where] !== host)
      .map(([name, n]) => ({
        subnetId: n.subnetId,
        mac: n.mac,
        ip: n.privateIp,
        endpoint: endpoints[where[name as keyof typeof where]],
      }));
  const firewall = async (ingressOfB: NicFirewall["ingress"]) => {
    const fw = (n: NicSpec, ingress: NicFirewall["ingress"]) => ({
      instanceId: n.instanceId,
      privateIp: n.privateIp,
      ingress,
      egress: allowAll,
    });
    await planes[0].setFirewall(vpc, [fw(nics.a, allowAll)]);
    await planes[1].setFirewall(vpc, [fw(nics.b, ingressOfB), fw(nics.c, allowAll)]);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "strata-tunnel-"));
    for (const endpoint of endpoints) {
      const plane = await DataPlane.open({
        tag: hex(6),
        runDir: dir,
        publicPool: testPool(),
        guestEgress: false,
        domain: () => "ec2.internal",
        tunnel: endpoint,
      });
      planes.push(plane);
      await plane.ensureVpc(spec);
    }
    const nic = (n: number, subnetId: string, ip: string): NicSpec => ({
      instanceId: `i-${hex(16)}${n}`,
      vpcId: vpc,
      subnetId,
      mac: `02:00:00:00:01:0${n}`,
      privateIp: ip,
      publicIp: null,
      hostname: `ip-${ip.replaceAll(".", "-")}`,
      metadataSocket: join(dir, `imds-${n}.sock`),
    });
    nics = { a: nic(1, sub1, "10.0.0.4"), b: nic(2, sub1, "10.0.0.5"), c: nic(3, sub2, "10.0.16.4") };
    for (const [name, n] of Object.entries(nics)) {
      const host = where[name as keyof typeof where];
      const server = createHttpServer((_req, res) => res.end(`metadata of ${name} on host ${host}\n`));
      await new Promise<void>((r) => server.listen(n.metadataSocket, r));
      servers.push(server);
      const { netns, tap } = await planes[host].plugNic(n);
      guests.set(name, await FakeGuest.attach(`${netns}-${name}`, netns, tap, n.mac));
    }
    await firewall(allowAll);
    for (const name of Object.keys(nics)) await g(name).serve(8080, `hello-from-${name}`);
  });

  after(async () => {
    try {
      for (const guest of guests.values()) await guest.remove();
      for (const p of planes) await p.close();
    } finally {
      for (const s of servers) s.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  it("each guest gets its lease from its own host, the DHCP of the other host staying silent", async () => {
    for (const name of Object.keys(nics)) {
      const lease = await g(name).dhcp(dir);
      const n = nics[name as keyof typeof nics];
      assert.equal(lease.ip, n.privateIp, name);
      assert.equal(lease.router, n.subnetId === sub1 ? "10.0.0.1" : "10.0.16.1");
    }
  });

  it("carries nothing between hosts until they are told where the other's interfaces are", async () => {
    assert.equal(await g("a").fetch("10.0.0.5", 8080), null);
    assert.equal(await g("a").fetch("10.0.16.4", 8080), null);
  });

  it("joins a subnet across hosts and routes between subnets across hosts, both ways", async () => {
    await planes[0].setRemotes(vpc, remotesFor(0));
    await planes[1].setRemotes(vpc, remotesFor(1));
    if (process.env.TUNNEL_DEBUG) {
      console.log(
        planes.map((p) => p.options.tag),
        nics,
      );
      await new Promise((r) => setTimeout(r, 600_000));
    }
    assert.equal(await g("a").fetch("10.0.0.5", 8080), "hello-from-b", "same subnet, other host");
    assert.equal(await g("b").fetch("10.0.0.4", 8080), "hello-from-a");
    assert.equal(await g("a").fetch("10.0.16.4", 8080), "hello-from-c", "other subnet, other host");
    assert.equal(await g("c").fetch("10.0.0.4", 8080), "hello-from-a");
    // Long-lived, both directions through the two routers (asymmetric paths, stateful firewalls).
    const conn = g("c").connect("10.0.0.4", 8080);
    assert.equal(await conn.line(), "hello-from-a");
    conn.send("across-hosts");
    assert.equal(await conn.line(), "across-hosts");
    conn.close();
  });

  it("keeps each guest's router, DNS and metadata on its own host", async () => {
    const meta = async (name: string) => {
      const r = await g(name).exec(["busybox", "wget", "-q", "-O", "-", "http://169.254.169.254/"]);
      return r.code === 0 ? r.stdout.trim() : `exit ${r.code}: ${r.stderr}`;
    };
    assert.equal(await meta("a"), "metadata of a on host 0");
    assert.equal(await meta("b"), "metadata of b on host 1");
    assert.equal(await meta("c"), "metadata of c on host 1");
  });

  it("enforces the receiving guest's security group on its own host", async () => {
    await firewall([{ protocol: "tcp", fromPort: 8080, toPort: 8080, cidrs: ["10.0.16.0/20"] }]);
    assert.equal(await g("a").fetch("10.0.0.5", 8080), null, "from a: not allowed");
    assert.equal(await g("c").fetch("10.0.0.5", 8080), "hello-from-b", "from c's subnet: allowed");
    await firewall(allowAll);
    assert.equal(await g("a").fetch("10.0.0.5", 8080), "hello-from-b");
  });

  it("stops carrying traffic for interfaces that left the other host", async () => {
    await planes[0].setRemotes(vpc, []);
    assert.equal(await g("a").fetch("10.0.0.5", 8080), null);
    assert.equal(await g("a").fetch("10.0.16.4", 8080), null);
    await planes[0].setRemotes(vpc, remotesFor(0));
    assert.equal(await g("a").fetch("10.0.16.4", 8080), "hello-from-c");
  });

  it("closes without leaving a tunnel device on the host", async () => {
    for (const p of planes) {
      const tag = p.options.tag;
      assert.deepEqual(
        [...(await linkNames(null))].filter((l) => l.startsWith(`x${tag}`)),
        [],
      );
    }
  });
});
