// Shared by the network tests: EC2's error code of a call, and what an account's network looks like.
import {
  DescribeAddressesCommand,
  DescribeInternetGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";

/** The error's code (the SDK's name for it), or "succeeded". */
export async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { name: string }).name;
  }
  return "succeeded";
}

/** Everything an account's network looks like, to compare before and after refused calls. */
export async function snapshot(client: EC2Client) {
  return {
    vpcs: (await client.send(new DescribeVpcsCommand({}))).Vpcs,
    subnets: (await client.send(new DescribeSubnetsCommand({}))).Subnets,
    gateways: (await client.send(new DescribeInternetGatewaysCommand({}))).InternetGateways,
    tables: (await client.send(new DescribeRouteTablesCommand({}))).RouteTables,
    addresses: (await client.send(new DescribeAddressesCommand({}))).Addresses,
  };
}
