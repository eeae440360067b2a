import type * as EC2 from "@aws-sdk/client-ec2";
import { StrataError } from "../../../errors.ts";
import { checkDeprecationTime } from "../../../services/images/image-rules.ts";
import type { ImageRecord } from "../../../storage/metadata/catalog-store.ts";
import { dryRunCheck, type Out, type RequestContext, required } from "../context.ts";
import { permissionChanges, toPermissions } from "../permissions.ts";
import { toImage } from "../shapes.ts";

function owned(ctx: RequestContext, id: string | undefined): Promise<ImageRecord> {
  return ctx.region.images.owned(ctx.accountId, required(id, "ImageId"));
}

export async function ModifyImageAttribute(
  ctx: RequestContext,
  input: EC2.ModifyImageAttributeCommandInput,
): Promise<Out<EC2.ModifyImageAttributeCommandOutput>> {
  const image = await owned(ctx, input.ImageId);
  const attribute = input.Attribute ?? (input.Description ? "description" : "launchPermission");
  if (attribute === "description") {
    const value = input.Description?.Value ?? input.Value ?? "";
    if (value.length > 255)
      throw new StrataError("InvalidParameterValue", "Description exceeds 255 characters");
    dryRunCheck(input);
    await ctx.region.images.setDescription(ctx.accountId, image.id, value);
    return {};
  }
  if (attribute !== "launchPermission") {
    throw new StrataError(
      "InvalidParameterValue",
      `Attribute '${attribute}' cannot be modified: use description or launchPermission`,
    );
  }
  const { add, remove } = permissionChanges(input.LaunchPermission, input, "InvalidAMIAttributeItemValue");
  if (add.length === 0 && remove.length === 0) {
    throw new StrataError("MissingParameter", "The request must contain the parameter LaunchPermission");
  }
  dryRunCheck(input);
  await ctx.region.images.share(ctx.accountId, image.id, add, remove);
  return {};
}

export async function DescribeImageAttribute(
  ctx: RequestContext,
  input: EC2.DescribeImageAttributeCommandInput,
): Promise<Out<EC2.DescribeImageAttributeCommandOutput>> {
  const image = await owned(ctx, input.ImageId);
  const attribute = required(input.Attribute, "Attribute");
  dryRunCheck(input);
  const out: Out<EC2.DescribeImageAttributeCommandOutput> = { ImageId: image.id };
  const value = (v: string | null | undefined) => (v ? { Value: v } : {});
  switch (attribute) {
    case "description":
      return { ...out, Description: value(image.description) };
    case "launchPermission":
      return {
        ...out,
        LaunchPermissions: toPermissions(await ctx.region.images.grantees(ctx.accountId, image.id)),
      };
    case "blockDeviceMapping":
      return { ...out, BlockDeviceMappings: toImage(image, { isPublic: false }).BlockDeviceMappings };
    case "bootMode":
      return { ...out, BootMode: value(image.bootMode) };
    case "sriovNetSupport":
      return { ...out, SriovNetSupport: value(image.sriovNetSupport) };
    case "imdsSupport":
      return { ...out, ImdsSupport: value(image.imdsSupport) };
    case "tpmSupport":
      return { ...out, TpmSupport: value(image.tpmSupport) };
    case "deregistrationProtection":
      return { ...out, DeregistrationProtection: value(image.deregistrationProtection) };
    case "lastLaunchedTime":
      return { ...out, LastLaunchedTime: value(image.lastLaunchedTime) };
    case "kernel":
    case "ramdisk":
    case "productCodes":
    case "uefiData":
      return { ...out, ...(attribute === "productCodes" ? { ProductCodes: [] } : {}) };
    default:
      throw new StrataError(
        "InvalidParameterValue",
        `Value (${attribute}) for parameter attribute is invalid`,
      );
  }
}

export async function ResetImageAttribute(
  ctx: RequestContext,
  input: EC2.ResetImageAttributeCommandInput,
): Promise<Out<EC2.ResetImageAttributeCommandOutput>> {
  const image = await owned(ctx, input.ImageId);
  if (required(input.Attribute, "Attribute") !== "launchPermission") {
    throw new StrataError("InvalidParameterValue", `Only the launchPermission attribute can be reset`);
  }
  dryRunCheck(input);
  await ctx.region.images.resetSharing(ctx.accountId, image.id);
  return {};
}

export async function EnableImageDeprecation(
  ctx: RequestContext,
  input: EC2.EnableImageDeprecationCommandInput,
): Promise<Out<EC2.EnableImageDeprecationCommandOutput>> {
  const image = await owned(ctx, input.ImageId);
  const at = required(input.DeprecateAt, "DeprecateAt");
  checkDeprecationTime(at);
  dryRunCheck(input);
  await ctx.region.images.setDeprecation(ctx.accountId, image.id, at);
  return { Return: true };
}

export async function DisableImageDeprecation(
  ctx: RequestContext,
  input: EC2.DisableImageDeprecationCommandInput,
): Promise<Out<EC2.DisableImageDeprecationCommandOutput>> {
  const image = await owned(ctx, input.ImageId);
  dryRunCheck(input);
  await ctx.region.images.setDeprecation(ctx.accountId, image.id, null);
  return { Return: true };
}

export async function EnableImageDeregistrationProtection(
  ctx: RequestContext,
  input: EC2.EnableImageDeregistrationProtectionCommandInput,
): Promise<Out<EC2.EnableImageDeregistrationProtectionCommandOutput>> {
  const image = await owned(ctx, input.ImageId);
  dryRunCheck(input);
  return {
    Return: await ctx.region.images.setDeregistrationProtection(
      ctx.accountId,
      image.id,
      true,
      input.WithCooldown ?? false,
    ),
  };
}

export async function DisableImageDeregistrationProtection(
  ctx: RequestContext,
  input: EC2.DisableImageDeregistrationProtectionCommandInput,
): Promise<Out<EC2.DisableImageDeregistrationProtectionCommandOutput>> {
  const image = await owned(ctx, input.ImageId);
  dryRunCheck(input);
  return { Return: await ctx.region.images.setDeregistrationProtection(ctx.accountId, image.id, false) };
}
