// RunInstances and the instance lifecycle calls (start, stop, terminate, reboot), the console
// output, and CreateImage of an instance.
import type * as EC2 from "@aws-sdk/client-ec2";
import { StrataError } from "../../../errors.ts";
import { checkName } from "../../../services/images/image-rules.ts";
import { runnableType } from "../../../services/instances/instance-type-rules.ts";
import { checkAvailabilityZone } from "../../../services/volumes/volume-service.ts";
import type { InstanceRecord } from "../../../storage/metadata/instance-store.ts";
import { dryRunCheck, type Out, type RequestContext, required } from "../context.ts";
import { toInstanceState } from "../instance-shapes.ts";
import { launchNetworkRequest } from "../run-network-params.ts";
import { tagsBySpecification } from "../tagging.ts";
import { checkUserData } from "../user-data.ts";
import { instanceShapes } from "./describe-instances.ts";
import { checkImageId, toMappings } from "./images.ts";

/** The caller's own instances named by a lifecycle call (at least one). */
function ownedInstances(ctx: RequestContext, ids: string[] | undefined): Promise<InstanceRecord[]> {
  return ctx.region.instances.ownedAll(ctx.accountId, required(ids?.length ? ids : undefined, "InstanceId"));
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
    Instances: await instanceShapes(ctx, records),
  };
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
