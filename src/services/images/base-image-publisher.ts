// Publishes the base image (a raw disk built from Debian packages, see compute/base-image) in a
// region: its non-zero blocks are written to a scratch volume, snapshotted, and the snapshot is
// registered as a public image of the provider account (its snapshot public too). Idempotent: an image of that name is
// published once per region.
import { open } from "node:fs/promises";
import { BLOCK_SIZE, isZeroBlock } from "../../storage/blocks.ts";
import type { ImageRecord } from "../../storage/metadata/catalog-store.ts";
import { crashPoint } from "../../util/crash-points.ts";
import type { Region } from "../regions/region.ts";

export interface BaseDisk {
  path: string;
  sizeBytes: number;
  name: string;
  kernelVersion: string;
}

export async function publishBaseImage(
  region: Region,
  providerId: string,
  disk: BaseDisk,
): Promise<ImageRecord> {
  // A region lock (it holds across hosts sharing the database): two hosts starting at once each
  // found no image and published, so one registration failed on the name, or one's leftover sweep
  // deleted the other's scratch snapshot; the region could be left without a base image.
  return region.locks.withLocks([`base-image:${region.name}`], () => publish(region, providerId, disk));
}

async function publish(region: Region, providerId: string, disk: BaseDisk): Promise<ImageRecord> {
  const images = (await region.images.list()).filter((i) => i.ownerId === providerId);
  await removeLeftovers(region, providerId, images);
  const existing = images.find((i) => i.name === disk.name);
  if (existing) {
    await makePublic(region, providerId, existing);
    return existing;
  }
  const sizeGiB = Math.ceil(disk.sizeBytes / 2 ** 30);
  const volume = await region.volumes.create({ ownerId: providerId, sizeGiB });
  try {
    const handle = await region.volumes.handle(volume.id);
    const f = await open(disk.path, "r");
    try {
      const buf = Buffer.alloc(BLOCK_SIZE);
      for (let offset = 0; offset < disk.sizeBytes; offset += BLOCK_SIZE) {
        const { bytesRead } = await f.read(buf, 0, BLOCK_SIZE, offset);
        if (bytesRead === 0) break;
        const block = buf.subarray(0, bytesRead);
        if (!isZeroBlock(block)) await handle.write(offset, Buffer.from(block));
      }
    } finally {
      await f.close();
    }
    await handle.flush();
    const snap = await region.snapshots.create(volume.id, `${disk.name} root volume`);
    crashPoint("base-image.snapshot-started");
    await region.snapshots.wait(snap.id);
    const image = await region.images.register(providerId, {
      name: disk.name,
      description: `Strata minimal Linux: Debian cloud kernel ${disk.kernelVersion}, busybox, dropbear; runs user data`,
      architecture: "x86_64",
      virtualizationType: "hvm",
      rootDeviceName: "/dev/xvda",
      bootMode: "legacy-bios",
      enaSupport: true,
      imdsSupport: "v2.0",
      blockDeviceMappings: [
        {
          deviceName: "/dev/xvda",
          ebs: {
            snapshotId: snap.id,
            volumeSize: sizeGiB,
            volumeType: "gp3",
            deleteOnTermination: true,
            encrypted: false,
          },
        },
      ],
    });
    await makePublic(region, providerId, image);
    return image;
  } finally {
    await region.volumes.delete(volume.id);
  }
}

/**
 * Public with its snapshots, as AWS publishes its own AMIs: any account may launch it, and copy it
 * to another region (which needs read access to the snapshots too).
 */
async function makePublic(region: Region, providerId: string, image: ImageRecord): Promise<void> {
  await region.images.share(providerId, image.id, ["all"], []);
  for (const m of image.blockDeviceMappings) {
    if (m.ebs?.snapshotId) await region.snapshots.share(providerId, m.ebs.snapshotId, ["all"], []);
  }
}

/**
 * A publication cut off by a crash leaves its scratch volume, and maybe a snapshot no image uses.
 * The provider account owns nothing but what this publisher makes (its images and their
 * snapshots), so whatever else it owns is such a leftover and goes before publishing again.
 */
async function removeLeftovers(region: Region, providerId: string, images: ImageRecord[]): Promise<void> {
  const used = new Set(images.flatMap((i) => i.blockDeviceMappings.map((m) => m.ebs?.snapshotId)));
  for (const s of await region.snapshots.list()) {
    if (s.ownerId === providerId && !used.has(s.id)) await region.snapshots.delete(s.id);
  }
  for (const v of await region.volumes.list()) {
    if (v.ownerId === providerId && !v.attachment) await region.volumes.delete(v.id);
  }
}
