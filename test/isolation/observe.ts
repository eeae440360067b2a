// Everything an account can see of its own resources, through its own credentials: compared
// before and after another account's calls, it shows whether those calls changed anything.
import { createHash } from "node:crypto";
import { GetSnapshotBlockCommand, ListSnapshotBlocksCommand } from "@aws-sdk/client-ebs";
import {
  DescribeAddressesCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeKeyPairsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  DescribeSubnetsCommand,
  DescribeTagsCommand,
  DescribeVolumesCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import { MiB } from "../helpers.ts";
import type { Party, World } from "./probes.ts";

const plain = <T>(value: T): T =>
  JSON.parse(JSON.stringify(value, (k, v) => (k === "$metadata" ? undefined : v)));

/** A list as an object keyed by each element's id, so a difference names the resource. */
function byKey<T>(list: T[] | undefined, key: (x: T, index: number) => string | undefined) {
  return Object.fromEntries((list ?? []).map((x, i) => [key(x, i) ?? `#${i}`, x]));
}

/** The account's network: VPCs (and their attributes), subnets, gateways, tables, groups, rules, addresses. */
async function networkState(client: EC2Client): Promise<Record<string, unknown>> {
  // First, alone: an account's first DescribeVpcs makes its default VPC (and default group).
  const vpcs = await client.send(new DescribeVpcsCommand({}));
  const [subnets, gateways, tables, groups, rules, addresses, interfaces] = await Promise.all([
    client.send(new DescribeSubnetsCommand({})),
    client.send(new DescribeInternetGatewaysCommand({})),
    client.send(new DescribeRouteTablesCommand({})),
    client.send(new DescribeSecurityGroupsCommand({})),
    client.send(new DescribeSecurityGroupRulesCommand({})),
    client.send(new DescribeAddressesCommand({})),
    client.send(new DescribeNetworkInterfacesCommand({})),
  ]);
  const vpcAttributes = await Promise.all(
    (vpcs.Vpcs ?? []).flatMap((v) =>
      (["enableDnsSupport", "enableDnsHostnames"] as const).map((Attribute) =>
        client.send(new DescribeVpcAttributeCommand({ VpcId: v.VpcId, Attribute })),
      ),
    ),
  );
  return {
    vpcs: byKey(vpcs.Vpcs, (v) => v.VpcId),
    vpcAttributes: byKey(vpcAttributes, (a, k) => `${a.VpcId} ${k % 2}`),
    subnets: byKey(subnets.Subnets, (s) => s.SubnetId),
    internetGateways: byKey(gateways.InternetGateways, (g) => g.InternetGatewayId),
    routeTables: byKey(tables.RouteTables, (r) => r.RouteTableId),
    securityGroups: byKey(groups.SecurityGroups, (g) => g.GroupId),
    securityGroupRules: byKey(rules.SecurityGroupRules, (r) => r.SecurityGroupRuleId),
    addresses: byKey(addresses.Addresses, (a) => a.AllocationId),
    networkInterfaces: byKey(interfaces.NetworkInterfaces, (n) => n.NetworkInterfaceId),
  };
}

async function regionState(client: EC2Client): Promise<Record<string, unknown>> {
  const [volumes, snapshots, images, keys, instances, tags] = await Promise.all([
    client.send(new DescribeVolumesCommand({})),
    client.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] })),
    client.send(new DescribeImagesCommand({ Owners: ["self"], IncludeDeprecated: true })),
    client.send(new DescribeKeyPairsCommand({ IncludePublicKey: true })),
    client.send(new DescribeInstancesCommand({})),
    client.send(new DescribeTagsCommand({})),
  ]);
  const snapshotPermissions = await Promise.all(
    (snapshots.Snapshots ?? []).map((s) =>
      client.send(
        new DescribeSnapshotAttributeCommand({
          SnapshotId: s.SnapshotId,
          Attribute: "createVolumePermission",
        }),
      ),
    ),
  );
  const imageAttributes = await Promise.all(
    (images.Images ?? []).flatMap((i) =>
      (["launchPermission", "description", "deregistrationProtection"] as const).map((Attribute) =>
        client.send(new DescribeImageAttributeCommand({ ImageId: i.ImageId, Attribute })),
      ),
    ),
  );
  const instanceIds = (instances.Reservations ?? [])
    .flatMap((r) => r.Instances ?? [])
    .map((i) => i.InstanceId);
  const instanceAttributes = await Promise.all(
    instanceIds.flatMap((id) =>
      (["userData", "instanceType", "instanceInitiatedShutdownBehavior"] as const).map((Attribute) =>
        client.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute })),
      ),
    ),
  );
  return plain({
    volumes: byKey(volumes.Volumes, (v) => v.VolumeId),
    snapshots: byKey(snapshots.Snapshots, (v) => v.SnapshotId),
    images: byKey(images.Images, (i) => i.ImageId),
    keys: byKey(keys.KeyPairs, (k) => k.KeyPairId),
    instances: byKey(
      (instances.Reservations ?? []).flatMap((r) => r.Instances ?? []),
      (i) => i.InstanceId,
    ),
    tags: byKey(tags.Tags, (t) => `${t.ResourceId} ${t.Key}`),
    snapshotPermissions: byKey(snapshotPermissions, (p) => p.SnapshotId),
    imageAttributes: byKey(imageAttributes, (a, k) => `${a.ImageId} ${k % 3}`),
    instanceAttributes: byKey(instanceAttributes, (a, k) => `${a.InstanceId} ${k % 3}`),
    network: await networkState(client),
  });
}

