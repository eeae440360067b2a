import type * as EC2 from "@aws-sdk/client-ec2";
import { StrataError } from "../../../errors.ts";
import { checkName } from "../../../services/images/image-rules.ts";
import { runnableType } from "../../../services/instances/instance-type-rules.ts";
import type { InterfaceView } from "../../../services/network/interface-service.ts";
import { checkAvailabilityZone } from "../../../services/volumes/volume-service.ts";
import type { InstanceRecord } from "../../../storage/metadata/instance-store.ts";
import { dryRunCheck, type Out, type RequestContext, required } from "../context.ts";
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
import { launchNetworkRequest } from "../run-network-params.ts";
import { tagsBySpecification } from "../tagging.ts";
import { checkImageId, toMappings } from "./images.ts";

const MAX_USER_DATA = 16 * 1024;

/** The caller's own instances named by a lifecycle call (at least one). */
function ownedInstances(ctx: RequestContext, ids: string[] | undefined): Promise<InstanceRecord[]> {
  return ctx.region.instances.ownedAll(ctx.accountId, required(ids?.length ? ids : undefined, "InstanceId"));
}

/** EC2 takes user data base64-encoded and limits the decoded bytes to 16 KB. */
function checkUserData(userData: string | undefined): string | null {
  if (userData === undefined || userData === "") return null;
  const compact = userData.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw new StrataError("InvalidUserData.Malformed", "Invalid BASE64 encoding of user data.");
  }
  const bytes = Buffer.from(compact, "base64").length;
  if (bytes > MAX_USER_DATA) {
    throw new StrataError(
      "InvalidParameterValue",
      `User data is limited to ${MAX_USER_DATA} bytes (got ${bytes})`,
    );
  }
  return compact;
}

export async function RunInstances(
  ctx: RequestContext,
  input: EC2.RunInstancesCommandInput,
): Promise<Out<EC2.RunInstancesCommandOutput>> {
  const imageId = required(input.ImageId, "ImageId");
  const minCount = required(input.MinCount, "MinCount");
  const maxCount = required(input.MaxCount, "MaxCount");
  if (!Number.isInteger(minCount) || minCount < 1 || !Number.isInteger(maxCount) || maxCount < minCount) {
    throw new StrataError(
      "InvalidParameterValue",
      `MinCount (${minCount}) must be at least 1 and MaxCount (${maxCount}) at least MinCount`,
    );
  }
  // EC2's default is m1.small, which Strata does not offer; t3.micro is the closest small type.
  const typeName = runnableType(input.InstanceType ?? "t3.micro").name;
  const userData = checkUserData(input.UserData);
  const shutdownBehavior = input.InstanceInitiatedShutdownBehavior ?? "stop";
  if (shutdownBehavior !== "stop" && shutdownBehavior !== "terminate") {
    throw new StrataError(
      "InvalidParameterValue",
      `Invalid value '${shutdownBehavior}' for InstanceInitiatedShutdownBehavior (stop or terminate)`,
    );
  }
  const tags = tagsBySpecification(input.TagSpecifications, ["instance", "volume"] as const);
  checkImageId(imageId);
  const az = input.Placement?.AvailabilityZone || undefined;
  const network = launchNetworkRequest(input);
  if (input.DryRun) {
    await ctx.region.images.visible(ctx.accountId, imageId);
    if (input.KeyName !== undefined) await ctx.region.keyPairs.byName(ctx.accountId, input.KeyName);
    if (az !== undefined) checkAvailabilityZone(ctx.regionName, az);
    dryRunCheck(input);
  }
  const records = await ctx.region.instances.run({
    ownerId: ctx.accountId,
    imageId,
    instanceType: typeName,
    minCount,
    maxCount,
    userData,
    keyName: input.KeyName ?? null,
    availabilityZone: az,
    network,
    blockDeviceMappings: toMappings(input.BlockDeviceMappings),
    clientToken: input.ClientToken ?? null,
    shutdownBehavior,
    tags,
    request: { ...input, ClientToken: undefined },
  });
  return {
    ReservationId: records[0].reservationId,
    OwnerId: ctx.accountId,
    Groups: [],
    Instances: await shapes(ctx, records),
  };
}

