// CreateImage of an instance: every volume snapshotted at one point in time. Unless NoReboot, a
// running instance is shut down cleanly first and started again once the snapshots have begun
// (copy-on-write keeps them consistent while it runs again). Everything is checked, and the image
// and snapshot quotas taken, before the instance is touched.
import { StrataError } from "../../errors.ts";
import { newId } from "../../ids.ts";
import type { BlockDeviceMappingRecord, ImageRecord, Tag } from "../../storage/metadata/catalog-store.ts";
import type { InstanceRecord, VolumeAttachmentRecord } from "../../storage/metadata/instance-store.ts";
import { crashPoint } from "../../util/crash-points.ts";
import { notFound } from "../access/resource-ids.ts";
import { checkDeviceName } from "../images/device-names.ts";
import { checkName } from "../images/image-rules.ts";
import { checkDescription } from "../snapshots/snapshot-service.ts";
import { validateTags } from "../tags/tag-rules.ts";
import type { InstanceContext } from "./instance-context.ts";

export interface CreateImageInput {
  name: string;
  description?: string;
  noReboot: boolean;
  /** The request's BlockDeviceMappings: changes to the instance's volumes, or NoDevice. */
  overrides: BlockDeviceMappingRecord[];
  tags?: { image: Tag[]; snapshot: Tag[] };
}

/**
 * CreateImage: all the instance's volumes snapshotted at one point in time. Unless noReboot, a
 * running instance is shut down cleanly first and started again once the snapshots have begun
 * (copy-on-write keeps them consistent while it runs again).
 */
export async function createInstanceImage(
  ctx: InstanceContext,
  accountId: string,
  id: string,
  input: CreateImageInput,
): Promise<ImageRecord> {
  const owned = await ctx.store.getInstance(id);
  if (!owned || owned.ownerId !== accountId) throw notFound("instance", id);
  const ownerId = accountId;
  checkName(input.name);
  if (input.description !== undefined) checkDescription(input.description);
  const tags = input.tags ?? { image: [], snapshot: [] };
  validateTags(tags.image);
  validateTags(tags.snapshot);
  return ctx.vms.withLock(id, async () => {
    if (await ctx.images.nameTaken(ownerId, input.name)) {
      throw new StrataError("InvalidAMIName.Duplicate", `AMI name ${input.name} is already in use by an AMI`);
    }
    const r = await ctx.vms.record(id);
    if (r.state !== "running" && r.state !== "stopped") {
      throw new StrataError(
        "IncorrectInstanceState",
        `The instance '${id}' is not in the 'running' or 'stopped' state.`,
      );
    }
    const imageId = newId("ami");
    const attachments = await ctx.store.attachments(id);
    // Overrides are checked before anything happens to the instance.
    for (const o of input.overrides) {
      checkDeviceName(o.deviceName);
      if (!attachments.some((a) => a.device === o.deviceName)) {
        throw new StrataError(
          "InvalidBlockDeviceMapping",
          `The instance has no volume at ${o.deviceName} (new volumes in CreateImage are not supported)`,
        );
      }
      if (o.noDevice && o.deviceName === r.rootDeviceName) {
        throw new StrataError(
          "InvalidBlockDeviceMapping",
          "The root device cannot be suppressed with NoDevice",
        );
      }
    }
    if (!attachments.some((a) => a.device === r.rootDeviceName)) {
      throw new StrataError("IncorrectInstanceState", `The instance '${id}' has no root volume attached.`);
    }
    // Only the volumes the image keeps are snapshotted (NoDevice leaves one out, as on EC2).
    const kept = attachments.filter(
      (a) => !input.overrides.some((o) => o.deviceName === a.device && o.noDevice),
    );
    // Both quotas before the instance is touched: one image, a snapshot per volume it keeps.
    const request = { images: 1, snapshots: kept.length };
    return ctx.quotas.reserve(ownerId, request, () => imageOf(ctx, r, kept, imageId, ownerId, input, tags));
  });
}

/**
 * CreateImage once checked (the instance's lock held): the image is recorded (pending, naming
 * the snapshots' ids) before its snapshots begin, so a crash in between leaves a failed image,
 * never snapshots no image owns (see registerBeforeSnapshots).
 */
async function imageOf(
  ctx: InstanceContext,
  r: InstanceRecord,
  kept: VolumeAttachmentRecord[],
  imageId: string,
  ownerId: string,
  input: { name: string; description?: string; noReboot: boolean; overrides: BlockDeviceMappingRecord[] },
  tags: { image: Tag[]; snapshot: Tag[] },
): Promise<ImageRecord> {
  const id = r.id;
  const restart = r.state === "running" && !input.noReboot;
  const snapshotIds = new Map(kept.map((a) => [a.volumeId, newId("snap")]));
  const sizes = await Promise.all(kept.map(async (a) => (await ctx.volumes.get(a.volumeId)).sizeGiB));
  const mappings: BlockDeviceMappingRecord[] = kept.map((a, k) => {
    const o = input.overrides.find((m) => m.deviceName === a.device);
    return {
      deviceName: a.device,
      ebs: {
        snapshotId: snapshotIds.get(a.volumeId)!,
        volumeSize: Math.max(sizes[k], o?.ebs?.volumeSize ?? 0),
        volumeType: o?.ebs?.volumeType ?? "gp3",
        deleteOnTermination: o?.ebs?.deleteOnTermination ?? a.deleteOnTermination,
        encrypted: false,
      },
    };
  });
  const source = await ctx.images.catalog.getImage(r.imageId);
  return ctx.images.registerBeforeSnapshots(
    ownerId,
    {
      name: input.name,
      description: input.description,
      architecture: r.architecture,
      rootDeviceName: r.rootDeviceName,
      bootMode: source?.bootMode ?? undefined,
      blockDeviceMappings: mappings,
    },
    { id: imageId },
    tags.image,
    async () => {
      if (restart) await ctx.vms.shutdown(id, false, true);
      try {
        await ctx.snapshots.createMany(
          kept.map((a) => a.volumeId),
          `Created by CreateImage(${id}) for ${imageId}`,
          tags.snapshot,
          snapshotIds,
        );
      } finally {
        // A restart that fails leaves the instance stopped with the reason; the image still stands.
        if (restart) await ctx.vms.boot(id).catch(() => {});
      }
      crashPoint("image.snapshots-begun");
    },
  );
}
