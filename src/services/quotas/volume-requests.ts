// Volume storage and IOPS as the quotas count them: GiB and provisioned IOPS per volume type.
import { StrataError } from "../../errors.ts";

export interface VolumeRequest {
  volumeType: string;
  sizeGiB: number;
  /** Provisioned IOPS (io1/io2). */
  iops?: number | null;
}

/** The requests summed per volume type (negative entries subtract). */
export function addVolumes(requests: VolumeRequest[]): Map<string, { sizeGiB: number; iops: number }> {
  const out = new Map<string, { sizeGiB: number; iops: number }>();
  for (const r of requests) {
    const sum = out.get(r.volumeType) ?? { sizeGiB: 0, iops: 0 };
    sum.sizeGiB += r.sizeGiB;
    sum.iops += r.iops ?? 0;
    out.set(r.volumeType, sum);
  }
  return out;
}

/**
 * ModifyVolume as quota requests: the volume after the change is added and the volume before
 * given back, so growing within a type counts the growth and a type change counts the whole
 * volume against the new type.
 */
export function volumeChange(before: VolumeRequest, after: VolumeRequest): VolumeRequest[] {
  return [after, { volumeType: before.volumeType, sizeGiB: -before.sizeGiB, iops: -(before.iops ?? 0) }];
}

// EBS: io1 takes 100-64,000 IOPS, io2 100-256,000 (CreateVolume's Iops).
const IOPS_RANGE: Record<string, [number, number]> = { io1: [100, 64_000], io2: [100, 256_000] };
/** ModifyVolume's documented default when a volume becomes io1/io2 without Iops. */
const DEFAULT_PROVISIONED_IOPS = 3000;

/**
 * The provisioned IOPS recorded for a volume of the type: the requested value for io1/io2
 * (3,000 if none was given), null for the other types (their IOPS follow from type and size).
 */
export function provisionedIops(volumeType: string, iops: number | null | undefined): number | null {
  const range = IOPS_RANGE[volumeType];
  if (!range) return null;
  const value = iops ?? DEFAULT_PROVISIONED_IOPS;
  if (!Number.isInteger(value) || value < range[0] || value > range[1]) {
    throw new StrataError(
      "InvalidParameterValue",
      `Invalid IOPS ${value} for ${volumeType}: it must be from ${range[0]} to ${range[1]}.`,
    );
  }
  return value;
}
