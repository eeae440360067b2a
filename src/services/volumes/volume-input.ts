// What CreateVolume takes, and the checks of its type and zone.
import { StrataError } from "../../errors.ts";
import type { Tag } from "../../storage/metadata/catalog-store.ts";

/** EBS volume types (Strata stores them all alike; the type is recorded and reported). */
export const VOLUME_TYPES = ["standard", "io1", "io2", "gp2", "gp3", "sc1", "st1"];

export interface CreateVolumeInput {
  /**
   * The owning account: it must be allowed to restore `snapshotId` (its own, shared with it, or
   * public). Omitted only for engine-internal volumes, which no account can see.
   */
  ownerId?: string;
  sizeGiB?: number;
  snapshotId?: string;
  availabilityZone?: string;
  volumeType?: string;
  /** Provisioned IOPS (io1/io2; 3,000 if not given). */
  iops?: number | null;
  /** Written in the same transaction as the volume. */
  tags?: Tag[];
  /**
   * RunInstances: the snapshot backs the image being launched, whose launch permission is what
   * lets the account restore it (EC2 needs no createVolumePermission for an image's snapshots).
   */
  grantedByImage?: boolean;
}

/** EC2's zones here are the region's name and a letter (a-c). */
export function checkAvailabilityZone(region: string, az: string): void {
  if (!az.startsWith(region) || !/^[a-c]$/.test(az.slice(region.length))) {
    throw new StrataError(
      "InvalidParameterValue",
      `Invalid availability zone: [${az}] (this region's zones are ${region}a-c)`,
    );
  }
}
