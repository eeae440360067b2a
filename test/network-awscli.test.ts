// The network model with Debian's aws CLI, unchanged but for --endpoint-url: a VPC with a public
// subnet built by hand, the answers EC2 gives to bad input, and an Elastic IP's life.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import { AWS_CLI, awsCli, awsCliError } from "./ec2-helpers.ts";
import { tempDir } from "./helpers.ts";

const _run = promisify(execFile);
const dataDir = tempDir();
let daemon: Daemon;
const skip = !existsSync(AWS_CLI) && "Debian's awscli is not installed (scripts/setup.sh installs it)";

before(async () => {
  if (!skip) daemon = await startDaemon(dataDir, "us-east-1");
});
after(async () => {
  if (skip) return;
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

const aws = (...args: string[]) => awsCli(daemon, dataDir, ["ec2", ...args]);
const awsError = (...args: string[]) => awsCliError(daemon, dataDir, ["ec2", ...args]);

test("create-vpc, create-subnet, an internet gateway and a route table with the aws CLI", {
  skip,
}, async () => {
  const attributes = await aws("describe-account-attributes", "--attribute-names", "default-vpc");
  const defaultVpc = attributes.AccountAttributes[0].AttributeValues[0].AttributeValue;
  const { Vpcs: defaults } = await aws("describe-vpcs", "--filters", "Name=is-default,Values=true");
  assert.deepEqual(
    defaults.map((v: { VpcId: string }) => v.VpcId),
    [defaultVpc],
  );

  const { Vpc: vpc } = await aws(
    "create-vpc",
    "--cidr-block",
    "10.0.0.0/16",
    "--tag-specifications",
    "ResourceType=vpc,Tags=[{Key=Name,Value=web}]",
  );
  const { Subnet: subnet } = await aws(
    "create-subnet",
    "--vpc-id",
    vpc.VpcId,
    "--cidr-block",
    "10.0.1.0/24",
    "--availability-zone",
    "us-east-1b",
  );
  assert.deepEqual(
    [subnet.VpcId, subnet.AvailabilityZone, subnet.AvailableIpAddressCount],
    [vpc.VpcId, "us-east-1b", 251],
  );
  await aws("modify-subnet-attribute", "--subnet-id", subnet.SubnetId, "--map-public-ip-on-launch");
  const { InternetGateway: igw } = await aws("create-internet-gateway");
  await aws("attach-internet-gateway", "--internet-gateway-id", igw.InternetGatewayId, "--vpc-id", vpc.VpcId);
  const { RouteTable: table } = await aws("create-route-table", "--vpc-id", vpc.VpcId);
  const created = await aws(
    "create-route",
    "--route-table-id",
    table.RouteTableId,
    "--destination-cidr-block",
    "0.0.0.0/0",
    "--gateway-id",
    igw.InternetGatewayId,
  );
  assert.equal(created.Return, true);
  const { AssociationId } = await aws(
    "associate-route-table",
    "--route-table-id",
    table.RouteTableId,
    "--subnet-id",
    subnet.SubnetId,
  );
  assert.match(AssociationId, /^rtbassoc-/);
  const { RouteTables } = await aws(
    "describe-route-tables",
    "--filters",
    `Name=association.subnet-id,Values=${subnet.SubnetId}`,
  );
  assert.equal(RouteTables.length, 1);
  assert.deepEqual(
    RouteTables[0].Routes.map((r: { DestinationCidrBlock: string; GatewayId: string }) => [
      r.DestinationCidrBlock,
      r.GatewayId,
    ]),
    [
      ["10.0.0.0/16", "local"],
      ["0.0.0.0/0", igw.InternetGatewayId],
    ],
  );
  const { Subnets } = await aws("describe-subnets", "--subnet-ids", subnet.SubnetId);
  assert.equal(Subnets[0].MapPublicIpOnLaunch, true);

  // Bad input: EC2's codes, nothing changed.
  const before = await aws("describe-subnets", "--filters", `Name=vpc-id,Values=${vpc.VpcId}`);
  assert.match(
    await awsError("create-subnet", "--vpc-id", vpc.VpcId, "--cidr-block", "10.0.1.0/25"),
    /InvalidSubnet\.Conflict/,
  );
  assert.match(
    await awsError("create-subnet", "--vpc-id", vpc.VpcId, "--cidr-block", "10.1.0.0/24"),
    /InvalidSubnet\.Range/,
  );
  assert.match(await awsError("create-vpc", "--cidr-block", "10.0.0.0/12"), /InvalidVpc\.Range/);
  assert.match(await awsError("delete-vpc", "--vpc-id", vpc.VpcId), /DependencyViolation/);
  assert.deepEqual(await aws("describe-subnets", "--filters", `Name=vpc-id,Values=${vpc.VpcId}`), before);
});

test("allocate-address, describe-addresses, release-address with the aws CLI", { skip }, async () => {
  const eip = await aws("allocate-address", "--domain", "vpc");
  assert.match(eip.PublicIp, /^100\.96\./);
  const { Addresses } = await aws("describe-addresses", "--allocation-ids", eip.AllocationId);
  assert.deepEqual(
    Addresses.map((a: { PublicIp: string; Domain: string }) => [a.PublicIp, a.Domain]),
    [[eip.PublicIp, "vpc"]],
  );
  assert.match(
    await awsError(
      "associate-address",
      "--allocation-id",
      eip.AllocationId,
      "--instance-id",
      "i-0123456789abcdef0",
    ),
    /InvalidInstanceID\.NotFound/,
  );
  assert.match(
    await awsError("disassociate-address", "--association-id", "eipassoc-0123456789abcdef0"),
    /InvalidAssociationID\.NotFound/,
  );
  await aws("release-address", "--allocation-id", eip.AllocationId);
  assert.match(
    await awsError("release-address", "--allocation-id", eip.AllocationId),
    /InvalidAllocationID\.NotFound/,
  );
  assert.deepEqual((await aws("describe-addresses")).Addresses, []);
});
