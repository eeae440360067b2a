// npm run bench:net — instance networking, VPC data plane beside today's user-mode networking, in
// one run on this host: host -> guest TCP connect-to-first-byte latency (SSH banner) and bulk
// throughput (64 MiB through SSH into the guest, the same transfer in both modes; and a 64 MiB
// HTTP download over plain TCP on the VPC, where user mode has no path), guest -> guest latency
// and throughput inside one VPC (user-mode guests cannot reach each other at all). Same image,
// same type, two guests per mode.
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  type EC2Client,
  type Instance,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { adminCredentials, ec2 } from "../test/ec2-helpers.ts";
import { baseImageId, describeInstance, waitForConsole, writeKey } from "../test/instance-helpers.ts";
import { type BenchDaemon, startBenchDaemon } from "./daemon.ts";

const run = promisify(execFile);
const BULK = 64 * 1024 * 1024;
// Each guest serves a 64 MiB file over HTTP (busybox httpd, Content-Length, so a transfer that ends
// early shows as a short count).
const SERVER = Buffer.from(
  "#!/bin/sh\nmkdir -p /www && dd if=/dev/zero of=/www/big bs=1M count=64 2>/dev/null && httpd -p 80 -h /www && echo 'bench: server up' >/dev/console\n",
).toString("base64");

interface Guest {
  instance: Instance;
  /** Where the host reaches its SSH port. */
  host: string;
  port: number;
}

interface Setup {
  daemon: BenchDaemon;
  client: EC2Client;
  keyFile: string;
  guests: Guest[];
}

async function setUp(dir: string, network: string[]): Promise<Setup> {
  const daemon = await startBenchDaemon(dir, ["--regions", "us-east-1", ...network]);
  const client = ec2(daemon, adminCredentials(dir));
  const image = await baseImageId(client);
  const key = await client.send(new CreateKeyPairCommand({ KeyName: "bench", KeyType: "ed25519" }));
  const keyFile = writeKey(dir, "bench.key", key.KeyMaterial!);
  const group = (
    await client.send(new CreateSecurityGroupCommand({ GroupName: "bench", Description: "bench" }))
  ).GroupId!;
  await client.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: group,
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
        { IpProtocol: "tcp", FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
      ],
    }),
  );
  const res = await client.send(
    new RunInstancesCommand({
      ImageId: image,
      InstanceType: "t3.micro",
      MinCount: 2,
      MaxCount: 2,
      KeyName: "bench",
      SecurityGroupIds: [group],
      UserData: SERVER,
    }),
  );
  const guests: Guest[] = [];
  for (const i of res.Instances!) {
    await waitForConsole(client, i.InstanceId!, "bench: server up", { timeoutMs: 900_000 });
    const instance = await describeInstance(client, i.InstanceId!);
    const tag = instance.Tags?.find((t) => t.Key === "strata:ssh-port")?.Value;
    guests.push({ instance, host: instance.PublicIpAddress!, port: tag ? Number(tag) : 22 });
  }
  return { daemon, client, keyFile, guests };
}

/** Milliseconds from connect() to the first byte the guest sends (its SSH banner). */
function firstByte(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const s = connect({ host, port });
    s.once("data", () => {
      resolve(performance.now() - t0);
      s.destroy();
    });
    s.once("error", reject);
  });
}

async function median(n: number, fn: () => Promise<number>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push(await fn());
  xs.sort((a, b) => a - b);
  return xs[Math.floor(n / 2)];
}

function sshArgs(s: Setup, g: Guest): string[] {
  return [
    ...["-i", s.keyFile, "-p", String(g.port)],
    ...["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"],
    ...["-o", "BatchMode=yes", `root@${g.host}`],
  ];
}

/** Seconds to push `bytes` zeros into the guest's stdin through SSH (`cat > /dev/null`). */
function sshBulk(s: Setup, g: Guest, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn("ssh", [...sshArgs(s, g), "cat > /dev/null"], { stdio: ["pipe", "ignore", "inherit"] });
    p.once("exit", (code) =>
      code === 0 ? resolve((performance.now() - t0) / 1000) : reject(new Error(`ssh exited ${code}`)),
    );
    const chunk = Buffer.alloc(1024 * 1024);
    let left = bytes;
    const write = () => {
      while (left > 0) {
        left -= chunk.length;
        if (!p.stdin.write(chunk)) return void p.stdin.once("drain", write);
      }
      p.stdin.end();
    };
    write();
  });
}

