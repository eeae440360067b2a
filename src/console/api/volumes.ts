// The volumes area's calls: volumes, their initialization (DescribeVolumeStatus), zones, changes.
// Query keys: ["volumes", region, ...].
import {
  CreateVolumeCommand,
  DeleteVolumeCommand,
  DescribeAvailabilityZonesCommand,
  type EC2Client,
  paginateDescribeVolumeStatus,
  paginateDescribeVolumes,
  type Volume,
  type VolumeType,
} from "@aws-sdk/client-ec2";

export const volumeKeys = {
  all: (region: string) => ["volumes", region] as const,
  list: (region: string) => ["volumes", region, "list"] as const,
  status: (region: string) => ["volumes", region, "status"] as const,
  zones: (region: string) => ["volumes", region, "zones"] as const,
};

export const VOLUME_TYPES: VolumeType[] = ["gp3", "gp2", "io1", "io2", "st1", "sc1", "standard"];

export async function listVolumes(ec2: EC2Client): Promise<Volume[]> {
  const out: Volume[] = [];
  for await (const page of paginateDescribeVolumes({ client: ec2, pageSize: 500 }, {})) {
    out.push(...(page.Volumes ?? []));
  }
  return out;
}

/** Initialization progress (0-100) of the volumes restored from a snapshot, by volume id. */
export async function initialization(ec2: EC2Client): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const page of paginateDescribeVolumeStatus({ client: ec2, pageSize: 500 }, {})) {
    for (const s of page.VolumeStatuses ?? []) {
      const p = s.InitializationStatusDetails?.Progress;
      if (s.VolumeId && p !== undefined) out.set(s.VolumeId, p);
    }
  }
  return out;
}

export async function availabilityZones(ec2: EC2Client): Promise<string[]> {
  const out = await ec2.send(new DescribeAvailabilityZonesCommand({}));
  return (out.AvailabilityZones ?? []).flatMap((z) => (z.ZoneName ? [z.ZoneName] : [])).sort();
}

export interface NewVolume {
  availabilityZone: string;
  sizeGiB?: number;
  snapshotId?: string;
  volumeType: VolumeType;
}

export async function createVolume(ec2: EC2Client, v: NewVolume): Promise<string> {
  const out = await ec2.send(
    new CreateVolumeCommand({
      AvailabilityZone: v.availabilityZone,
      Size: v.sizeGiB,
      SnapshotId: v.snapshotId || undefined,
      VolumeType: v.volumeType,
    }),
  );
  return out.VolumeId ?? "";
}

export async function deleteVolume(ec2: EC2Client, id: string): Promise<void> {
  await ec2.send(new DeleteVolumeCommand({ VolumeId: id }));
}

export const isTransitioning = (v: Volume) => v.State === "creating" || v.State === "deleting";
