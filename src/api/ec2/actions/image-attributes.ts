import type * as EC2 from "@aws-sdk/client-ec2";
import { StrataError } from "../../../errors.ts";
import type { ImageRecord } from "../../../storage/metadata/catalog-store.ts";
import { dryRunCheck, type Out, type RequestContext, required } from "../context.ts";
import { permissionChanges, toPermissions } from "../permissions.ts";
import { toImage } from "../shapes.ts";
import { checkImageId } from "./images.ts";

function owned(ctx: RequestContext, id: string | undefined): Promise<ImageRecord> {
  return ctx.region.images.getOwned(checkImageId(required(id, "ImageId")), ctx.accountId);
}

const DAY_MS = 24 * 3600 * 1000;

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
    await ctx.region.images.update({ ...image, description: value });
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
  await ctx.region.images.changeLaunchPermissions(image, add, remove);
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
      return { ...out, LaunchPermissions: toPermissions(await ctx.region.catalog.permissions(image.id)) };
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
  await ctx.region.catalog.resetPermissions(image.id);
  return {};
}

export async function EnableImageDeprecation(
  ctx: RequestContext,
  input: EC2.EnableImageDeprecationCommandInput,
): Promise<Out<EC2.EnableImageDeprecationCommandOutput>> {
  const image = await owned(ctx, input.ImageId);
  const at = required(input.DeprecateAt, "DeprecateAt");
  const now = Date.now();
  // EC2 refuses past dates and more than 10 years ahead. (EC2 rounds to the minute; Strata keeps seconds.)
  if (at.getTime() < now - 1000 || at.getTime() > now + 10 * 365 * DAY_MS) {
    throw new StrataError(
      "InvalidParameterValue",
      `DeprecateAt must be in the future and within 10 years: ${at.toISOString()}`,
    );
  }
  dryRunCheck(input);
  await ctx.region.images.update({ ...image, deprecationTime: at.toISOString() });
  return { Return: true };
}

export async function DisableImageDeprecation(
  ctx: RequestContext,
  input: EC2.DisableImageDeprecationCommandInput,
): Promise<Out<EC2.DisableImageDeprecationCommandOutput>> {
  const image = await owned(ctx, input.ImageId);
  dryRunCheck(input);
  await ctx.region.images.update({ ...image, deprecationTime: null });
  return { Return: true };
}

export async function EnableImageDeregistrationProtection(
  ctx: RequestContext,
  input: EC2.EnableImageDeregistrationProtectionCommandInput,
): Promise<Out<EC2.EnableImageDeregistrationProtectionCommandOutput>> {
  const image = await owned(ctx, input.ImageId);
  dryRunCheck(input);
  const state = input.WithCooldown ? "enabled-with-cooldown" : "enabled";
  await ctx.region.images.update({ ...image, deregistrationProtection: state });
  return { Return: state };
}

export async function DisableImageDeregistrationProtection(
  ctx: RequestContext,
  input: EC2.DisableImageDeregistrationProtectionCommandInput,
): Promise<Out<EC2.DisableImageDeregistrationProtectionCommandOutput>> {
  const image = await owned(ctx, input.ImageId);
  dryRunCheck(input);
  // With a cooldown, protection lasts 24 hours after it is disabled.
  const state =
    image.deregistrationProtection === "enabled-with-cooldown"
      ? `disabled-until ${new Date(Date.now() + DAY_MS).toISOString()}`
      : "disabled";
  await ctx.region.images.update({ ...image, deregistrationProtection: state });
  return { Return: state };
}