/** Seconds to fetch the guest's 64 MiB file over HTTP (raw TCP, the data plane only); checks the count. */
function httpBulk(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let bytes = 0;
    let head = "";
    const s = connect({ host, port: 80 });
    s.once("connect", () => s.write(`GET /big HTTP/1.0\r\nHost: ${host}\r\n\r\n`));
    s.on("data", (d: Buffer) => {
      if (head.length < 4096 && !head.includes("\r\n\r\n")) {
        head += d.toString("latin1");
        const end = head.indexOf("\r\n\r\n");
        if (end >= 0) bytes += Buffer.byteLength(head.slice(end + 4), "latin1");
        return;
      }
      bytes += d.length;
    });
    s.once("close", () =>
      bytes === BULK
        ? resolve((performance.now() - t0) / 1000)
        : reject(new Error(`got ${bytes} of ${BULK} bytes`)),
    );
    s.once("error", reject);
  });
}

/** Runs a shell snippet in the guest, timed by the guest's own clock (/proc/uptime, 10 ms). */
async function timedInGuest(s: Setup, g: Guest, snippet: string): Promise<number> {
  const script = `a=$(cut -d' ' -f1 /proc/uptime); ${snippet}; b=$(cut -d' ' -f1 /proc/uptime); echo "$a $b"`;
  const { stdout } = await run("ssh", [...sshArgs(s, g), script], { timeout: 600_000 });
  const [a, b] = stdout.trim().split("\n").at(-1)!.split(" ").map(Number);
  return b - a;
}

const mbps = (bytes: number, seconds: number) => `${(bytes / 2 ** 20 / seconds).toFixed(1)} MiB/s`;

async function main(): Promise<void> {
  const vpcDir = mkdtempSync(join(tmpdir(), "strata-bench-net-vpc-"));
  const userDir = mkdtempSync(join(tmpdir(), "strata-bench-net-user-"));
  const pool = `100.${64 + Math.floor(Math.random() * 32)}.${Math.floor(Math.random() * 256)}.0/24`;
  const setups: Setup[] = [];
  try {
    const vpc = await setUp(vpcDir, ["--network", "vpc", "--public-pool", pool]);
    setups.push(vpc);
    const user = await setUp(userDir, ["--network", "user"]);
    setups.push(user);
    const [va, vb] = vpc.guests;
    const [ua] = user.guests;

    const vpcLatency = await median(31, () => firstByte(va.host, va.port));
    const userLatency = await median(31, () => firstByte(ua.host, ua.port));
    await sshBulk(vpc, va, 4 * 2 ** 20); // warm both paths (keys, caches)
    await sshBulk(user, ua, 4 * 2 ** 20);
    const vpcSsh = await sshBulk(vpc, va, BULK);
    const userSsh = await sshBulk(user, ua, BULK);
    const vpcTcp = await httpBulk(va.host);

    const peer = vb.instance.PrivateIpAddress!;
    const ggLatency =
      (await timedInGuest(
        vpc,
        va,
        `for i in 1 2 3 4 5 6 7 8 9 10; do nc -w 2 ${peer} 22 </dev/null | head -c 4 >/dev/null; done`,
      )) / 10;
    const ggBulk = await timedInGuest(
      vpc,
      va,
      `dd if=/dev/zero bs=1M count=32 2>/dev/null | nc -w 5 ${peer} 5001`,
    );

    console.log("\nInstance networking (QEMU TCG guests, t3.micro, this host)");
    console.log("host -> guest, connect to the SSH banner (median of 31)");
    console.log(`  VPC data plane (public address, nftables, 1:1 NAT)   ${vpcLatency.toFixed(2)} ms`);
    console.log(
      `  user-mode networking (127.0.0.1 host port forward)   ${userLatency.toFixed(2)} ms  (reference)`,
    );
    console.log("host -> guest, 64 MiB through SSH (cat > /dev/null)");
    console.log(`  VPC data plane                                       ${mbps(BULK, vpcSsh)}`);
    console.log(`  user-mode networking                                 ${mbps(BULK, userSsh)}  (reference)`);
    console.log(`guest -> host, 64 MiB HTTP download (VPC only)         ${mbps(BULK, vpcTcp)}`);
    console.log("guest -> guest in one VPC (user mode: no path between guests)");
    console.log(`  connect to the SSH banner (mean of 10, guest clock)  ${(ggLatency * 1000).toFixed(0)} ms`);
    console.log(`  64 MiB HTTP download (guest clock)                   ${mbps(BULK, ggBulk)}`);
  } finally {
    for (const s of setups) await s.daemon.stop();
    rmSync(vpcDir, { recursive: true, force: true });
    rmSync(userDir, { recursive: true, force: true });
  }
}

await main();
