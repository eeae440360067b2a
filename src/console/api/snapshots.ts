// The snapshots area's calls: lists by who owns them, one snapshot, its sharing, the changes, and
// the DescribeStorageUsage extension. Query keys: ["snapshots", region, ...].
import {
  CopySnapshotCommand,
  CreateSnapshotCommand,
  DeleteSnapshotCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  type DescribeSnapshotsCommandInput,
  type EC2Client,
  ModifySnapshotAttributeCommand,
  paginateDescribeSnapshots,
  type Snapshot,
} from "@aws-sdk/client-ec2";
import { DescribeStorageUsageCommand, type StorageUsage } from "./storage-usage.ts";

/** As the AWS console's snapshot filter: owned by me, shared with me, public. */
export type SnapshotScope = "owned" | "shared" | "public";

export const snapshotKeys = {
  all: (region: string) => ["snapshots", region] as const,
  /** Every list and one snapshot (not the usage queries: their ids may be gone after a delete). */
  lists: (region: string) => ["snapshots", region, "list"] as const,
  list: (region: string, scope: SnapshotScope) => ["snapshots", region, "list", scope] as const,
  one: (region: string, id: string) => ["snapshots", region, "one", id] as const,
  permissions: (region: string, id: string) => ["snapshots", region, "permissions", id] as const,
  usage: (region: string, kind: "snapshot" | "image", ids: string[]) =>
    ["snapshots", region, "usage", kind, ...ids] as const,
};

export async function listSnapshots(ec2: EC2Client, scope: SnapshotScope, me: string): Promise<Snapshot[]> {
  const input: DescribeSnapshotsCommandInput =
    scope === "owned"
      ? { OwnerIds: ["self"] }
      : scope === "shared"
        ? { RestorableByUserIds: ["self"] }
        : { RestorableByUserIds: ["all"] };
  const out: Snapshot[] = [];
  for await (const page of paginateDescribeSnapshots({ client: ec2, pageSize: 1000 }, input)) {
    out.push(...(page.Snapshots ?? []));
  }
  // RestorableBy self includes the caller's own: "shared with me" is the others'.
  return scope === "shared" ? out.filter((s) => s.OwnerId !== me) : out;
}

export async function getSnapshot(ec2: EC2Client, id: string): Promise<Snapshot> {
  const out = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }));
  const s = out.Snapshots?.[0];
  if (!s)
    throw Object.assign(new Error(`The snapshot '${id}' does not exist.`), {
      name: "InvalidSnapshot.NotFound",
    });
  return s;
}

export interface SnapshotPermissions {
  isPublic: boolean;
  accounts: string[];
}

export async function snapshotPermissions(ec2: EC2Client, id: string): Promise<SnapshotPermissions> {
  const out = await ec2.send(
    new DescribeSnapshotAttributeCommand({ SnapshotId: id, Attribute: "createVolumePermission" }),
  );
  const perms = out.CreateVolumePermissions ?? [];
  return {
    isPublic: perms.some((p) => p.Group === "all"),
    accounts: perms.flatMap((p) => (p.UserId ? [p.UserId] : [])),
  };
}

/** ModifySnapshotAttribute createVolumePermission: from `before` to `after`, in one add and one remove. */
export async function changePermissions(
  ec2: EC2Client,
  id: string,
  before: SnapshotPermissions,
  after: SnapshotPermissions,
): Promise<void> {
  const add = after.accounts.filter((a) => !before.accounts.includes(a));
  const remove = before.accounts.filter((a) => !after.accounts.includes(a));
  const group = (p: boolean) => (p ? [{ Group: "all" as const }] : []);
  const Add = [...add.map((UserId) => ({ UserId })), ...group(after.isPublic && !before.isPublic)];
  const Remove = [...remove.map((UserId) => ({ UserId })), ...group(before.isPublic && !after.isPublic)];
  if (!Add.length && !Remove.length) return;
  await ec2.send(
    new ModifySnapshotAttributeCommand({
      SnapshotId: id,
      Attribute: "createVolumePermission",
      CreateVolumePermission: { Add, Remove },
    }),
  );
}

export async function createSnapshot(ec2: EC2Client, volumeId: string, description: string): Promise<string> {
  const out = await ec2.send(
    new CreateSnapshotCommand({ VolumeId: volumeId, Description: description || undefined }),
  );
  return out.SnapshotId ?? "";
}

/** CopySnapshot is called in the destination region, naming the source region (as EC2 wants). */
export async function copySnapshot(
  destination: EC2Client,
  sourceRegion: string,
  id: string,
  description: string,
): Promise<string> {
  const out = await destination.send(
    new CopySnapshotCommand({
      SourceRegion: sourceRegion,
      SourceSnapshotId: id,
      Description: description || undefined,
    }),
  );
  return out.SnapshotId ?? "";
}

export async function deleteSnapshot(ec2: EC2Client, id: string): Promise<void> {
  await ec2.send(new DeleteSnapshotCommand({ SnapshotId: id }));
}

/** DescribeStorageUsage of the caller's own snapshots or images (at most 100 ids a call). */
export async function storageUsage(
  ec2: EC2Client,
  kind: "snapshot" | "image",
  ids: string[],
): Promise<Map<string, StorageUsage>> {
  const out = new Map<string, StorageUsage>();
  for (let i = 0; i < ids.length; i += 100) {
    const chunk = ids.slice(i, i + 100);
    const r = await ec2.send(
      new DescribeStorageUsageCommand(kind === "snapshot" ? { SnapshotIds: chunk } : { ImageIds: chunk }),
    );
    for (const u of r.StorageUsages ?? []) if (u.ResourceId) out.set(u.ResourceId, u);
  }
  return out;
}

export const isPending = (s: Snapshot) => s.State === "pending";
