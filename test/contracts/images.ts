// An image record with every field set, as the contracts insert and expect back.
import type { ImageRecord } from "../../src/storage/metadata/catalog-store.ts";
import { uid } from "./harness.ts";

export function image(ownerId: string, name: string, over: Partial<ImageRecord> = {}): ImageRecord {
  return {
    id: uid("ami"),
    ownerId,
    name,
    state: "available",
    creationDate: "2026-11-22T07:00:00.000Z",
    description: 'Ünïcode ☃ 🦀 "quoted" \\ back\ttab\nline\u0007bell',
    architecture: "x86_64",
    virtualizationType: "hvm",
    rootDeviceName: "/dev/xvda",
    rootDeviceType: "ebs",
    bootMode: "uefi-preferred",
    imageType: "machine",
    enaSupport: true,
    sriovNetSupport: null,
    imdsSupport: "v2.0",
    tpmSupport: null,
    platformDetails: "Linux/UNIX",
    usageOperation: "RunInstances",
    blockDeviceMappings: [
      {
        deviceName: "/dev/xvda",
        ebs: {
          snapshotId: uid("snap"),
          volumeSize: 8,
          volumeType: "gp3",
          deleteOnTermination: true,
          encrypted: false,
        },
      },
      { deviceName: "/dev/sdb", virtualName: "ephemeral0" },
      { deviceName: "/dev/sdc", noDevice: true },
    ],
    deprecationTime: null,
    deregistrationProtection: "disabled",
    sourceImageId: null,
    sourceRegion: null,
    stateReason: null,
    lastLaunchedTime: null,
    ...over,
  };
}
