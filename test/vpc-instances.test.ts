// Instances as network citizens, on the real data plane (namespaces, taps, nftables): real VMs in
// the default VPC reach each other only as their security groups allow, the host reaches them at
// their public addresses on the real ports, an instance of another VPC (made with the aws CLI)
// cannot reach them, and a daemon restart leaves them reachable once started again.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { connect, createServer, type Server } from "node:net";
import { networkInterfaces } from "node:os";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  type EC2Client,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
} from "@aws-sdk/client-ec2";
import { DataPlane } from "../src/network/data-plane.ts";
import { type Daemon, startDaemon, vpcNetworkArgs } from "./daemon.ts";
import { adminCredentials, ec2 } from "./ec2-helpers.ts";
import { tempDir } from "./helpers.ts";
import {
  baseImageId,
  consoleText,
  describeInstance,
  ssh,
  waitForConsole,
  writeKey,
} from "./instance-helpers.ts";

const run = promisify(execFile);
const probe = await DataPlane.probe();
const BOOTED = "strata: boot finished";
const waiter = (client: EC2Client) => ({ client, maxWaitTime: 600, minDelay: 1, maxDelay: 2 });

/** What the host gets from ip:port within `ms` (an HTTP GET when `get`), or null: nothing answered. */
function fromHost(ip: string, port: number, get = false, ms = 4000): Promise<string | null> {
  return new Promise((resolve) => {
    let got = "";
    const s = connect({ host: ip, port });
    const done = (v: string | null) => {
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(got || null), ms);
    s.setEncoding("utf8");
    s.once("connect", () => {
      if (get) s.write(`GET / HTTP/1.0\r\nHost: ${ip}\r\n\r\n`);
    });
    s.on("data", (d: string) => {
      got += d;
      if (!get) done(got);
    });
    s.once("end", () => done(got || null));
    s.once("error", () => done(null));
  });
}

