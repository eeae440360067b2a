// The data plane on real namespaces, with "fake guests" (a namespace whose eth0 stands in for the
// tap): DHCP, DNS, the firewall, anti-spoofing, VPC isolation, public addresses from the host,
// the metadata proxy, and that close() and a re-open after a kill leave nothing behind. Traffic
// stays inside namespaces this test creates and the pool behind the data plane's veth.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { nft, run } from "./commands.ts";
import { DataPlane, type DataPlaneOptions, type NicFirewall, type NicSpec } from "./data-plane.ts";
import { FakeGuest } from "./fake-guest.ts";
import { dnsmasqRoot } from "./names.ts";
import { listNetns } from "./netns.ts";
import { compileHostRules, compileHubRules, poolLayout } from "./public-link.ts";
import { compilePublic } from "./vpc-rules.ts";

const probe = await DataPlane.probe();
// As the daemon runs (src/server/data-dir.ts): every mode the data plane needs must be explicit.
process.umask(0o077);
const haveTools = ["socat", "busybox", "ss"].every((t) =>
  spawnOk("sh", ["-c", `command -v ${t} || test -x /usr/sbin/${t} || test -x /sbin/${t}`]),
);
const skip = !probe.ok ? probe.reason : haveTools ? false : "socat, busybox or ss missing";

function spawnOk(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: "ignore" }).status === 0;
}

const hex = (n: number) =>
  randomBytes(Math.ceil(n / 2))
    .toString("hex")
    .slice(0, n);

/** A random /24 of the shared address space, away from the default pool 100.96.0.0/16. */
function testPool(): string {
  return `100.${100 + (randomBytes(1)[0] % 20)}.${randomBytes(1)[0]}.0/24`;
}

export function testOptions(runDir: string): DataPlaneOptions {
  return {
    tag: hex(6),
    runDir,
    publicPool: testPool(),
    guestEgress: false,
    domain: () => "ec2.internal",
  };
}

/** A metadata service stand-in: HTTP on a unix socket, answering with who it belongs to. */
async function metadataServer(path: string, who: string): Promise<HttpServer> {
  const server = createHttpServer((req, res) => res.end(`${who} ${req.url}`));
  await new Promise<void>((r) => server.listen(path, r));
  return server;
}

