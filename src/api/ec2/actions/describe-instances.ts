// DescribeInstances and DescribeInstanceStatus, and the Instance shape RunInstances answers with too.
import type * as EC2 from "@aws-sdk/client-ec2";
import type { InterfaceView } from "../../../services/network/interface-service.ts";
import type { InstanceRecord } from "../../../storage/metadata/instance-store.ts";
import { dryRunCheck, type Out, type RequestContext } from "../context.ts";
import { applyFilters, type FilterFields } from "../filters.ts";
import { networkFields } from "../instance-network-shapes.ts";
import {
  instanceStatusOf,
  instanceTags,
  toInstance,
  toInstanceState,
  toInstanceStatus,
} from "../instance-shapes.ts";
import { noMaxResultsWithIds, paginate } from "../pagination.ts";

/** The instances as EC2's Instance shapes: attachments, tags, primary interface and its groups. */
export async function instanceShapes(
  ctx: RequestContext,
  records: InstanceRecord[],
): Promise<EC2.Instance[]> {
  const tags = await ctx.region.tags.visibleTo(ctx.accountId, records);
  const attachments = await ctx.region.instances.store.allAttachments();
  const nics = await ctx.region.interfaces.interfacesOf(records.map((r) => r.id));
  const groups = await ctx.region.securityGroups.byIds([
    ...new Set([...nics.values()].flatMap((list) => list.flatMap((n) => n.groupIds))),
  ]);
  return records.map((r) => {
    const shape = toInstance(
      r,
      ctx.regionName,
      attachments.filter((a) => a.instanceId === r.id),
      tags.get(r.id) ?? [],
    );
    const eni = nics.get(r.id)?.[0];
    if (!eni) return shape;
    const net = networkFields(r, ctx.regionName, {
      eni,
      groups: eni.groupIds.flatMap((id) => groups.get(id) ?? []),
    });
    // User-mode networking: SSH through the host's loopback (the strata:ssh-port tag).
    if (ctx.region.networkMode === "user") {
      net.PublicIpAddress = shape.PublicIpAddress;
      net.PublicDnsName = shape.PublicDnsName;
    }
    return { ...shape, ...net };
  });
}

/** An instance with its primary interface and its groups' names, as DescribeInstances' filters read it. */
interface Described {
  r: InstanceRecord;
  eni?: InterfaceView;
  groupNames: string[];
}

const instanceFilters: FilterFields<Described> = {
  "instance-id": ({ r }) => r.id,
  "image-id": ({ r }) => r.imageId,
  "instance-type": ({ r }) => r.instanceType,
  "instance-state-name": ({ r }) => r.state,
  "instance-state-code": ({ r }) => String(toInstanceState(r.state).Code),
  "key-name": ({ r }) => r.keyName ?? undefined,
  "availability-zone": ({ r }) => r.availabilityZone,
  "reservation-id": ({ r }) => r.reservationId,
  "private-ip-address": ({ r, eni }) => eni?.privateIp ?? r.privateIp,
  "ip-address": ({ eni }) => eni?.association?.publicIp,
  "vpc-id": ({ eni }) => eni?.vpcId,
  "subnet-id": ({ eni }) => eni?.subnetId,
  "instance.group-id": ({ eni }) => eni?.groupIds,
  "instance.group-name": ({ groupNames }) => groupNames,
  "network-interface.network-interface-id": ({ eni }) => eni?.id,
  "network-interface.mac-address": ({ eni }) => eni?.mac,
  "network-interface.addresses.private-ip-address": ({ eni }) => eni?.privateIp,
  "network-interface.addresses.association.public-ip": ({ eni }) => eni?.association?.publicIp,
  "network-interface.group-id": ({ eni }) => eni?.groupIds,
  "network-interface.vpc-id": ({ eni }) => eni?.vpcId,
  "network-interface.subnet-id": ({ eni }) => eni?.subnetId,
  "launch-time": ({ r }) => r.launchedAt,
  architecture: ({ r }) => r.architecture,
  "root-device-name": ({ r }) => r.rootDeviceName,
  "root-device-type": () => "ebs",
  "owner-id": ({ r }) => r.ownerId,
  "client-token": ({ r }) => r.clientToken ?? undefined,
};

export async function DescribeInstances(
  ctx: RequestContext,
  input: EC2.DescribeInstancesCommandInput,
): Promise<Out<EC2.DescribeInstancesCommandOutput>> {
  noMaxResultsWithIds(input.InstanceIds, input.MaxResults, "instanceIds");
  const instances = await ctx.region.instances.described(ctx.accountId, input.InstanceIds);
  const tags = await ctx.region.tags.visibleTo(ctx.accountId, instances);
  const nics = await ctx.region.interfaces.interfacesOf(instances.map((i) => i.id));
  const groups = await ctx.region.securityGroups.byIds([
    ...new Set([...nics.values()].flatMap((list) => list.flatMap((n) => n.groupIds))),
  ]);
  const described: Described[] = instances.map((r) => {
    const eni = nics.get(r.id)?.[0];
    return { r, eni, groupNames: (eni?.groupIds ?? []).flatMap((g) => groups.get(g)?.name ?? []) };
  });
  const matched = applyFilters(described, input.Filters, instanceFilters, ({ r }) =>
    instanceTags(r, tags.get(r.id) ?? []),
  ).map((d) => d.r);
  dryRunCheck(input);
  const { page, nextToken } = paginate(matched, (i) => i.id, input);
  const all = await instanceShapes(ctx, page);
  const reservations = new Map<string, EC2.Reservation>();
  for (const [k, r] of page.entries()) {
    let res = reservations.get(r.reservationId);
    if (!res) {
      res = { ReservationId: r.reservationId, OwnerId: r.ownerId, Groups: [], Instances: [] };
      reservations.set(r.reservationId, res);
    }
    res.Instances!.push(all[k]);
  }
  return { Reservations: [...reservations.values()], NextToken: nextToken };
}

export async function DescribeInstanceStatus(
  ctx: RequestContext,
  input: EC2.DescribeInstanceStatusCommandInput,
): Promise<Out<EC2.DescribeInstanceStatusCommandOutput>> {
  noMaxResultsWithIds(input.InstanceIds, input.MaxResults, "instanceIds");
  let instances = await ctx.region.instances.described(ctx.accountId, input.InstanceIds);
  // EC2 lists only running instances unless IncludeAllInstances.
  if (!input.IncludeAllInstances) instances = instances.filter((i) => i.state === "running");
  const reachable = (i: InstanceRecord) => ctx.region.instances.guestReachable(i);
  const matched = applyFilters(instances, input.Filters, {
    "instance-id": (i) => i.id,
    "instance-state-name": (i) => i.state,
    "instance-state-code": (i) => String(toInstanceState(i.state).Code),
    "availability-zone": (i) => i.availabilityZone,
    "instance-status.status": (i) => instanceStatusOf(i, reachable(i)),
    "system-status.status": (i) => instanceStatusOf(i, reachable(i)),
  });
  dryRunCheck(input);
  const { page, nextToken } = paginate(matched, (i) => i.id, input);
  return { InstanceStatuses: page.map((i) => toInstanceStatus(i, reachable(i))), NextToken: nextToken };
}
