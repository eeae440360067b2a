// The EC2 resource catalogue beside the block maps: images, sharing permissions, tags and
// ClientToken idempotency records, in the same per-region database as volumes and snapshots
// (so "is this snapshot used by an image" and "delete it" can be one transaction).

import { StrataError } from "../../errors.ts";
import type { ListScope } from "./metadata-store.ts";

export type ImageState = "pending" | "available" | "failed";

export interface BlockDeviceMappingRecord {
  deviceName: string;
  /** Instance-store mapping (ephemeral0...), no EBS. */
  virtualName?: string;
  noDevice?: boolean;
  ebs?: {
    snapshotId?: string;
    volumeSize?: number;
    volumeType?: string;
    deleteOnTermination: boolean;
    encrypted: boolean;
    iops?: number;
    throughput?: number;
  };
}

export interface ImageRecord {
  id: string;
  ownerId: string;
  name: string;
  state: ImageState;
  creationDate: string;
  description: string;
  architecture: string;
  virtualizationType: string;
  rootDeviceName: string;
  rootDeviceType: "ebs";
  bootMode: string | null;
  imageType: "machine";
  enaSupport: boolean;
  sriovNetSupport: string | null;
  imdsSupport: string | null;
  tpmSupport: string | null;
  platformDetails: string;
  usageOperation: string;
  blockDeviceMappings: BlockDeviceMappingRecord[];
  deprecationTime: string | null;
  /** "disabled", "enabled", "enabled-with-cooldown" or "disabled-until <ISO time>" (after a cooldown). */
  deregistrationProtection: string;
  sourceImageId: string | null;
  sourceRegion: string | null;
  stateReason: { code: string; message: string } | null;
  lastLaunchedTime: string | null;
}

/** The image attributes that change after registration (kept in the JSON attributes column). */
export type ImageAttributeChange = Partial<
  Pick<ImageRecord, "description" | "deprecationTime" | "deregistrationProtection" | "lastLaunchedTime">
>;

export interface Tag {
  key: string;
  value: string;
}

export interface CatalogStore {
  /**
   * Inserts the image with its tags; fails with InvalidAMIName.Duplicate if the owner already has
   * the name. With `snapshotsExist` (RegisterImage), every snapshot the mappings name must exist
   * and be the owner's (InvalidSnapshot.NotFound otherwise), checked in the insert's transaction so
   * a DeleteSnapshot cannot slip in between; without, they may not exist yet (CreateImage).
   */
  insertImage(image: ImageRecord, tags?: Tag[], options?: { snapshotsExist?: boolean }): Promise<void>;
  getImage(id: string): Promise<ImageRecord | undefined>;
  listImages(): Promise<ImageRecord[]>;
  /** Images the account owns or may launch (launch permission to it or to 'all'), by id. */
  imagesVisibleTo(accountId: string, scope?: ListScope): Promise<ImageRecord[]>;
  /**
   * Changes only the named attributes, and only if every field in `condition` still has the given
   * value (so a change never undoes a concurrent one); false when the image or the condition failed.
   */
  updateImageAttributes(
    id: string,
    change: ImageAttributeChange,
    condition?: ImageAttributeChange,
  ): Promise<boolean>;
  /** Moves the image from one state to another; false if it was no longer in `from`. */
  setImageState(
    id: string,
    from: ImageState,
    to: ImageState,
    stateReason?: ImageRecord["stateReason"],
  ): Promise<boolean>;
  /**
   * Removes the image, its permissions and tags; returns the snapshots it used. `guard` sees the
   * current record inside the transaction and may refuse by throwing.
   */
  deleteImage(id: string, guard?: (image: ImageRecord) => void): Promise<string[]>;
  /** Images whose block device mappings use the snapshot (only one owner's, when given). */
  imagesUsingSnapshot(snapshotId: string, ownerId?: string): Promise<string[]>;

  /** Grantees (account ids or 'all') of a launch or create-volume permission. */
  permissions(resourceId: string): Promise<string[]>;
  /** Every resource id the grantee (or 'all') may use. */
  resourcesSharedWith(grantees: string[]): Promise<Set<string>>;
  changePermissions(resourceId: string, add: string[], remove: string[]): Promise<void>;
  resetPermissions(resourceId: string): Promise<void>;

  tags(resourceId: string): Promise<Tag[]>;
  /** Tags of many resources at once (Describe* calls). */
  tagsOf(resourceIds: string[]): Promise<Map<string, Tag[]>>;
  setTags(resourceIds: string[], tags: Tag[]): Promise<void>;
  /** Deletes tags: a tag with value undefined deletes the key whatever its value. */
  deleteTags(resourceIds: string[], tags: { key: string; value?: string }[]): Promise<void>;
  allTags(): Promise<{ resourceId: string; key: string; value: string }[]>;

  clientToken(
    ownerId: string,
    token: string,
  ): Promise<{ action: string; requestHash: string; resourceId: string } | undefined>;
  saveClientToken(
    ownerId: string,
    token: string,
    action: string,
    requestHash: string,
    resourceId: string,
  ): Promise<void>;
}

/** The snapshots an image's mappings name, in order, once each. */
export function mappedSnapshots(image: ImageRecord): string[] {
  return [
    ...new Set(image.blockDeviceMappings.flatMap((m) => (m.ebs?.snapshotId ? [m.ebs.snapshotId] : []))),
  ];
}

export function snapshotNotFound(id: string): StrataError {
  return new StrataError("InvalidSnapshot.NotFound", `The snapshot '${id}' does not exist.`);
}