/** The first line the host gets from ip:port, or null if it cannot connect within 2 s. */
function hostFetch(ip: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const s = connect({ host: ip, port });
    let data = "";
    const timer = setTimeout(() => {
      s.destroy();
      resolve(null);
    }, 2000);
    s.setEncoding("utf8");
    s.on("data", (d: string) => {
      data += d;
      if (data.includes("\n")) {
        clearTimeout(timer);
        s.destroy();
        resolve(data.split("\n")[0]);
      }
    });
    s.on("error", () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}

const allowAll = [{ protocol: "all" as const, cidrs: ["0.0.0.0/0"] }];

describe("the data plane with fake guests", { skip, timeout: 300_000 }, () => {
  let dir: string;
  let dp: DataPlane;
  let options: DataPlaneOptions;
  const vpcA = `vpc-${hex(17)}`;
  const vpcB = `vpc-${hex(17)}`;
  const sub1 = `subnet-${hex(17)}`;
  const sub2 = `subnet-${hex(17)}`;
  const subB = `subnet-${hex(17)}`;
  const guests = new Map<string, FakeGuest>();
  const servers: HttpServer[] = [];
  let publicIp: string;
  let nics: Record<string, NicSpec>;

  const g = (name: string) => guests.get(name)!;
  const fw = (instanceId: string, privateIp: string, ingress: NicFirewall["ingress"], egress = allowAll) => ({
    instanceId,
    privateIp,
    ingress,
    egress,
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "strata-dp-"));
    options = testOptions(dir);
    dp = await DataPlane.open(options);
    publicIp = options.publicPool.replace(/\.0\/24$/, ".20");
    await dp.ensureVpc({
      id: vpcA,
      cidr: "10.0.0.0/16",
      subnets: [
        { id: sub1, cidr: "10.0.0.0/20" },
        { id: sub2, cidr: "10.0.16.0/20" },
      ],
    });
    await dp.ensureVpc({ id: vpcB, cidr: "10.0.0.0/16", subnets: [{ id: subB, cidr: "10.0.0.0/20" }] });
    const nic = (
      n: number,
      vpcId: string,
      subnetId: string,
      ip: string,
      pub: string | null = null,
    ): NicSpec => ({
      instanceId: `i-${hex(16)}${n}`,
      vpcId,
      subnetId,
      mac: `02:00:00:00:00:0${n}`,
      privateIp: ip,
      publicIp: pub,
      hostname: `ip-${ip.replaceAll(".", "-")}`,
      metadataSocket: join(dir, `imds-${n}.sock`),
    });
    nics = {
      g1: nic(1, vpcA, sub1, "10.0.0.4", publicIp),
      g2: nic(2, vpcA, sub1, "10.0.0.5"),
      g3: nic(3, vpcA, sub2, "10.0.16.4"),
      g4: nic(4, vpcB, subB, "10.0.0.5"),
      g5: nic(5, vpcB, subB, "10.0.0.4"),
    };
    for (const [name, spec] of Object.entries(nics)) {
      servers.push(await metadataServer(spec.metadataSocket, `meta-of-${name}`));
      const { netns, tap } = await dp.plugNic(spec);
      guests.set(name, await FakeGuest.attach(`${netns}-${name}`, netns, tap, spec.mac));
    }
  });

  after(async () => {
    // The servers close whatever fails before them: an open one would keep this file running.
    try {
      for (const guest of guests.values()) await guest.remove();
      await dp?.close();
    } finally {
      for (const s of servers) s.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives each guest its lease: address, router, DNS, hostname, domain, a long lease", async () => {
    for (const name of ["g1", "g2", "g3", "g4", "g5"]) {
      const lease = await g(name).dhcp(dir);
      const spec = nics[name];
      assert.equal(lease.ip, spec.privateIp, name);
      assert.equal(lease.mask, "20");
      assert.equal(lease.router, spec.privateIp.startsWith("10.0.16.") ? "10.0.16.1" : "10.0.0.1");
      assert.equal(lease.dns?.trim(), "10.0.0.2");
      assert.equal(lease.hostname, spec.hostname);
      assert.equal(lease.domain, "ec2.internal");
      assert.ok(Number(lease.lease) >= 86400 * 365, `lease ${lease.lease}`);
    }
  });

  it("runs nothing in a VPC's namespace but dnsmasq, and that without root", async () => {
    const netns = (await listNetns()).find((n) => n.endsWith(vpcA.slice(4)))!;
    const pids = (await run("ip", ["netns", "pids", netns])).stdout.split(/\s+/).filter(Boolean);
    assert.equal(pids.length, 1, `processes in ${netns}: ${pids}`);
    const status = readFileSync(`/proc/${pids[0]}/status`, "utf8");
    assert.match(status, /^Name:\s+dnsmasq$/m);
    assert.match(status, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m, "nobody");
  });

  it("answers the VPC's own names at base+2, per VPC", async () => {
    const a = await g("g1").exec(["busybox", "nslookup", "ip-10-0-16-4.ec2.internal", "10.0.0.2"]);
    assert.match(a.stdout, /Address: 10\.0\.16\.4/);
    const b = await g("g4").exec(["busybox", "nslookup", "ip-10-0-16-4.ec2.internal", "10.0.0.2"]);
    assert.match(b.stdout + b.stderr, /NXDOMAIN|can't find/, "VPC B's server answers, without A's name");
    assert.doesNotMatch(b.stdout, /10\.0\.16\.4/);
    const own = await g("g4").exec(["busybox", "nslookup", "ip-10-0-0-4.ec2.internal", "10.0.0.2"]);
    assert.match(own.stdout, /Address: 10\.0\.0\.4/);
  });

  it("denies ingress until a rule allows it; rules apply at once; revoking keeps established connections", async () => {
    await g("g2").serve(8080, "hello-from-g2");
    const base = [fw(nics.g1.instanceId, "10.0.0.4", []), fw(nics.g3.instanceId, "10.0.16.4", [])];
    await dp.setFirewall(vpcA, [...base, fw(nics.g2.instanceId, "10.0.0.5", [])]);
    assert.equal(await g("g1").fetch("10.0.0.5", 8080), null, "same bridge, no rule");
    await dp.setFirewall(vpcA, [
      ...base,
      fw(nics.g2.instanceId, "10.0.0.5", [
        { protocol: "tcp", fromPort: 8080, toPort: 8080, cidrs: ["10.0.0.4/32"] },
      ]),
    ]);
    assert.equal(await g("g1").fetch("10.0.0.5", 8080), "hello-from-g2", "same bridge, allowed");
    assert.equal(await g("g3").fetch("10.0.0.5", 8080), null, "other subnet, not allowed");
    await dp.setFirewall(vpcA, [
      ...base,
      fw(nics.g2.instanceId, "10.0.0.5", [
        { protocol: "tcp", fromPort: 8000, toPort: 9000, cidrs: ["10.0.0.0/16"] },
      ]),
    ]);
    assert.equal(await g("g3").fetch("10.0.0.5", 8080), "hello-from-g2", "routed across subnets");
    const conn = g("g1").connect("10.0.0.5", 8080);
    assert.equal(await conn.line(), "hello-from-g2");
    await dp.setFirewall(vpcA, [...base, fw(nics.g2.instanceId, "10.0.0.5", [])]);
    assert.equal(await g("g3").fetch("10.0.0.5", 8080), null, "revoked");
    conn.send("still-there");
    assert.equal(await conn.line(), "still-there", "the established connection survives the revoke");
    conn.close();
    // Egress: g1 may not send at all, even where g2 would accept.
    await dp.setFirewall(vpcA, [
      fw(nics.g1.instanceId, "10.0.0.4", [], []),
      fw(nics.g2.instanceId, "10.0.0.5", allowAll),
      fw(nics.g3.instanceId, "10.0.16.4", []),
    ]);
    assert.equal(await g("g1").fetch("10.0.0.5", 8080), null, "no egress rule");
    assert.equal(await g("g3").fetch("10.0.0.5", 8080), "hello-from-g2");
  });

  it("lets a guest send only from its own MAC and address", async () => {
    await dp.setFirewall(vpcA, [
      fw(nics.g1.instanceId, "10.0.0.4", allowAll),
      fw(nics.g2.instanceId, "10.0.0.5", allowAll),
      fw(nics.g3.instanceId, "10.0.16.4", allowAll),
    ]);
    assert.equal(await g("g3").fetch("10.0.0.5", 8080), "hello-from-g2");
    await g("g3").exec(["ip", "addr", "add", "10.0.16.99/20", "dev", "eth0"]);
    assert.equal(await g("g3").fetch("10.0.0.5", 8080, { bind: "10.0.16.99" }), null, "another address");
    await g("g1").exec(["ip", "addr", "add", "10.0.0.9/20", "dev", "eth0"]);
    assert.equal(
      await g("g1").fetch("10.0.0.5", 8080, { bind: "10.0.0.9" }),
      null,
      "another address, same bridge",
    );
    await g("g1").exec(["ip", "addr", "del", "10.0.0.9/20", "dev", "eth0"]);
    await g("g3").exec(["ip", "link", "set", "eth0", "address", "02:00:00:00:00:33"]);
    assert.equal(await g("g3").fetch("10.0.0.5", 8080), null, "another MAC");
    await g("g3").exec(["ip", "link", "set", "eth0", "address", nics.g3.mac]);
    await g("g3").exec(["ip", "neigh", "flush", "all"]);
    assert.equal(await g("g3").fetch("10.0.0.5", 8080), "hello-from-g2", "its own again");
  });

  it("keeps VPCs apart, overlapping CIDRs and all", async () => {
    await dp.setFirewall(vpcB, [
      fw(nics.g4.instanceId, "10.0.0.5", allowAll),
      fw(nics.g5.instanceId, "10.0.0.4", allowAll),
    ]);
    await g("g1").serve(8080, "hello-from-g1");
    await g("g5").serve(8080, "hello-from-g5");
    assert.equal(await g("g4").fetch("10.0.0.4", 8080), "hello-from-g5");
    assert.equal(await g("g2").fetch("10.0.0.4", 8080), "hello-from-g1");
    assert.equal(await g("g4").fetch("10.0.16.4", 8080), null, "VPC A's other subnet");
  });

  it("lets the host reach a public address's real port only as the firewall allows", async () => {
    await g("g1").serve(8081, "public-g1");
    const others = [
      fw(nics.g2.instanceId, "10.0.0.5", allowAll),
      fw(nics.g3.instanceId, "10.0.16.4", allowAll),
    ];
    await dp.setFirewall(vpcA, [...others, fw(nics.g1.instanceId, "10.0.0.4", [])]);
    assert.equal(await hostFetch(publicIp, 8081), null);
    await dp.setFirewall(vpcA, [
      ...others,
      fw(nics.g1.instanceId, "10.0.0.4", [
        { protocol: "tcp", fromPort: 8081, toPort: 8081, cidrs: ["0.0.0.0/0"] },
      ]),
    ]);
    assert.equal(await hostFetch(publicIp, 8081), "public-g1");
    // ICMP by type: echo requests only once allowed.
    const ping = () => spawnSync("busybox", ["ping", "-c", "1", "-W", "2", publicIp]).status === 0;
    assert.equal(ping(), false);
    await dp.setFirewall(vpcA, [
      ...others,
      fw(nics.g1.instanceId, "10.0.0.4", [
        { protocol: "tcp", fromPort: 8081, toPort: 8081, cidrs: ["0.0.0.0/0"] },
        { protocol: "icmp", fromPort: 8, toPort: -1, cidrs: [`${dp.layout.hostIp}/32`] },
      ]),
    ]);
    assert.equal(ping(), true);
    // Dissociated, the address leads nowhere; associated again, it works again.
    await dp.setPublicIp(nics.g1.instanceId, null);
    assert.equal(await hostFetch(publicIp, 8081), null);
    await dp.setPublicIp(nics.g1.instanceId, publicIp);
    assert.equal(await hostFetch(publicIp, 8081), "public-g1");
    await dp.setFirewall(vpcA, [...others, fw(nics.g1.instanceId, "10.0.0.4", [])]);
    assert.equal(await hostFetch(publicIp, 8081), null);
  });

  it("lets guests reach nothing of the host, and of the namespace only DHCP, DNS and metadata", async () => {
    const hostIp = dp.layout.hostIp;
    let connections = 0;
    const server = createServer((s) => {
      connections++;
      s.end("host\n");
    });
    await new Promise<void>((r) => server.listen(0, hostIp, r));
    const port = (server.address() as { port: number }).port;
    try {
      assert.equal(await hostFetch(hostIp, port), "host", "the listener works");
      connections = 0;
      assert.equal(await g("g1").canConnect(hostIp, port), false, "the host's veth address");
      assert.equal(await g("g1").canConnect(dp.layout.hubIp, port), false, "the hub");
      assert.equal(connections, 0);
    } finally {
      server.close();
    }
    assert.equal(await g("g1").canConnect("10.0.0.2", 53), true, "DNS over TCP at base+2");
    assert.equal(await g("g1").canConnect("10.0.0.1", 53), false, "the router's own address");
    assert.equal(await g("g3").canConnect("10.0.16.1", 53), false);
  });

  it("forwards metadata requests to the socket of the interface the request comes from", async () => {
    for (const name of ["g1", "g3", "g4", "g5"]) {
      const r = await g(name).exec([
        "busybox",
        "wget",
        "-q",
        "-O",
        "-",
        "http://169.254.169.254/latest/meta-data/",
      ]);
      assert.equal(r.stdout, `meta-of-${name} /latest/meta-data/`, `${name}: ${r.stderr}`);
    }
    // From an address that is no interface (the namespace itself): nothing.
    const netns = (await listNetns()).find((n) => n.endsWith(vpcA.slice(4)))!;
    const r = await run(
      "timeout",
      ["5", "ip", "netns", "exec", netns, "busybox", "wget", "-q", "-O", "-", "http://169.254.169.254/"],
      { allowFail: true },
    );
    assert.equal(r.stdout, "");
    assert.notEqual(r.code, 0);
  });

  it("leases an address given up to the next interface that gets it, and forgets the old name", async () => {
    await dp.unplugNic(nics.g2.instanceId);
    await dp.unplugNic(nics.g3.instanceId);
    const gone = await g("g1").exec(["busybox", "nslookup", "ip-10-0-16-4.ec2.internal", "10.0.0.2"]);
    assert.match(gone.stdout + gone.stderr, /NXDOMAIN|can't find/, "the server answers, without the name");
    assert.doesNotMatch(gone.stdout, /Address: 10\.0\.16\.4/);
    const spec: NicSpec = { ...nics.g2, instanceId: `i-${hex(16)}6`, mac: "02:00:00:00:00:06" };
    const { netns, tap } = await dp.plugNic(spec);
    guests.set("g6", await FakeGuest.attach(`${netns}-g6`, netns, tap, spec.mac));
    const lease = await g("g6").dhcp(dir);
    assert.equal(lease.ip, "10.0.0.5");
    assert.equal(lease.hostname, "ip-10-0-0-5");
  });

  it("adds a subnet to a running VPC, and removes a whole VPC", async () => {
    const sub3 = `subnet-${hex(17)}`;
    await dp.ensureVpc({
      id: vpcA,
      cidr: "10.0.0.0/16",
      subnets: [
        { id: sub1, cidr: "10.0.0.0/20" },
        { id: sub3, cidr: "10.0.32.0/20" },
      ],
    });
    const spec: NicSpec = {
      ...nics.g3,
      instanceId: `i-${hex(16)}7`,
      subnetId: sub3,
      mac: "02:00:00:00:00:07",
      privateIp: "10.0.32.4",
      hostname: "ip-10-0-32-4",
    };
    const { netns, tap } = await dp.plugNic(spec);
    guests.set("g7", await FakeGuest.attach(`${netns}-g7`, netns, tap, spec.mac));
    const lease = await g("g7").dhcp(dir);
    assert.equal(lease.ip, "10.0.32.4");
    assert.equal(lease.router, "10.0.32.1");
    const name = await g("g1").exec(["busybox", "nslookup", "ip-10-0-32-4.ec2.internal", "10.0.0.2"]);
    assert.match(name.stdout, /Address: 10\.0\.32\.4/);
    // The bridge of the subnet no longer listed is gone.
    const bridges = await run("ip", ["-n", netns, "-o", "link", "show", "type", "bridge"]);
    assert.equal(bridges.stdout.trim().split("\n").length, 2);

    const vpcBNetns = (await listNetns()).find((n) => n.endsWith(vpcB.slice(4)))!;
    assert.ok(vpcBNetns);
    await dp.removeVpc(vpcB);
    assert.ok(!(await listNetns()).includes(vpcBNetns));
    const hubLinks = await run("ip", ["-n", dp.hub, "-o", "link", "show"]);
    assert.equal(hubLinks.stdout.trim().split("\n").length, 3, "lo, the host's veth end and VPC A's link");
  });
});

describe("the data plane's life cycle", { skip, timeout: 300_000 }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "strata-dp-life-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * What of the host could be this data plane's: namespaces, links, routes, nft tables and files
   * naming its tag or pool (other tests on this machine create their own meanwhile).
   */
  async function hostState(options: DataPlaneOptions): Promise<string> {
    const mine = (line: string) =>
      line.includes(options.tag) || line.includes(options.publicPool.replace(/\.0\/24$/, "."));
    const ns = (await listNetns()).filter(mine).sort();
    const links = (await run("ip", ["-o", "link", "show"])).stdout.split("\n").filter(mine);
    const addrs = (await run("ip", ["-o", "-4", "addr", "show"])).stdout.split("\n").filter(mine);
    const routes = (await run("ip", ["-4", "route", "show", "table", "all"])).stdout.split("\n").filter(mine);
    const tables = (await run("nft", ["list", "tables"])).stdout.split("\n").filter(mine);
    const files = existsSync(dnsmasqRoot(options.tag)) ? [dnsmasqRoot(options.tag)] : [];
    return JSON.stringify({ ns, links, addrs, routes, tables, files }, null, 1);
  }

  it("close() leaves the host as it was; a re-open after a kill removes the leftovers", async () => {
    const options = testOptions(dir);
    const before = await hostState(options);
    const vpcId = `vpc-${hex(17)}`;
    // A daemon killed with SIGKILL, after building a VPC with an interface.
    const child = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { DataPlane } from ${JSON.stringify(new URL("./data-plane.ts", import.meta.url).href)};
         const dp = await DataPlane.open({ ...${JSON.stringify(options)}, domain: () => "ec2.internal" });
         await dp.ensureVpc({ id: ${JSON.stringify(vpcId)}, cidr: "10.9.0.0/16", subnets: [{ id: "subnet-1", cidr: "10.9.0.0/24" }] });
         await dp.plugNic({ instanceId: "i-1", vpcId: ${JSON.stringify(vpcId)}, subnetId: "subnet-1", mac: "02:00:00:00:09:01",
           privateIp: "10.9.0.4", publicIp: ${JSON.stringify(options.publicPool.replace(/\.0\/24$/, ".30"))}, hostname: "ip-10-9-0-4", metadataSocket: "/nonexistent" });
         console.log("ready");
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding("utf8").on("data", (d: string) => d.includes("ready") && resolve());
      child.once("exit", (c) => reject(new Error(`the child exited (${c})`)));
    });
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const left = (await listNetns()).filter((n) => n.startsWith(`strata-${options.tag}-`));
    assert.equal(left.length, 2, `the killed daemon left its hub and VPC: ${left}`);
    assert.notEqual(await hostState(options), before);

    const dp = await DataPlane.open(options);
    assert.deepEqual(
      (await listNetns()).filter((n) => n.startsWith(`strata-${options.tag}-`)),
      [`strata-${options.tag}-hub`],
      "only a fresh hub",
    );
    await dp.ensureVpc({
      id: vpcId,
      cidr: "10.9.0.0/16",
      subnets: [{ id: "subnet-1", cidr: "10.9.0.0/24" }],
    });
    await dp.close();
    assert.equal(await hostState(options), before);
    assert.match(before, /"ns": \[\]/, "nothing of this tag before");
  });

  it("refuses a pool that overlaps a host route", async () => {
    const options = { ...testOptions(dir), publicPool: "127.0.0.0/16" };
    await assert.rejects(DataPlane.open(options), /overlaps the host's route 127\.0\.0\.0\/8 dev lo/);
    assert.deepEqual(
      (await listNetns()).filter((n) => n.startsWith(`strata-${options.tag}-`)),
      [],
    );
  });
});

describe("guest egress (never sent traffic in tests: no guest packet may leave the machine)", {
  skip,
}, () => {
  it("has rule sets nft accepts: masquerade on the host, the hub and the VPC letting guests with a public address out", async () => {
    const ns = `strata-${hex(6)}-egress`;
    await run("ip", ["netns", "add", ns]);
    try {
      const layout = poolLayout("100.96.0.0/16");
      await nft(ns, compileHostRules("strata-abcdef", layout, "strataabcdef"));
      await nft(ns, compileHubRules(layout, true, "host"));
      await nft(ns, compilePublic([{ privateIp: "10.0.0.4", publicIp: "100.96.0.20" }], true));
      const { stdout } = await run("ip", ["netns", "exec", ns, "nft", "list", "ruleset"]);
      assert.match(stdout, /ip saddr 100\.96\.0\.0\/16 oifname != "strataabcdef" masquerade/);
      assert.match(stdout, /iifname "strataabcdef" drop/);
      assert.match(stdout, /oifname "uplink" ip saddr 10\.0\.0\.4 accept/);
    } finally {
      await run("ip", ["netns", "del", ns]);
    }
  });
});
