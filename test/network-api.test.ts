// The EC2 network model through the SDK against the live daemon: the default VPC on first use,
// VPC/subnet/gateway/route table round trips, bad input answered with EC2's codes and nothing
// changed (accounts and Elastic IPs: network-isolation.test.ts).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteInternetGatewayCommand,
  DeleteRouteCommand,
  DeleteRouteTableCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeAccountAttributesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  DetachInternetGatewayCommand,
  DisassociateRouteTableCommand,
  type EC2Client,
  ModifySubnetAttributeCommand,
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

test("the default VPC appears on first use, as AWS makes it for new accounts", async () => {
  const vpcs = (await bob.send(new DescribeVpcsCommand({}))).Vpcs!;
  assert.equal(vpcs.length, 1);
  const [vpc] = vpcs;
  assert.deepEqual(
    [vpc.CidrBlock, vpc.IsDefault, vpc.State, vpc.OwnerId],
    ["172.31.0.0/16", true, "available", bobAccount.accountId],
  );
  const subnets = (
    await bob.send(new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpc.VpcId!] }] }))
  ).Subnets!;
  assert.deepEqual(
    subnets
      .map((s) => [
        s.AvailabilityZone,
        s.CidrBlock,
        s.DefaultForAz,
        s.MapPublicIpOnLaunch,
        s.AvailableIpAddressCount,
      ])
      .sort(),
    [
      ["us-east-1a", "172.31.0.0/20", true, true, 4091],
      ["us-east-1b", "172.31.16.0/20", true, true, 4091],
      ["us-east-1c", "172.31.32.0/20", true, true, 4091],
    ],
  );
  const [igw] = (await bob.send(new DescribeInternetGatewaysCommand({}))).InternetGateways!;
  assert.deepEqual(igw.Attachments, [{ VpcId: vpc.VpcId, State: "available" }]);
  const [main] = (
    await bob.send(
      new DescribeRouteTablesCommand({ Filters: [{ Name: "association.main", Values: ["true"] }] }),
    )
  ).RouteTables!;
  assert.equal(main.VpcId, vpc.VpcId);
  assert.deepEqual(
    main.Routes!.map((r) => [r.DestinationCidrBlock, r.GatewayId, r.State]),
    [
      ["172.31.0.0/16", "local", "active"],
      ["0.0.0.0/0", igw.InternetGatewayId, "active"],
    ],
  );
  const attributes = (await bob.send(new DescribeAccountAttributesCommand({}))).AccountAttributes!;
  const value = (name: string) =>
    attributes.find((a) => a.AttributeName === name)?.AttributeValues?.map((v) => v.AttributeValue);
  assert.deepEqual(value("default-vpc"), [vpc.VpcId]);
  assert.deepEqual(value("supported-platforms"), ["VPC"]);
  const dns = await bob.send(
    new DescribeVpcAttributeCommand({ VpcId: vpc.VpcId, Attribute: "enableDnsHostnames" }),
  );
  assert.equal(dns.EnableDnsHostnames?.Value, true);
  // Still one: first use happens once.
  assert.equal((await bob.send(new DescribeVpcsCommand({}))).Vpcs!.length, 1);
  assert.deepEqual((await bob.send(new DescribeNetworkInterfacesCommand({}))).NetworkInterfaces, []);
});

