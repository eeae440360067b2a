// RunInstances' block device mappings: the image's mappings with the request's overrides
// (VolumeSize, VolumeType, DeleteOnTermination, NoDevice) and extra volumes, checked before
// anything is created.
import { StrataError } from "../../errors.ts";
import type { BlockDeviceMappingRecord, ImageRecord } from "../../storage/metadata/catalog-store.ts";
import { checkDeviceName } from "../images/device-names.ts";

export interface PlannedVolume {
  deviceName: string;
  snapshotId: string | null;
  sizeGiB: number | undefined;
  volumeType: string;
  deleteOnTermination: boolean;
  /** Provisioned IOPS (io1/io2). */
  iops?: number;
}

export function planVolumes(image: ImageRecord, overrides: BlockDeviceMappingRecord[]): PlannedVolume[] {
  const planned = new Map<string, PlannedVolume>();
  for (const m of image.blockDeviceMappings) {
    if (!m.ebs || m.noDevice) continue;
    planned.set(m.deviceName, {
      deviceName: m.deviceName,
      snapshotId: m.ebs.snapshotId ?? null,
      sizeGiB: m.ebs.volumeSize,
      volumeType: m.ebs.volumeType ?? "gp3",
      deleteOnTermination: m.ebs.deleteOnTermination,
      iops: m.ebs.iops,
    });
  }
  const seen = new Set<string>();
  for (const o of overrides) {
    if (seen.has(o.deviceName)) {
      throw new StrataError(
        "InvalidBlockDeviceMapping",
        `The device name ${o.deviceName} is used more than once`,
      );
    }
    seen.add(o.deviceName);
    checkDeviceName(o.deviceName);
    if (o.noDevice) {
      if (o.deviceName === image.rootDeviceName) {
        throw new StrataError(
          "InvalidBlockDeviceMapping",
          "The root device cannot be suppressed with NoDevice",
        );
      }
      planned.delete(o.deviceName);
      continue;
    }
    if (o.virtualName) continue; // instance store: none here, as on instance types without it
    const base = planned.get(o.deviceName);
    const ebs = o.ebs;
    if (!ebs) continue;
    if (base) {
      planned.set(o.deviceName, {
        ...base,
        sizeGiB: ebs.volumeSize ?? base.sizeGiB,
        volumeType: ebs.volumeType ?? base.volumeType,
        deleteOnTermination: ebs.deleteOnTermination,
        snapshotId: ebs.snapshotId ?? base.snapshotId,
        iops: ebs.iops ?? (ebs.volumeType && ebs.volumeType !== base.volumeType ? undefined : base.iops),
      });
    } else {
      if (ebs.snapshotId === undefined && ebs.volumeSize === undefined) {
        throw new StrataError(
          "InvalidBlockDeviceMapping",
          `The block device mapping for ${o.deviceName} needs a snapshot id or a volume size`,
        );
      }
      planned.set(o.deviceName, {
        deviceName: o.deviceName,
        snapshotId: ebs.snapshotId ?? null,
        sizeGiB: ebs.volumeSize,
        volumeType: ebs.volumeType ?? "gp3",
        deleteOnTermination: ebs.deleteOnTermination,
        iops: ebs.iops,
      });
    }
  }
  if (!planned.has(image.rootDeviceName)) {
    throw new StrataError(
      "InvalidBlockDeviceMapping",
      `The image has no volume for its root device ${image.rootDeviceName}`,
    );
  }
  // Root first: it becomes the guest's first virtio disk (vda).
  return [...planned.values()].sort((a, b) =>
    a.deviceName === image.rootDeviceName
      ? -1
      : b.deviceName === image.rootDeviceName
        ? 1
        : a.deviceName < b.deviceName
          ? -1
          : 1,
  );
}
