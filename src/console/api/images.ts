// The AMIs area's calls: typed functions over the SDK v3 image commands, and the query keys the
// pages cache them under (["images", region, ...]; invalidate ["images", region] after a change).
import {
  CopyImageCommand,
  DeregisterImageCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  type DescribeImagesCommandInput,
  DisableImageDeprecationCommand,
  DisableImageDeregistrationProtectionCommand,
  type EC2Client,
  EnableImageDeprecationCommand,
  EnableImageDeregistrationProtectionCommand,
  type Image,
  type LaunchPermission,
  ModifyImageAttributeCommand,
  paginateDescribeImages,
  type SnapshotReturnCodes,
} from "@aws-sdk/client-ec2";

/** The AWS console's "Images to show" choices. */
export type ImageView = "owned" | "private" | "public" | "shared";

export const imageKeys = {
  all: (region: string) => ["images", region] as const,
  list: (region: string, view: ImageView) => ["images", region, "list", view] as const,
  detail: (region: string, id: string) => ["images", region, "detail", id] as const,
  launchPermission: (region: string, id: string) => ["images", region, "launchPermission", id] as const,
};

// How each view asks DescribeImages (as the AWS console does): owned = Owners self; private =
// owned and not public; public = is-public true (anyone's, mine included); shared = the images
// with an explicit launch permission for me (ExecutableUsers self), others' only.
function viewInput(view: ImageView): DescribeImagesCommandInput {
  switch (view) {
    case "owned":
      return { Owners: ["self"] };
    case "private":
      return { Owners: ["self"], Filters: [{ Name: "is-public", Values: ["false"] }] };
    case "public":
      return { Filters: [{ Name: "is-public", Values: ["true"] }] };
    case "shared":
      return { ExecutableUsers: ["self"] };
  }
}

/** Every image of a view, all pages (EC2 returns up to 1,000 a page). */
export async function listImages(ec2: EC2Client, view: ImageView, accountId: string): Promise<Image[]> {
  const out: Image[] = [];
  for await (const page of paginateDescribeImages(
    { client: ec2, pageSize: 1000 },
    { ...viewInput(view), MaxResults: 1000 },
  )) {
    out.push(...(page.Images ?? []));
  }
  return view === "shared" ? out.filter((i) => i.OwnerId !== accountId) : out;
}

export async function describeImage(ec2: EC2Client, id: string): Promise<Image> {
  const r = await ec2.send(new DescribeImagesCommand({ ImageIds: [id] }));
  const image = r.Images?.[0];
  if (!image)
    throw Object.assign(new Error(`The image id '[${id}]' does not exist`), {
      name: "InvalidAMIID.NotFound",
    });
  return image;
}

export function isPending(i: Image): boolean {
  return i.State === "pending" || i.State === "transient";
}

export interface LaunchPermissions {
  isPublic: boolean;
  accounts: string[];
}

export async function getLaunchPermissions(ec2: EC2Client, id: string): Promise<LaunchPermissions> {
  const r = await ec2.send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: "launchPermission" }));
  const perms = r.LaunchPermissions ?? [];
  return {
    isPublic: perms.some((p) => p.Group === "all"),
    accounts: perms.flatMap((p) => (p.UserId ? [p.UserId] : [])).sort(),
  };
}

/** Saves the difference between two permission sets with one ModifyImageAttribute (Add and Remove). */
export async function saveLaunchPermissions(
  ec2: EC2Client,
  id: string,
  before: LaunchPermissions,
  after: LaunchPermissions,
): Promise<boolean> {
  const add: LaunchPermission[] = after.accounts
    .filter((a) => !before.accounts.includes(a))
    .map((UserId) => ({ UserId }));
  const remove: LaunchPermission[] = before.accounts
    .filter((a) => !after.accounts.includes(a))
    .map((UserId) => ({ UserId }));
  if (after.isPublic && !before.isPublic) add.push({ Group: "all" });
  if (!after.isPublic && before.isPublic) remove.push({ Group: "all" });
  if (!add.length && !remove.length) return false;
  await ec2.send(
    new ModifyImageAttributeCommand({
      ImageId: id,
      LaunchPermission: { Add: add.length ? add : undefined, Remove: remove.length ? remove : undefined },
    }),
  );
  return true;
}

/** CopyImage runs in the destination region (EC2 copies "into" the region the client signs for). */
export async function copyImage(
  destination: EC2Client,
  input: {
    sourceRegion: string;
    sourceImageId: string;
    name: string;
    description?: string;
    copyTags: boolean;
  },
): Promise<string> {
  const r = await destination.send(
    new CopyImageCommand({
      SourceRegion: input.sourceRegion,
      SourceImageId: input.sourceImageId,
      Name: input.name,
      Description: input.description || undefined,
      CopyImageTags: input.copyTags,
    }),
  );
  return r.ImageId ?? "";
}

export interface SnapshotResult {
  snapshotId: string;
  returnCode: SnapshotReturnCodes | string;
}

/** DeregisterImage, with EC2's DeleteAssociatedSnapshots; the per-snapshot results when asked. */
export async function deregisterImage(
  ec2: EC2Client,
  id: string,
  deleteSnapshots: boolean,
): Promise<SnapshotResult[]> {
  const r = await ec2.send(
    new DeregisterImageCommand({ ImageId: id, DeleteAssociatedSnapshots: deleteSnapshots || undefined }),
  );
  return (r.DeleteSnapshotResults ?? []).map((s) => ({
    snapshotId: s.SnapshotId ?? "",
    returnCode: s.ReturnCode ?? "",
  }));
}

export async function enableDeprecation(ec2: EC2Client, id: string, at: Date): Promise<void> {
  await ec2.send(new EnableImageDeprecationCommand({ ImageId: id, DeprecateAt: at }));
}

export async function disableDeprecation(ec2: EC2Client, id: string): Promise<void> {
  await ec2.send(new DisableImageDeprecationCommand({ ImageId: id }));
}

/** Returns EC2's new state ("enabled", "enabled-with-cooldown"). */
export async function enableProtection(ec2: EC2Client, id: string, withCooldown: boolean): Promise<string> {
  const r = await ec2.send(
    new EnableImageDeregistrationProtectionCommand({ ImageId: id, WithCooldown: withCooldown || undefined }),
  );
  return r.Return ?? "";
}

/** Returns EC2's new state ("disabled", or "disabled-until <time>" after a cooldown). */
export async function disableProtection(ec2: EC2Client, id: string): Promise<string> {
  const r = await ec2.send(new DisableImageDeregistrationProtectionCommand({ ImageId: id }));
  return r.Return ?? "";
}

/** Protected now: "enabled", "enabled-with-cooldown", or "disabled-until" a time still ahead. */
export function isProtected(i: Image): boolean {
  const p = i.DeregistrationProtection ?? "disabled";
  if (p.startsWith("enabled")) return true;
  const until = /^disabled-until (.+)$/.exec(p);
  return until ? Date.parse(until[1]) > Date.now() : false;
}
