// VPC traffic between instances on two Strata hosts of one region (one PostgreSQL, one Ceph RGW),
// each with its VXLAN tunnel on 127.0.0.1 at its own port: real VMs in the default VPC, a web
// server on host A, clients on host B in the same subnet and in another subnet. They reach it
// only as its security group allows, and a rule revoked through host B closes it on host A.
import assert from "node:assert/strict";
import { randomBytes, randomInt } from "node:crypto";
import { after, before, test } from "node:test";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  DescribeInstancesCommand,
  DescribeVolumeStatusCommand,
  DescribeVpcsCommand,
  type EC2Client,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  type RunInstancesCommandInput,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceStatusOk,
  waitUntilInstanceTerminated,
} from "@aws-sdk/client-ec2";
import { DataPlane } from "../src/network/data-plane.ts";
import { baseImageId, consoleText, waitForConsole } from "./instance-helpers.ts";
import { type Hosts, hasVm, startHosts } from "./multi-host-helpers.ts";

const probe = await DataPlane.probe();
let hosts: Hosts | undefined;
let dirA = "";
let dirB = "";
let viaA: EC2Client;
let viaB: EC2Client;
const marker = `across-hosts-${randomBytes(4).toString("hex")}`;

before(async () => {
  if (!probe.ok) return;
  // Two pools apart, two tunnel ports side by side: two hosts' worth of data plane on one machine.
  const third = randomInt(0, 128) * 2;
  const port = randomInt(20000, 60000);
  const args = (n: number) => [
    "--zone",
    "a",
    "--network",
    "vpc",
    "--public-pool",
    `100.${70 + n}.${third}.0/24`,
    "--tunnel",
    `127.0.0.1:${port + n}`,
  ];
  hosts = await startHosts({
    regions: "us-east-1",
    buckets: { default: "packs" },
    hosts: [
      { id: "vpc-host-a", args: args(0) },
      { id: "vpc-host-b", args: args(1) },
    ],
  });
  ({ dir: dirA, ec2: viaA } = hosts.a);
  ({ dir: dirB, ec2: viaB } = hosts.b);
});

after(() => hosts?.stop());

/** Fetches the web server's port 80 and 8080 every second, writing what it got on the console. */
function client(ip: string): string {
  return Buffer.from(`#!/bin/sh
( i=0; while [ $i -lt 1200 ]; do i=$((i+1))
  if out=$(timeout 3 wget -q -O - http://${ip}/ 2>/dev/null); then echo "fetch $i ok $out"; else echo "fetch $i failed"; fi
  if timeout 3 wget -q -O - http://${ip}:8080/ >/dev/null 2>&1; then echo "side $i open"; else echo "side $i closed"; fi
  sleep 1; done ) >/dev/console 2>&1 &
`).toString("base64");
}

async function launch(client: EC2Client, input: Partial<RunInstancesCommandInput>) {
  const res = await client.send(
    new RunInstancesCommand({ InstanceType: "t2.nano", MinCount: 1, MaxCount: 1, ...input }),
  );
  const i = res.Instances![0];
  return { id: i.InstanceId!, ip: i.PrivateIpAddress! };
}

const count = (text: string, re: RegExp) => text.match(new RegExp(re.source, "g"))?.length ?? 0;