test("a VPC with subnets, a gateway and its own route table, round trip; deleting in order", async () => {
  const vpc = (
    await alice.send(
      new CreateVpcCommand({
        CidrBlock: "10.20.0.0/16",
        TagSpecifications: [{ ResourceType: "vpc", Tags: [{ Key: "Name", Value: "lab" }] }],
      }),
    )
  ).Vpc!;
  assert.deepEqual(
    [vpc.CidrBlock, vpc.IsDefault, vpc.Tags],
    ["10.20.0.0/16", false, [{ Key: "Name", Value: "lab" }]],
  );
  const described = (
    await alice.send(new DescribeVpcsCommand({ Filters: [{ Name: "tag:Name", Values: ["lab"] }] }))
  ).Vpcs!;
  assert.deepEqual(
    described.map((v) => v.VpcId),
    [vpc.VpcId],
  );
  // Packer sends empty strings for what it leaves out: an empty zone is no zone.
  const pub = (
    await alice.send(
      new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: "10.20.1.0/24", AvailabilityZone: "" }),
    )
  ).Subnet!;
  const priv = (
    await alice.send(
      new CreateSubnetCommand({
        VpcId: vpc.VpcId,
        CidrBlock: "10.20.2.0/24",
        AvailabilityZone: "us-east-1c",
      }),
    )
  ).Subnet!;
  assert.deepEqual(
    [pub.AvailabilityZone, pub.AvailableIpAddressCount, pub.MapPublicIpOnLaunch, pub.DefaultForAz],
    ["us-east-1a", 251, false, false],
  );
  await alice.send(
    new ModifySubnetAttributeCommand({ SubnetId: pub.SubnetId, MapPublicIpOnLaunch: { Value: true } }),
  );
  await alice.send(
    new CreateTagsCommand({ Resources: [pub.SubnetId!], Tags: [{ Key: "tier", Value: "public" }] }),
  );
  const tagged = (
    await alice.send(new DescribeSubnetsCommand({ Filters: [{ Name: "tag:tier", Values: ["public"] }] }))
  ).Subnets!;
  assert.deepEqual(
    tagged.map((s) => [s.SubnetId, s.Tags]),
    [[pub.SubnetId, [{ Key: "tier", Value: "public" }]]],
  );
  const [modified] = (await alice.send(new DescribeSubnetsCommand({ SubnetIds: [pub.SubnetId!] }))).Subnets!;
  assert.equal(modified.MapPublicIpOnLaunch, true);

  const igw = (await alice.send(new CreateInternetGatewayCommand({}))).InternetGateway!;
  assert.deepEqual(igw.Attachments, []);
  await alice.send(
    new AttachInternetGatewayCommand({ InternetGatewayId: igw.InternetGatewayId, VpcId: vpc.VpcId }),
  );
  const tables = (
    await alice.send(new DescribeRouteTablesCommand({ Filters: [{ Name: "vpc-id", Values: [vpc.VpcId!] }] }))
  ).RouteTables!;
  assert.equal(tables.length, 1);
  const main = tables[0];
  assert.deepEqual(
    main.Associations!.map((a) => [a.Main, a.SubnetId]),
    [[true, undefined]],
  );
  // The public subnet: a table of its own sending 0.0.0.0/0 to the gateway; the other follows main (local only).
  const own = (await alice.send(new CreateRouteTableCommand({ VpcId: vpc.VpcId }))).RouteTable!;
  await alice.send(
    new CreateRouteCommand({
      RouteTableId: own.RouteTableId,
      DestinationCidrBlock: "0.0.0.0/0",
      GatewayId: igw.InternetGatewayId,
    }),
  );
  assert.equal(
    await code(
      alice.send(
        new CreateRouteCommand({
          RouteTableId: own.RouteTableId,
          DestinationCidrBlock: "0.0.0.0/0",
          GatewayId: igw.InternetGatewayId,
        }),
      ),
    ),
    "RouteAlreadyExists",
  );
  const assoc = await alice.send(
    new AssociateRouteTableCommand({ RouteTableId: own.RouteTableId, SubnetId: pub.SubnetId }),
  );
  const byPublic = (
    await alice.send(
      new DescribeRouteTablesCommand({
        Filters: [{ Name: "association.subnet-id", Values: [pub.SubnetId!] }],
      }),
    )
  ).RouteTables!;
  assert.deepEqual(
    byPublic.map((r) => r.RouteTableId),
    [own.RouteTableId],
  );
  assert.deepEqual(
    byPublic[0].Routes!.map((r) => [r.DestinationCidrBlock, r.GatewayId, r.Origin, r.State]),
    [
      ["10.20.0.0/16", "local", "CreateRouteTable", "active"],
      ["0.0.0.0/0", igw.InternetGatewayId, "CreateRoute", "active"],
    ],
  );

  // In use: the VPC, the gateway, the table; the local route is the VPC's own.
  assert.equal(await code(alice.send(new DeleteVpcCommand({ VpcId: vpc.VpcId }))), "DependencyViolation");
  assert.equal(
    await code(alice.send(new DeleteInternetGatewayCommand({ InternetGatewayId: igw.InternetGatewayId }))),
    "DependencyViolation",
  );
  assert.equal(
    await code(alice.send(new DeleteRouteTableCommand({ RouteTableId: own.RouteTableId }))),
    "DependencyViolation",
  );
  assert.equal(
    await code(alice.send(new DeleteRouteTableCommand({ RouteTableId: main.RouteTableId }))),
    "DependencyViolation",
  );
  assert.equal(
    await code(
      alice.send(
        new DeleteRouteCommand({ RouteTableId: own.RouteTableId, DestinationCidrBlock: "10.20.0.0/16" }),
      ),
    ),
    "InvalidParameterValue",
  );
  assert.equal(
    await code(
      alice.send(
        new DeleteRouteCommand({ RouteTableId: own.RouteTableId, DestinationCidrBlock: "10.99.0.0/16" }),
      ),
    ),
    "InvalidRoute.NotFound",
  );
  assert.equal(
    await code(
      alice.send(
        new AttachInternetGatewayCommand({ InternetGatewayId: igw.InternetGatewayId, VpcId: vpc.VpcId }),
      ),
    ),
    "Resource.AlreadyAssociated",
  );

  // Taken apart in order, everything goes; the gateway route of a detached gateway is a blackhole.
  await alice.send(new DisassociateRouteTableCommand({ AssociationId: assoc.AssociationId }));
  await alice.send(
    new DetachInternetGatewayCommand({ InternetGatewayId: igw.InternetGatewayId, VpcId: vpc.VpcId }),
  );
  const [orphan] = (await alice.send(new DescribeRouteTablesCommand({ RouteTableIds: [own.RouteTableId!] })))
    .RouteTables!;
  assert.equal(orphan.Routes![1].State, "blackhole");
  assert.equal(
    await code(
      alice.send(
        new DetachInternetGatewayCommand({ InternetGatewayId: igw.InternetGatewayId, VpcId: vpc.VpcId }),
      ),
    ),
    "Gateway.NotAttached",
  );
  await alice.send(
    new DeleteRouteCommand({ RouteTableId: own.RouteTableId, DestinationCidrBlock: "0.0.0.0/0" }),
  );
  await alice.send(new DeleteRouteTableCommand({ RouteTableId: own.RouteTableId }));
  await alice.send(new DeleteInternetGatewayCommand({ InternetGatewayId: igw.InternetGatewayId }));
  await alice.send(new DeleteSubnetCommand({ SubnetId: pub.SubnetId }));
  await alice.send(new DeleteSubnetCommand({ SubnetId: priv.SubnetId }));
  await alice.send(new DeleteVpcCommand({ VpcId: vpc.VpcId }));
  assert.equal(
    await code(alice.send(new DescribeVpcsCommand({ VpcIds: [vpc.VpcId!] }))),
    "InvalidVpcID.NotFound",
  );
  assert.deepEqual(
    (
      await alice.send(
        new DescribeRouteTablesCommand({ Filters: [{ Name: "vpc-id", Values: [vpc.VpcId!] }] }),
      )
    ).RouteTables,
    [],
  );
});