/** Polls until `check` holds (the firewall applies within a second; guests poll every second). */
async function eventually<T>(what: string, fn: () => Promise<T>, check: (v: T) => boolean, ms = 120_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (check(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)?.slice(-400)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * User data that fetches http://<ip>/ once a second and prints each result on the console; first
 * it probes each `probes` address:port (listeners of the host's) and prints what it got.
 */
function fetcher(ip: string, probes: [name: string, address: string, port: number][] = []): string {
  const lines = probes.map(
    ([name, address, port]) =>
      `if timeout 8 nc -w 5 ${address} ${port} </dev/null | grep -q .; then echo "probe ${name} reached"; else echo "probe ${name} closed"; fi >/dev/console 2>&1`,
  );
  return Buffer.from(`#!/bin/sh
${lines.join("\n")}
( i=0; while [ $i -lt 1200 ]; do i=$((i+1))
  if out=$(timeout 3 wget -q -O - http://${ip}/ 2>/dev/null); then echo "fetch $i ok $out"; else echo "fetch $i failed"; fi
  sleep 1; done ) >/dev/console 2>&1 &
`).toString("base64");
}

/** The host's end of Strata's veth: the pool's first address + 1 (src/network/public-link.ts). */
function hostVethAddress(pool: string): string {
  const [a, b, c, d] = pool.split("/")[0].split(".").map(Number);
  return `${a}.${b}.${c}.${d + 1}`;
}

/** TCP listeners on the host that answer a secret and count who came. */
class HostListeners {
  connections = 0;
  readonly #servers: Server[] = [];

  listen(address: string): Promise<number> {
    const server = createServer((s) => {
      this.connections++;
      s.end("secret\n");
    });
    this.#servers.push(server);
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, address, () => resolve((server.address() as { port: number }).port));
    });
  }

  close(): void {
    for (const s of this.#servers) s.close();
  }
}

const count = (text: string, pattern: RegExp) => (text.match(pattern) ?? []).length;

describe("instances in VPCs on the data plane", {
  skip: probe.ok ? false : probe.reason,
  timeout: 1_800_000,
}, () => {
  const dataDir = tempDir("strata-vpc-");
  const marker = `page-${randomBytes(6).toString("hex")}`;
  const netArgs = vpcNetworkArgs();
  let daemon: Daemon;
  let client: EC2Client;
  let image: string;
  let keyFile: string;
  let web: string; // instance A: busybox httpd on port 80
  let webGroup: string;
  let clientGroup: string;
  let webIp: string;

  before(async () => {
    daemon = await startDaemon(dataDir, "us-east-1", { baseImage: true, args: netArgs });
    client = ec2(daemon, adminCredentials(dataDir));
    image = await baseImageId(client);
    const key = await client.send(new CreateKeyPairCommand({ KeyName: "vpc-test", KeyType: "ed25519" }));
    keyFile = writeKey(dataDir, "vpc-test.key", key.KeyMaterial!);
  });
  after(async () => {
    await daemon?.kill("SIGTERM");
  });

  it("says it runs VPC networking, with the pool it was given", () => {
    assert.match(daemon.output(), new RegExp(`network: VPC networking, public addresses from ${netArgs[3]}`));
    assert.match(daemon.output(), /guest egress off/);
  });

  it("a web server in its own group: SSH from the host works, port 80 only once allowed", async () => {
    webGroup = (
      await client.send(new CreateSecurityGroupCommand({ GroupName: "web", Description: "web servers" }))
    ).GroupId!;
    clientGroup = (
      await client.send(new CreateSecurityGroupCommand({ GroupName: "clients", Description: "web clients" }))
    ).GroupId!;
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: webGroup,
        IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
      }),
    );
    const userData = Buffer.from(
      `#!/bin/sh\nmkdir -p /www && echo ${marker} > /www/index.html && httpd -p 80 -h /www && echo "web: httpd up"\n`,
    ).toString("base64");
    const res = await client.send(
      new RunInstancesCommand({
        ImageId: image,
        InstanceType: "t3.nano",
        MinCount: 1,
        MaxCount: 1,
        KeyName: "vpc-test",
        SecurityGroupIds: [webGroup],
        UserData: userData,
      }),
    );
    web = res.Instances![0].InstanceId!;
    await waitUntilInstanceRunning(waiter(client), { InstanceIds: [web] });
    await waitForConsole(client, web, "web: httpd up", { timeoutMs: 600_000 });
    const a = await describeInstance(client, web);
    webIp = a.PrivateIpAddress!;
    // The default VPC's first default subnet (172.31.0.0/20); .1-.3 are the VPC's own.
    assert.match(webIp, /^172\.31\.(\d|1[0-5])\.\d+$/);
    assert.equal(a.PrivateDnsName, `ip-${webIp.replaceAll(".", "-")}.ec2.internal`);
    assert.match(a.VpcId!, /^vpc-/);
    assert.match(a.SubnetId!, /^subnet-/);
    assert.deepEqual(a.SecurityGroups, [{ GroupId: webGroup, GroupName: "web" }]);
    const nic = a.NetworkInterfaces![0];
    assert.equal(nic.Attachment?.DeviceIndex, 0);
    assert.equal(nic.PrivateIpAddress, webIp);
    assert.match(nic.MacAddress!, /^02:/);
    assert.equal(nic.Association?.PublicIp, a.PublicIpAddress);
    assert.ok(a.PublicIpAddress, "an instance of the default subnet gets a public address");
    assert.equal(
      a.Tags?.find((t) => t.Key === "strata:ssh-port"),
      undefined,
    );
    // The guest itself: its address came by DHCP from the subnet, its name from the VPC.
    const inside = await ssh(a, keyFile, "ip -4 -o addr show dev eth0; hostname; cat /www/index.html");
    assert.match(inside, new RegExp(`inet ${webIp.replaceAll(".", "\\.")}/20`));
    assert.match(inside, new RegExp(`ip-${webIp.replaceAll(".", "-")}`));
    assert.match(inside, new RegExp(marker));
    // Port 80 from the host: nothing answers until a rule allows it.
    assert.equal(await fromHost(a.PublicIpAddress!, 80, true), null);
  });

  it("a second instance fetches the page only while the web group allows its group, and reaches nothing of the host", async (t) => {
    // Listeners on the host's own address and on its end of Strata's veth: a guest must reach neither.
    const listeners = new HostListeners();
    const own = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal && !a.address.startsWith("100."))?.address;
    const probes: [string, string, number][] = [];
    if (own) probes.push(["host-own-address", own, await listeners.listen(own)]);
    const veth = hostVethAddress(netArgs[3]);
    probes.push(["host-veth", veth, await listeners.listen(veth)]);
    t.after(() => listeners.close());
    const res = await client.send(
      new RunInstancesCommand({
        ImageId: image,
        InstanceType: "t3.nano",
        MinCount: 1,
        MaxCount: 1,
        NetworkInterfaces: [{ DeviceIndex: 0, Groups: [clientGroup], AssociatePublicIpAddress: false }],
        UserData: fetcher(webIp, probes),
      }),
    );
    const b = res.Instances![0].InstanceId!;
    const first = await waitForConsole(client, b, "fetch 3 failed", { timeoutMs: 600_000 });
    for (const [name] of probes) assert.match(first, new RegExp(`probe ${name} closed`), name);
    assert.equal(listeners.connections, 0, "no guest connection reached the host");
    assert.equal(count(await consoleText(client, b), new RegExp(marker)), 0);
    const described = await describeInstance(client, b);
    assert.equal(described.PublicIpAddress, undefined, "AssociatePublicIpAddress=false: no public address");

    const allow = {
      GroupId: webGroup,
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 80, ToPort: 80, UserIdGroupPairs: [{ GroupId: clientGroup }] },
      ],
    };
    await client.send(new AuthorizeSecurityGroupIngressCommand(allow));
    const allowed = await eventually(
      "the client's fetch after the rule",
      () => consoleText(client, b),
      (t) => t.includes(`ok ${marker}`),
    );
    const okBefore = count(allowed, /fetch \d+ ok/g);
    // The host is not in the client group: port 80 stays closed to it.
    const server = await describeInstance(client, web);
    assert.equal(await fromHost(server.PublicIpAddress!, 80, true), null);

    await client.send(new RevokeSecurityGroupIngressCommand(allow));
    const failedAtRevoke = count(await consoleText(client, b), /fetch \d+ failed/g);
    const afterRevoke = await eventually(
      "the client's fetches after the revoke",
      () => consoleText(client, b),
      (t) => count(t, /fetch \d+ failed/g) >= failedAtRevoke + 3,
    );
    const lines = afterRevoke.split("\n").filter((l) => /^fetch \d+ /.test(l.trim()));
    assert.match(lines.at(-1)!, /failed/, "the last fetches fail again while both run");
    assert.ok(count(afterRevoke, /fetch \d+ ok/g) >= okBefore);
    await client.send(new TerminateInstancesCommand({ InstanceIds: [b] }));
  });

  it("the host reaches port 80 once a rule allows any address", async () => {
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: webGroup,
        IpProtocol: "tcp",
        FromPort: 80,
        ToPort: 80,
        CidrIp: "0.0.0.0/0",
      }),
    );
    const a = await describeInstance(client, web);
    const page = await eventually(
      "the page from the host",
      () => fromHost(a.PublicIpAddress!, 80, true),
      (p) => Boolean(p?.includes(marker)),
    );
    assert.match(page!, /^HTTP\/1\.[01] 200/);
  });

  it("an instance of another VPC (made with the aws CLI) cannot reach the web server", async () => {
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: adminCredentials(dataDir).accessKeyId,
      AWS_SECRET_ACCESS_KEY: adminCredentials(dataDir).secretAccessKey,
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    };
    const aws = async (...args: string[]) =>
      JSON.parse(
        (await run("aws", ["--endpoint-url", daemon.url, "--output", "json", "ec2", ...args], { env }))
          .stdout || "{}",
      );
    const vpc = (await aws("create-vpc", "--cidr-block", "10.20.0.0/16")).Vpc.VpcId;
    const subnet = (await aws("create-subnet", "--vpc-id", vpc, "--cidr-block", "10.20.1.0/24")).Subnet
      .SubnetId;
    const sg = (
      await aws("create-security-group", "--group-name", "other", "--description", "other", "--vpc-id", vpc)
    ).GroupId;
    await aws(
      "authorize-security-group-ingress",
      "--group-id",
      sg,
      "--protocol",
      "tcp",
      "--port",
      "22",
      "--cidr",
      "0.0.0.0/0",
    );
    const ran = await aws(
      "run-instances",
      ...["--image-id", image, "--instance-type", "t3.nano", "--count", "1"],
      ...[
        "--subnet-id",
        subnet,
        "--security-group-ids",
        sg,
        "--user-data",
        Buffer.from(fetcher(webIp), "base64").toString(),
      ],
    );
    const c = ran.Instances[0].InstanceId;
    const described = (await aws("describe-instances", "--instance-ids", c)).Reservations[0].Instances[0];
    assert.equal(described.VpcId, vpc);
    assert.equal(described.SubnetId, subnet);
    assert.equal(described.PrivateIpAddress, "10.20.1.4");
    assert.equal(described.PrivateDnsName, "ip-10-20-1-4.ec2.internal");
    assert.deepEqual(described.SecurityGroups, [{ GroupId: sg, GroupName: "other" }]);
    assert.equal(described.NetworkInterfaces[0].Attachment.DeviceIndex, 0);
    assert.equal(described.PublicIpAddress, undefined, "a subnet without an internet gateway is private");
    const filtered = await aws(
      "describe-instances",
      "--filters",
      `Name=vpc-id,Values=${vpc}`,
      `Name=instance.group-id,Values=${sg}`,
    );
    assert.deepEqual(
      filtered.Reservations.flatMap((r: { Instances: { InstanceId: string }[] }) =>
        r.Instances.map((i) => i.InstanceId),
      ),
      [c],
    );
    const text = await waitForConsole(client, c, "fetch 5 failed", { timeoutMs: 600_000 });
    assert.equal(count(text, new RegExp(marker)), 0, "another VPC never reaches the web server");
    await aws("terminate-instances", "--instance-ids", c);
  });

  it("after a daemon restart, the instance started again is reachable at its new public address", async () => {
    await daemon.kill("SIGTERM");
    daemon = await startDaemon(dataDir, "us-east-1", { baseImage: true, args: netArgs });
    client = ec2(daemon, adminCredentials(dataDir));
    await client.send(new StartInstancesCommand({ InstanceIds: [web] }));
    await waitUntilInstanceRunning(waiter(client), { InstanceIds: [web] });
    await waitForConsole(client, web, BOOTED, { times: 2, timeoutMs: 600_000 });
    const a = await describeInstance(client, web);
    assert.equal(a.PrivateIpAddress, webIp, "the interface keeps its private address");
    const inside = await ssh(a, keyFile, "cat /www/index.html 2>/dev/null; echo ssh-ok");
    assert.match(inside, /ssh-ok/);
    const banner = await fromHost(a.PublicIpAddress!, 22);
    assert.match(banner ?? "", /^SSH-2\.0-/);
  });
});
