import type * as EC2 from "@aws-sdk/client-ec2";
import { privateDnsName } from "../../../services/instances/instance-runtime.ts";
import type { InterfaceView } from "../../../services/network/interface-service.ts";
import { dryRunCheck, type Out, type RequestContext } from "../context.ts";
import { applyFilters, type FilterFields } from "../filters.ts";
import { toNetworkInterface } from "../network-shapes.ts";
import { noMaxResultsWithIds, paginate } from "../pagination.ts";

export async function DescribeNetworkInterfaces(
  ctx: RequestContext,
  input: EC2.DescribeNetworkInterfacesCommandInput,
): Promise<Out<EC2.DescribeNetworkInterfacesCommandOutput>> {
  noMaxResultsWithIds(input.NetworkInterfaceIds, input.MaxResults, "networkInterfaceIds");
  const nics = await ctx.region.interfaces.list(ctx.accountId, input.NetworkInterfaceIds);
  const tags = await ctx.region.catalog.tagsOf(nics.map((n) => n.id));
  const groups = await ctx.region.securityGroups.byIds([...new Set(nics.flatMap((n) => n.groupIds))]);
  const fields: FilterFields<InterfaceView> = {
    "network-interface-id": (n) => n.id,
    "subnet-id": (n) => n.subnetId,
    "vpc-id": (n) => n.vpcId,
    "availability-zone": (n) => n.availabilityZone,
    "private-ip-address": (n) => n.privateIp,
    "addresses.private-ip-address": (n) => n.privateIp,
    "addresses.primary": () => true,
    "private-dns-name": (n) => privateDnsName(n.privateIp, ctx.regionName),
    "mac-address": (n) => n.mac,
    "group-id": (n) => n.groupIds,
    "group-name": (n) => n.groupIds.map((id) => groups.get(id)?.name),
    "attachment.instance-id": (n) => n.instanceId ?? undefined,
    "attachment.instance-owner-id": (n) => (n.instanceId ? n.ownerId : undefined),
    "attachment.attachment-id": (n) => n.attachmentId ?? undefined,
    "attachment.device-index": (n) => (n.instanceId ? n.deviceIndex : undefined),
    "attachment.status": (n) => (n.instanceId ? "attached" : undefined),
    "attachment.delete-on-termination": (n) => (n.instanceId ? n.deleteOnTermination : undefined),
    "association.public-ip": (n) => n.association?.publicIp,
    "association.allocation-id": (n) => n.association?.allocationId ?? undefined,
    "association.association-id": (n) => n.association?.associationId ?? undefined,
    "association.ip-owner-id": (n) => n.association?.ipOwnerId,
    "owner-id": (n) => n.ownerId,
    status: (n) => (n.instanceId ? "in-use" : "available"),
    description: (n) => n.description,
    "interface-type": () => "interface",
    "requester-managed": () => false,
    "source-dest-check": () => true,
  };
  const matched = applyFilters(nics, input.Filters, fields, (n) => tags.get(n.id) ?? []);
  dryRunCheck(input);
  const { page, nextToken } = paginate(matched, (n) => n.id, input);
  return {
    NetworkInterfaces: page.map((n) => toNetworkInterface(ctx.regionName, n, groups, tags.get(n.id))),
    NextToken: nextToken,
  };
}
