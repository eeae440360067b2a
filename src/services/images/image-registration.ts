// What RegisterImage (and CreateImage, CopyImage) check of an image's input and its snapshots, and
// the record a registered image starts as.
import { StrataError } from "../../errors.ts";
import { newId } from "../../ids.ts";
import type { BlockDeviceMappingRecord, ImageRecord, Tag } from "../../storage/metadata/catalog-store.ts";
import type { SnapshotRecord } from "../../storage/metadata/metadata-store.ts";
import { checkDescription, type SnapshotService } from "../snapshots/snapshot-service.ts";
import { validateTags } from "../tags/tag-rules.ts";
import { isDeviceName } from "./device-names.ts";
import { ARCHITECTURES, checkName } from "./image-rules.ts";

export interface RegisterImageInput {
  name: string;
  description?: string;
  architecture?: string;
  virtualizationType?: string;
  rootDeviceName?: string;
  bootMode?: string;
  enaSupport?: boolean;
  sriovNetSupport?: string;
  imdsSupport?: string;
  tpmSupport?: string;
  blockDeviceMappings: BlockDeviceMappingRecord[];
}

/** What RegisterImage checks before looking at the snapshots. */
export function checkRegisterInput(input: RegisterImageInput, tags: Tag[]): void {
  checkName(input.name);
  if (input.description !== undefined) checkDescription(input.description);
  validateTags(tags);
  const architecture = input.architecture ?? "x86_64";
  if (!ARCHITECTURES.includes(architecture)) {
    throw new StrataError("InvalidParameterValue", `Invalid value '${architecture}' for architecture`);
  }
  if (input.blockDeviceMappings.length === 0) {
    throw new StrataError(
      "InvalidParameterValue",
      "An EBS-backed image needs at least one block device mapping (instance-store images are not supported)",
    );
  }
  const names = new Set<string>();
  for (const m of input.blockDeviceMappings) {
    if (names.has(m.deviceName)) {
      throw new StrataError(
        "InvalidBlockDeviceMapping",
        `The device name ${m.deviceName} is used more than once`,
      );
    }
    names.add(m.deviceName);
  }
  const rootDeviceName = input.rootDeviceName ?? input.blockDeviceMappings[0].deviceName;
  const root = input.blockDeviceMappings.find((m) => m.deviceName === rootDeviceName);
  if (!root?.ebs?.snapshotId) {
    throw new StrataError(
      "InvalidBlockDeviceMapping",
      `The root device name ${rootDeviceName} must be one of the block device mappings, with a snapshot`,
    );
  }
}

/** The image's record: RegisterImage's defaults, then what `origin` sets. */
export function imageRecord(
  ownerId: string,
  input: RegisterImageInput,
  origin: Partial<ImageRecord>,
): ImageRecord {
  return {
    id: newId("ami"),
    ownerId,
    name: input.name,
    state: "pending",
    creationDate: new Date().toISOString(),
    description: input.description ?? "",
    architecture: input.architecture ?? "x86_64",
    virtualizationType: input.virtualizationType ?? "hvm",
    rootDeviceName: input.rootDeviceName ?? input.blockDeviceMappings[0].deviceName,
    rootDeviceType: "ebs",
    bootMode: input.bootMode ?? null,
    imageType: "machine",
    enaSupport: input.enaSupport ?? true,
    sriovNetSupport: input.sriovNetSupport ?? null,
    imdsSupport: input.imdsSupport ?? null,
    tpmSupport: input.tpmSupport ?? null,
    platformDetails: "Linux/UNIX",
    usageOperation: "RunInstances",
    blockDeviceMappings: input.blockDeviceMappings,
    deprecationTime: null,
    deregistrationProtection: "disabled",
    sourceImageId: null,
    sourceRegion: null,
    stateReason: null,
    lastLaunchedTime: null,
    ...origin,
  };
}

/** The mappings' snapshots: the owner's own, usable, no larger than their volumes. */
export async function checkMappings(
  snapshots: SnapshotService,
  ownerId: string,
  mappings: BlockDeviceMappingRecord[],
): Promise<SnapshotRecord[]> {
  const out: SnapshotRecord[] = [];
  for (const m of mappings) {
    checkDevice(m);
    const ebs = m.ebs;
    const snapshotId = ebs?.snapshotId;
    if (!ebs || !snapshotId) continue;
    const snap = await snapshots.visible(ownerId, snapshotId);
    // As on EC2, an image is registered on the account's own snapshots: one shared with it is
    // copied first (CopySnapshot), so what the grantee builds never pins or outlives the
    // owner's snapshot and the owner's revocation ends the grantee's access.
    if (snap.ownerId !== ownerId) {
      throw new StrataError(
        "UnauthorizedOperation",
        `You are not authorized to register an image with snapshot ${snapshotId}: copy it to your account first (CopySnapshot)`,
      );
    }
    if (snap.state === "error") {
      throw new StrataError("IncorrectState", `Snapshot '${snapshotId}' is in the error state.`);
    }
    if (ebs.volumeSize !== undefined && ebs.volumeSize < snap.volumeSizeGiB) {
      throw new StrataError(
        "InvalidBlockDeviceMapping",
        `Volume of size ${ebs.volumeSize}GB is smaller than snapshot '${snapshotId}', expect size >= ${snap.volumeSizeGiB}GB`,
      );
    }
    ebs.volumeSize ??= snap.volumeSizeGiB;
    out.push(snap);
  }
  return out;
}

export function checkDevice(m: BlockDeviceMappingRecord): void {
  if (!isDeviceName(m.deviceName)) {
    throw new StrataError(
      "InvalidBlockDeviceMapping",
      `The device name ${m.deviceName} is not a valid EBS device name (such as /dev/xvda or /dev/sdf)`,
    );
  }
}