async function shapes(ctx: RequestContext, records: InstanceRecord[]): Promise<EC2.Instance[]> {
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
  const instances = input.InstanceIds?.length
    ? await ctx.region.instances.ownedAll(ctx.accountId, input.InstanceIds)
    : await ctx.region.instances.listOwned(ctx.accountId);
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
  const all = await shapes(ctx, page);
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
  let instances = input.InstanceIds?.length
    ? await ctx.region.instances.ownedAll(ctx.accountId, input.InstanceIds)
    : await ctx.region.instances.listOwned(ctx.accountId);
  // EC2 lists only running instances unless IncludeAllInstances.
  if (!input.IncludeAllInstances) instances = instances.filter((i) => i.state === "running");
  const reachable = (i: InstanceRecord) => ctx.region.instances.guestReachable(i.id);
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

function stateChanges(changes: { instanceId: string; previous: string; current: string }[]) {
  return changes.map((c) => ({
    InstanceId: c.instanceId,
    PreviousState: toInstanceState(c.previous as InstanceRecord["state"]),
    CurrentState: toInstanceState(c.current as InstanceRecord["state"]),
  }));
}

export async function StartInstances(
  ctx: RequestContext,
  input: EC2.StartInstancesCommandInput,
): Promise<Out<EC2.StartInstancesCommandOutput>> {
  const instances = await ownedInstances(ctx, input.InstanceIds);
  dryRunCheck(input);
  return { StartingInstances: stateChanges(await ctx.region.instances.start(instances.map((i) => i.id))) };
}

export async function StopInstances(
  ctx: RequestContext,
  input: EC2.StopInstancesCommandInput,
): Promise<Out<EC2.StopInstancesCommandOutput>> {
  const instances = await ownedInstances(ctx, input.InstanceIds);
  dryRunCheck(input);
  const changes = await ctx.region.instances.stop(
    instances.map((i) => i.id),
    input.Force ?? false,
  );
  return { StoppingInstances: stateChanges(changes) };
}

export async function TerminateInstances(
  ctx: RequestContext,
  input: EC2.TerminateInstancesCommandInput,
): Promise<Out<EC2.TerminateInstancesCommandOutput>> {
  const instances = await ownedInstances(ctx, input.InstanceIds);
  dryRunCheck(input);
  return {
    TerminatingInstances: stateChanges(await ctx.region.instances.terminate(instances.map((i) => i.id))),
  };
}

export async function RebootInstances(
  ctx: RequestContext,
  input: EC2.RebootInstancesCommandInput,
): Promise<Out<EC2.RebootInstancesCommandOutput>> {
  const instances = await ownedInstances(ctx, input.InstanceIds);
  dryRunCheck(input);
  await ctx.region.instances.reboot(instances.map((i) => i.id));
  return {};
}

export async function GetConsoleOutput(
  ctx: RequestContext,
  input: EC2.GetConsoleOutputCommandInput,
): Promise<Out<EC2.GetConsoleOutputCommandOutput>> {
  const i = await ctx.region.instances.owned(ctx.accountId, required(input.InstanceId, "InstanceId"));
  dryRunCheck(input);
  // Latest or not, Strata's console log is current (EC2 buffers the non-latest form).
  const { output, timestamp } = await ctx.region.instances.consoleOutput(i.id);
  return {
    InstanceId: i.id,
    Timestamp: timestamp,
    Output: output.length ? output.toString("base64") : undefined,
  };
}

export async function CreateImage(
  ctx: RequestContext,
  input: EC2.CreateImageCommandInput,
): Promise<Out<EC2.CreateImageCommandOutput>> {
  const i = await ctx.region.instances.owned(ctx.accountId, required(input.InstanceId, "InstanceId"));
  const name = required(input.Name, "Name");
  const tags = tagsBySpecification(input.TagSpecifications, ["image", "snapshot"] as const);
  checkName(name);
  dryRunCheck(input);
  const image = await ctx.region.instances.createImage(ctx.accountId, i.id, {
    name,
    description: input.Description,
    noReboot: input.NoReboot ?? false,
    overrides: toMappings(input.BlockDeviceMappings),
    tags,
  });
  return { ImageId: image.id };
}

export async function ModifyInstanceAttribute(
  ctx: RequestContext,
  input: EC2.ModifyInstanceAttributeCommandInput,
): Promise<Out<EC2.ModifyInstanceAttributeCommandOutput>> {
  const i = await ctx.region.instances.owned(ctx.accountId, required(input.InstanceId, "InstanceId"));
  // Two forms: Attribute + Value, or one typed member per attribute.
  const byName = (name: string) => (input.Attribute === name ? input.Value : undefined);
  const type = input.InstanceType?.Value ?? byName("instanceType");
  const rawUserData =
    input.UserData?.Value ??
    (byName("userData") !== undefined ? Buffer.from(byName("userData")!, "base64") : undefined);
  let userData: string | null | undefined;
  if (rawUserData !== undefined) {
    if (rawUserData.length > MAX_USER_DATA) {
      throw new StrataError("InvalidParameterValue", `User data is limited to ${MAX_USER_DATA} bytes`);
    }
    userData = rawUserData.length ? Buffer.from(rawUserData).toString("base64") : null;
  }
  const behavior =
    input.InstanceInitiatedShutdownBehavior?.Value ?? byName("instanceInitiatedShutdownBehavior");
  if (behavior !== undefined && behavior !== "stop" && behavior !== "terminate") {
    throw new StrataError(
      "InvalidParameterValue",
      `Invalid value '${behavior}' for InstanceInitiatedShutdownBehavior`,
    );
  }
  if (
    input.Attribute &&
    !["instanceType", "userData", "instanceInitiatedShutdownBehavior"].includes(input.Attribute)
  ) {
    throw new StrataError(
      "UnsupportedOperation",
      `Modifying the attribute '${input.Attribute}' is not supported`,
    );
  }
  const deleteOnTermination = (input.BlockDeviceMappings ?? []).map((m) => ({
    device: required(m.DeviceName, "BlockDeviceMapping.DeviceName"),
    value: required(m.Ebs?.DeleteOnTermination, "BlockDeviceMapping.Ebs.DeleteOnTermination"),
  }));
  // GroupId.N: a running instance's groups change at once (its interface's firewall follows).
  const groups = input.Groups?.length ? input.Groups : undefined;
  if (
    type === undefined &&
    userData === undefined &&
    behavior === undefined &&
    !deleteOnTermination.length &&
    !groups
  ) {
    throw new StrataError("MissingParameter", "The request must contain an attribute to modify");
  }
  dryRunCheck(input);
  if (groups) {
    if (i.state === "terminated" || i.state === "shutting-down") {
      throw new StrataError(
        "IncorrectInstanceState",
        `The instance '${i.id}' is not in a state to change its groups.`,
      );
    }
    await ctx.region.interfaces.setGroups(ctx.accountId, i.id, groups);
  }
  if (type !== undefined || userData !== undefined || behavior !== undefined || deleteOnTermination.length) {
    await ctx.region.instances.modify(i.id, {
      instanceType: type,
      userData,
      shutdownBehavior: behavior as "stop" | "terminate" | undefined,
      deleteOnTermination,
    });
  }
  return {};
}

export async function DescribeInstanceAttribute(
  ctx: RequestContext,
  input: EC2.DescribeInstanceAttributeCommandInput,
): Promise<Out<EC2.DescribeInstanceAttributeCommandOutput>> {
  const i = await ctx.region.instances.owned(ctx.accountId, required(input.InstanceId, "InstanceId"));
  const attribute = required(input.Attribute, "Attribute");
  dryRunCheck(input);
  const out: Out<EC2.DescribeInstanceAttributeCommandOutput> = { InstanceId: i.id };
  switch (attribute) {
    case "instanceType":
      out.InstanceType = { Value: i.instanceType };
      break;
    case "userData":
      out.UserData = i.userData ? { Value: i.userData } : {};
      break;
    case "instanceInitiatedShutdownBehavior":
      out.InstanceInitiatedShutdownBehavior = { Value: i.shutdownBehavior ?? "stop" };
      break;
    case "rootDeviceName":
      out.RootDeviceName = { Value: i.rootDeviceName };
      break;
    case "disableApiTermination":
      out.DisableApiTermination = { Value: false };
      break;
    case "groupSet": {
      const eni = (await ctx.region.interfaces.interfacesOf([i.id])).get(i.id)?.[0];
      out.Groups = (eni?.groupIds ?? []).map((g) => ({ GroupId: g }));
      break;
    }
    case "sourceDestCheck":
      out.SourceDestCheck = { Value: true };
      break;
    case "blockDeviceMapping":
      out.BlockDeviceMappings = (await ctx.region.instances.attachments(i.id)).map((a) => ({
        DeviceName: a.device,
        Ebs: {
          VolumeId: a.volumeId,
          Status: "attached",
          AttachTime: new Date(a.attachedAt),
          DeleteOnTermination: a.deleteOnTermination,
        },
      }));
      break;
    default:
      throw new StrataError("UnsupportedOperation", `The attribute '${attribute}' is not supported`);
  }
  return out;
}
