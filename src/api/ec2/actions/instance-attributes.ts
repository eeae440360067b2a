// ModifyInstanceAttribute and DescribeInstanceAttribute.
import type * as EC2 from "@aws-sdk/client-ec2";
import { StrataError } from "../../../errors.ts";
import { dryRunCheck, type Out, type RequestContext, required } from "../context.ts";
import { MAX_USER_DATA } from "../user-data.ts";

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
