// The network model between accounts and Elastic IPs, through the SDK against the live daemon:
// another account's VPCs, subnets, gateways and addresses do not exist for it; an Elastic IP's life.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteInternetGatewayCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeAddressesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  DisassociateAddressCommand,
  type EC2Client,
  ReleaseAddressCommand,
} from "@aws-sdk/client-ec2";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import { type Account, adminCredentials, createAccount, ec2 } from "./ec2-helpers.ts";
import { tempDir } from "./helpers.ts";
import { code, snapshot } from "./network-helpers.ts";

const dataDir = tempDir();
let daemon: Daemon;
let alice: EC2Client;
let bob: EC2Client;
let bobAccount: Account;

before(async () => {
  daemon = await startDaemon(dataDir);
  alice = ec2(daemon, adminCredentials(dataDir));
  bobAccount = await createAccount(dataDir, "bob");
  bob = ec2(daemon, bobAccount);
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

test("another account's VPCs, subnets, gateways, tables and addresses do not exist for it", async () => {
  const vpc = (await alice.send(new CreateVpcCommand({ CidrBlock: "10.50.0.0/16" }))).Vpc!;
  const subnet = (await alice.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: "10.50.0.0/24" })))
    .Subnet!;
  const igw = (await alice.send(new CreateInternetGatewayCommand({}))).InternetGateway!;
  const eip = await alice.send(new AllocateAddressCommand({ Domain: "vpc" }));
  const bobBefore = await snapshot(bob);
  assert.ok(!bobBefore.vpcs!.some((v) => v.VpcId === vpc.VpcId));
  const refusals: [string, Promise<unknown>][] = [
    ["InvalidVpcID.NotFound", bob.send(new DescribeVpcsCommand({ VpcIds: [vpc.VpcId!] }))],
    [
      "InvalidVpcID.NotFound",
      bob.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: "10.50.1.0/24" })),
    ],
    ["InvalidVpcID.NotFound", bob.send(new DeleteVpcCommand({ VpcId: vpc.VpcId }))],
    [
      "InvalidVpcID.NotFound",
      bob.send(new CreateTagsCommand({ Resources: [vpc.VpcId!], Tags: [{ Key: "k", Value: "v" }] })),
    ],
    ["InvalidSubnetID.NotFound", bob.send(new DescribeSubnetsCommand({ SubnetIds: [subnet.SubnetId!] }))],
    ["InvalidSubnetID.NotFound", bob.send(new DeleteSubnetCommand({ SubnetId: subnet.SubnetId }))],
    [
      "InvalidInternetGatewayID.NotFound",
      bob.send(new DeleteInternetGatewayCommand({ InternetGatewayId: igw.InternetGatewayId })),
    ],
    [
      "InvalidInternetGatewayID.NotFound",
      bob.send(
        new AttachInternetGatewayCommand({
          InternetGatewayId: igw.InternetGatewayId,
          VpcId: bobBefore.vpcs![0].VpcId,
        }),
      ),
    ],
    ["InvalidAllocationID.NotFound", bob.send(new ReleaseAddressCommand({ AllocationId: eip.AllocationId }))],
    [
      "InvalidAllocationID.NotFound",
      bob.send(new DescribeAddressesCommand({ AllocationIds: [eip.AllocationId!] })),
    ],
    ["InvalidAddress.NotFound", bob.send(new DescribeAddressesCommand({ PublicIps: [eip.PublicIp!] }))],
  ];
  // Every refusal gets its handler at once: they are answered in any order.
  const codes = await Promise.all(refusals.map(([, call]) => code(call)));
  assert.deepEqual(
    codes,
    refusals.map(([expected]) => expected),
  );
  assert.deepEqual(await snapshot(bob), bobBefore);
  await alice.send(new ReleaseAddressCommand({ AllocationId: eip.AllocationId }));
});

test("Elastic IPs: allocate from the pool, describe with filters, refuse what cannot be done, release", async () => {
  const a = await alice.send(
    new AllocateAddressCommand({
      Domain: "vpc",
      TagSpecifications: [{ ResourceType: "elastic-ip", Tags: [{ Key: "role", Value: "web" }] }],
    }),
  );
  assert.match(a.PublicIp!, /^100\.96\./);
  assert.match(a.AllocationId!, /^eipalloc-[0-9a-f]{17}$/);
  const b = await alice.send(new AllocateAddressCommand({}));
  assert.notEqual(a.PublicIp, b.PublicIp);
  const tagged = (
    await alice.send(new DescribeAddressesCommand({ Filters: [{ Name: "tag:role", Values: ["web"] }] }))
  ).Addresses!;
  assert.deepEqual(
    tagged.map((x) => [x.AllocationId, x.PublicIp, x.Domain, x.AssociationId]),
    [[a.AllocationId, a.PublicIp, "vpc", undefined]],
  );
  const byIp = (
    await alice.send(
      new DescribeAddressesCommand({ Filters: [{ Name: "public-ip", Values: [b.PublicIp!] }] }),
    )
  ).Addresses!;
  assert.deepEqual(
    byIp.map((x) => x.AllocationId),
    [b.AllocationId],
  );
  assert.equal(
    await code(
      alice.send(
        new AssociateAddressCommand({ AllocationId: a.AllocationId, InstanceId: "i-0123456789abcdef0" }),
      ),
    ),
    "InvalidInstanceID.NotFound",
  );
  assert.equal(
    await code(alice.send(new DisassociateAddressCommand({ AssociationId: "eipassoc-0123456789abcdef0" }))),
    "InvalidAssociationID.NotFound",
  );
  // EC2's default quota: five per region.
  const more = [];
  while (more.length < 10) {
    const c = await code(alice.send(new AllocateAddressCommand({})).then((r) => more.push(r)));
    if (c !== "succeeded") {
      assert.equal(c, "AddressLimitExceeded");
      break;
    }
  }
  assert.equal((await alice.send(new DescribeAddressesCommand({}))).Addresses!.length, 5);
  for (const x of (await alice.send(new DescribeAddressesCommand({}))).Addresses!) {
    await alice.send(new ReleaseAddressCommand({ AllocationId: x.AllocationId }));
  }
  assert.equal(
    await code(alice.send(new ReleaseAddressCommand({ AllocationId: a.AllocationId }))),
    "InvalidAllocationID.NotFound",
  );
  assert.deepEqual((await alice.send(new DescribeAddressesCommand({}))).Addresses, []);
  assert.deepEqual(
    (
      await alice.send(
        new DescribeNetworkInterfacesCommand({
          Filters: [{ Name: "group-id", Values: ["sg-0123456789abcdef0"] }],
        }),
      )
    ).NetworkInterfaces,
    [],
  );
  assert.equal(
    await code(
      alice.send(
        new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "no-such-filter", Values: ["x"] }] }),
      ),
    ),
    "InvalidParameterValue",
  );
});