test("instances on two hosts reach each other in one subnet and across subnets, as their groups allow", {
  skip: probe.ok ? false : probe.reason,
  timeout: 900_000,
}, async () => {
  const image = await baseImageId(viaA);
  const group = async (name: string) =>
    (await viaA.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name }))).GroupId!;
  const web = await group("web");
  const clients = await group("clients");
  const allow = {
    GroupId: web,
    IpPermissions: [
      { IpProtocol: "tcp", FromPort: 80, ToPort: 80, UserIdGroupPairs: [{ GroupId: clients }] },
    ],
  };
  await viaA.send(new AuthorizeSecurityGroupIngressCommand(allow));
  const { Vpcs } = await viaB.send(
    new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }),
  );
  // A second subnet of the default VPC in the same zone (the default ones are 172.31.0/16/32.0/20).
  const { Subnet } = await viaB.send(
    new CreateSubnetCommand({
      VpcId: Vpcs![0].VpcId,
      CidrBlock: "172.31.48.0/20",
      AvailabilityZone: "us-east-1a",
    }),
  );

  const server = await launch(viaA, {
    ImageId: image,
    Placement: { AvailabilityZone: "us-east-1a" },
    SecurityGroupIds: [web],
    UserData: Buffer.from(
      `#!/bin/sh\nmkdir -p /www && echo ${marker} > /www/index.html && httpd -p 80 -h /www && httpd -p 8080 -h /www && echo "web: httpd up"\n`,
    ).toString("base64"),
  });
  assert.match(server.ip, /^172\.31\.(\d|1[0-5])\.\d+$/, "the default subnet of us-east-1a");
  // Asked of B, which has room in the zone: both clients run on B.
  const near = await launch(viaB, {
    ImageId: image,
    Placement: { AvailabilityZone: "us-east-1a" },
    SecurityGroupIds: [clients],
    UserData: client(server.ip),
  });
  const far = await launch(viaB, {
    ImageId: image,
    NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: Subnet!.SubnetId, Groups: [clients] }],
    UserData: client(server.ip),
  });
  assert.match(far.ip, /^172\.31\.(4[89]|5\d|6[0-3])\.\d+$/);
  await waitUntilInstanceRunning(
    { client: viaB, maxWaitTime: 600, minDelay: 1, maxDelay: 2 },
    { InstanceIds: [server.id, near.id, far.id] },
  );
  assert.ok(hasVm(dirA, server.id) && !hasVm(dirB, server.id), "the web server runs on host A");
  for (const c of [near, far]) assert.ok(hasVm(dirB, c.id) && !hasVm(dirA, c.id), "the clients run on B");

  // The page, fetched from host B's guests through the tunnel: same subnet, then routed.
  await waitForConsole(viaB, near.id, `ok ${marker}`, { timeoutMs: 600_000 });
  await waitForConsole(viaB, far.id, `ok ${marker}`, { timeoutMs: 600_000 });
  // Status checks as every host answers them: A's guest asked of B, B's of A (the waiters that
  // scripts and Packer use).
  for (const [via, id] of [
    [viaB, server.id],
    [viaA, near.id],
  ] as const) {
    await waitUntilInstanceStatusOk(
      { client: via, maxWaitTime: 60, minDelay: 1, maxDelay: 2 },
      { InstanceIds: [id] },
    );
  }
  // A restored root volume's initialization, asked of the host it is not on (the database knows
  // how far its hydration is): completed at 100 % once B has copied it all.
  const described = await viaA.send(new DescribeInstancesCommand({ InstanceIds: [near.id] }));
  const root = described.Reservations![0].Instances![0].BlockDeviceMappings![0].Ebs!.VolumeId!;
  for (let i = 0; ; i++) {
    const [s] = (await viaA.send(new DescribeVolumeStatusCommand({ VolumeIds: [root] }))).VolumeStatuses!;
    const init = s.VolumeStatus?.Details?.find((d) => d.Name === "initialization-state");
    assert.ok(init, `no initialization detail for ${root} asked of host A`);
    if (init.Status === "completed") {
      assert.equal(s.InitializationStatusDetails?.Progress, 100);
      break;
    }
    assert.ok(i < 120, `${root} still initializing: ${JSON.stringify(s.InitializationStatusDetails)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  for (const c of [near, far]) {
    // A fetch's line comes before its side port's ("closed" is only ever a side port's word).
    const text = await waitForConsole(viaB, c.id, "closed", { timeoutMs: 60_000 });
    assert.equal(count(text, /side \d+ open/), 0, "port 8080 stays closed: no rule allows it");
  }

  // Revoked through host B: host A, which runs the server, closes port 80 within its resync.
  await viaB.send(new RevokeSecurityGroupIngressCommand(allow));
  const failedAtRevoke = count(await consoleText(viaB, near.id), /fetch \d+ failed/);
  const deadline = Date.now() + 120_000;
  let text = "";
  for (;;) {
    text = await consoleText(viaB, near.id);
    if (count(text, /fetch \d+ failed/) >= failedAtRevoke + 3) break;
    assert.ok(Date.now() < deadline, `fetches still succeed 120 s after the revoke:\n${text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  const fetches = text.split("\n").filter((l) => /^fetch \d+ /.test(l.trim()));
  assert.match(fetches.at(-1)!, /failed/, "the last fetches fail while both run");
  // One call naming instances of both hosts, as EC2 takes it: A terminates its own and has B
  // terminate B's (signed as the caller); the answer lists all three in the call's order.
  const ids = [near.id, server.id, far.id];
  const { TerminatingInstances } = await viaA.send(new TerminateInstancesCommand({ InstanceIds: ids }));
  assert.deepEqual(
    TerminatingInstances?.map((t) => [t.InstanceId, t.PreviousState?.Name]),
    ids.map((id) => [id, "running"]),
  );
  await waitUntilInstanceTerminated(
    { client: viaB, maxWaitTime: 300, minDelay: 1, maxDelay: 2 },
    { InstanceIds: ids },
  );
});
