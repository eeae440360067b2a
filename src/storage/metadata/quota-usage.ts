// What an account holds in one region, read from the region's metadata each time a quota is
// checked (no counter that could drift from the resources themselves).

export interface VolumeUsage {
  sizeGiB: number;
  /** Provisioned IOPS (io1/io2 volumes; 0 for the others). */
  iops: number;
}

export interface QuotaUsageStore {
  /** The account's volumes by volume type. */
  volumeUsage(ownerId: string): Promise<Map<string, VolumeUsage>>;
  /** Snapshots in any state (pending and error ones count, as on EBS). */
  snapshotCount(ownerId: string): Promise<number>;
  /** Images in any state. */
  imageCount(ownerId: string): Promise<number>;
  /** Images with a launch permission for everyone. */
  publicImageCount(ownerId: string): Promise<number>;
  keyPairCount(ownerId: string): Promise<number>;
  /** Instance types of the account's instances that hold vCPUs (not stopped or terminated). */
  activeInstanceTypes(ownerId: string): Promise<string[]>;
}