test("bad input is refused with EC2's codes and changes nothing", async () => {
  const vpc = (await alice.send(new CreateVpcCommand({ CidrBlock: "10.30.0.0/16" }))).Vpc!;
  const other = (await alice.send(new CreateVpcCommand({ CidrBlock: "10.31.0.0/16" }))).Vpc!;
  await alice.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: "10.30.0.0/24" }));
  const otherSubnet = (
    await alice.send(new CreateSubnetCommand({ VpcId: other.VpcId, CidrBlock: "10.31.0.0/24" }))
  ).Subnet!;
  const table = (await alice.send(new CreateRouteTableCommand({ VpcId: vpc.VpcId }))).RouteTable!;
  const otherIgw = (await alice.send(new CreateInternetGatewayCommand({}))).InternetGateway!;
  await alice.send(
    new AttachInternetGatewayCommand({ InternetGatewayId: otherIgw.InternetGatewayId, VpcId: other.VpcId }),
  );
  const before = await snapshot(alice);
  const refusals: [string, Promise<unknown>][] = [
    [
      "InvalidSubnet.Conflict",
      alice.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: "10.30.0.128/25" })),
    ],
    [
      "InvalidSubnet.Range",
      alice.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: "10.99.0.0/24" })),
    ],
    [
      "InvalidSubnet.Range",
      alice.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: "10.30.9.0/29" })),
    ],
    ["InvalidVpc.Range", alice.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/8" }))],
    ["InvalidVpc.Range", alice.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/29" }))],
    ["InvalidParameterValue", alice.send(new CreateVpcCommand({ CidrBlock: "10.0.0.1/16" }))],
    [
      "InvalidParameterValue",
      alice.send(
        new CreateSubnetCommand({
          VpcId: vpc.VpcId,
          CidrBlock: "10.30.5.0/24",
          AvailabilityZone: "eu-west-1a",
        }),
      ),
    ],
    [
      "InvalidVpcID.NotFound",
      alice.send(new CreateSubnetCommand({ VpcId: "vpc-0123456789abcdef0", CidrBlock: "10.30.5.0/24" })),
    ],
    [
      "InvalidVpcID.Malformed",
      alice.send(new CreateSubnetCommand({ VpcId: "vpc-xyz", CidrBlock: "10.30.5.0/24" })),
    ],
    // A subnet or gateway of another VPC.
    [
      "InvalidParameterValue",
      alice.send(
        new AssociateRouteTableCommand({ RouteTableId: table.RouteTableId, SubnetId: otherSubnet.SubnetId }),
      ),
    ],
    [
      "InvalidParameterValue",
      alice.send(
        new CreateRouteCommand({
          RouteTableId: table.RouteTableId,
          DestinationCidrBlock: "0.0.0.0/0",
          GatewayId: otherIgw.InternetGatewayId,
        }),
      ),
    ],
    [
      "Resource.AlreadyAssociated",
      alice.send(
        new AttachInternetGatewayCommand({ InternetGatewayId: otherIgw.InternetGatewayId, VpcId: vpc.VpcId }),
      ),
    ],
    ["DependencyViolation", alice.send(new DeleteVpcCommand({ VpcId: vpc.VpcId }))],
    ["DependencyViolation", alice.send(new DeleteVpcCommand({ VpcId: other.VpcId }))],
    [
      "InvalidAssociationID.NotFound",
      alice.send(new DisassociateRouteTableCommand({ AssociationId: "rtbassoc-0123456789abcdef0" })),
    ],
    ["DryRunOperation", alice.send(new CreateVpcCommand({ CidrBlock: "10.40.0.0/16", DryRun: true }))],
    ["DryRunOperation", alice.send(new DeleteVpcCommand({ VpcId: vpc.VpcId, DryRun: true }))],
  ];
  // Every refusal gets its handler at once: they are answered in any order, and one awaited only
  // after a later one had failed would be an unhandled rejection.
  const codes = await Promise.all(refusals.map(([, call]) => code(call)));
  assert.deepEqual(
    codes,
    refusals.map(([expected]) => expected),
  );
  assert.deepEqual(await snapshot(alice), before);
});
