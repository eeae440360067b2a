// DescribeVolumeStatus (EC2) and DescribeStorageUsage (a Strata extension, README "EC2 API").
import type * as EC2 from "@aws-sdk/client-ec2";
import type { SnapshotStats, VolumeRecord } from "../../../storage/metadata/metadata-store.ts";
import { dryRunCheck, type Out, type RequestContext } from "../context.ts";
import { applyFilters, type FilterFields } from "../filters.ts";
import { noMaxResultsWithIds, paginate } from "../pagination.ts";

type VolumeStatus = { volume: VolumeRecord; init: { progress: number; secondsLeft?: number } | null };

// Strata's volumes have no host events: their status is always ok (io-enabled passed).
const statusFilters: FilterFields<VolumeStatus> = {
  "volume-status.status": () => "ok",
  "volume-status.details-name": (s) => ["io-enabled", ...(s.init ? ["initialization-state"] : [])],
  "availability-zone": (s) => s.volume.availabilityZone,
};

export async function DescribeVolumeStatus(
  ctx: RequestContext,
  input: EC2.DescribeVolumeStatusCommandInput,
): Promise<Out<EC2.DescribeVolumeStatusCommandOutput>> {
  noMaxResultsWithIds(input.VolumeIds, input.MaxResults, "volumeIds");
  // Another account's volume id is answered as unknown (InvalidVolume.NotFound), as DescribeVolumes.
  const volumes = await ctx.region.volumes.described(ctx.accountId, input.VolumeIds);
  const statuses = await Promise.all(
    volumes.map(async (volume) => ({ volume, init: await ctx.region.volumes.initialization(volume) })),
  );
  const matched = applyFilters(statuses, input.Filters, statusFilters, () => []);
  dryRunCheck(input);
  const { page, nextToken } = paginate(matched, (s) => s.volume.id, input);
  return {
    VolumeStatuses: page.map(({ volume, init }) => ({
      VolumeId: volume.id,
      AvailabilityZone: volume.availabilityZone,
      VolumeStatus: {
        Status: "ok",
        Details: [
          { Name: "io-enabled", Status: "passed" },
          // As EC2 since 2025: initializing while a restored volume's blocks are still being copied.
          ...(init
            ? [
                {
                  Name: "initialization-state" as const,
                  Status: init.progress < 100 ? "initializing" : "completed",
                },
              ]
            : []),
        ],
      },
      Actions: [],
      Events: [],
      ...(init && {
        InitializationStatusDetails: {
          InitializationType: "default",
          Progress: init.progress,
          EstimatedTimeToCompleteInSeconds: init.secondsLeft,
        },
      }),
    })),
    NextToken: nextToken,
  };
}

// The extension's shapes (model-patches.json; the console's DescribeStorageUsageCommand mirrors them).
export interface DescribeStorageUsageInput {
  SnapshotIds?: string[];
  ImageIds?: string[];
  DryRun?: boolean;
}
export interface StorageUsage {
  ResourceId: string;
  ResourceType: "snapshot" | "image";
  LogicalBytes: number;
  DataBytes: number;
  StoredBytes: number;
  UniqueBytes: number;
  SharedBytes: number;
}

function usage(id: string, type: StorageUsage["ResourceType"], s: SnapshotStats): StorageUsage {
  return {
    ResourceId: id,
    ResourceType: type,
    LogicalBytes: s.logicalBytes,
    DataBytes: s.dataBytes,
    StoredBytes: s.storedBytes,
    UniqueBytes: s.uniqueBytes,
    SharedBytes: s.sharedBytes,
  };
}

/**
 * Strata extension: the stored, unique and shared bytes of the caller's own snapshots and images.
 * Unique and shared are relative to the caller's other snapshots only (see ownerSnapshotStats).
 */
export async function DescribeStorageUsage(
  ctx: RequestContext,
  input: DescribeStorageUsageInput,
): Promise<Out<{ StorageUsages?: StorageUsage[] }>> {
  const snapshots = [...new Set(input.SnapshotIds ?? [])];
  const images = [...new Set(input.ImageIds ?? [])];
  const out = [
    ...(await Promise.all(
      snapshots.map(async (id) => usage(id, "snapshot", await ctx.region.snapshots.usage(ctx.accountId, id))),
    )),
    ...(await Promise.all(
      images.map(async (id) => usage(id, "image", await ctx.region.images.usage(ctx.accountId, id))),
    )),
  ];
  dryRunCheck(input);
  return { StorageUsages: out };
}