/** The account's resources in both regions, as it describes them. */
export async function accountState(p: Party): Promise<Record<string, unknown>> {
  const [us, eu] = await Promise.all([regionState(p.ec2), regionState(p.ec2Eu)]);
  return { "us-east-1": us, "eu-west-1": eu };
}

/** What the account owns, as "region id" lines: an id appearing here is something it gained. */
export async function ownedIds(p: Party): Promise<string[]> {
  const state = await accountState(p);
  return Object.entries(state).flatMap(([region, r]) =>
    ["volumes", "snapshots", "images", "instances", "keys"].flatMap((k) =>
      Object.keys((r as Record<string, Record<string, unknown>>)[k]).map((id) => `${region} ${id}`),
    ),
  );
}

/** A's, B's and C's state at once. */
export async function worldState(w: World): Promise<Record<string, unknown>> {
  const [a, b, c] = await Promise.all([accountState(w.a), accountState(w.b), accountState(w.c)]);
  return { A: a, B: b, C: c };
}

const sha = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

/**
 * The bytes that matter of A's completed snapshots (every block, read through the EBS APIs with
 * A's credentials) and of A's volumes in us-east-1 (the first 4 MiB, where the data was written).
 */
export async function contentOf(w: World, volumeIds: string[], snapshotIds: string[]) {
  const volumes: Record<string, string> = {};
  for (const id of volumeIds)
    volumes[id] = sha(await w.daemon.client("us-east-1", w.a.account.accountId).read(id, 0, 4 * MiB));
  const snapshots: Record<string, Record<number, string>> = {};
  for (const id of snapshotIds) {
    const blocks: Record<number, string> = {};
    let token: string | undefined;
    do {
      const page = await w.a.ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: id, NextToken: token }));
      for (const b of page.Blocks ?? []) {
        const got = await w.a.ebs.send(
          new GetSnapshotBlockCommand({ SnapshotId: id, BlockIndex: b.BlockIndex, BlockToken: b.BlockToken }),
        );
        blocks[b.BlockIndex!] = sha(await got.BlockData!.transformToByteArray());
      }
      token = page.NextToken;
    } while (token);
    snapshots[id] = blocks;
  }
  return { volumes, snapshots };
}

/** The paths at which two states differ, for a readable failure. */
export function differences(before: unknown, after: unknown, path = ""): string[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  if (
    before &&
    after &&
    typeof before === "object" &&
    typeof after === "object" &&
    Array.isArray(before) === Array.isArray(after)
  ) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].flatMap((k) =>
      differences(
        (before as Record<string, unknown>)[k],
        (after as Record<string, unknown>)[k],
        `${path}.${k}`,
      ),
    );
  }
  if (before === undefined) return [`${path} appeared: ${JSON.stringify(after).slice(0, 200)}`];
  if (after === undefined) return [`${path} disappeared`];
  return [`${path}: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`.slice(0, 400)];
}
