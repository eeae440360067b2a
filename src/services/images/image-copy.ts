// CopyImage's work once its ClientToken is settled: checks (name, the source visible to the
// caller and, as on EC2, read access to its snapshots), the quotas for the image and every
// snapshot copy before any starts, then the pending image and its snapshot copies.
import { StrataError } from "../../errors.ts";
import { newId } from "../../ids.ts";
import type { BlockDeviceMappingRecord, ImageRecord, Tag } from "../../storage/metadata/catalog-store.ts";
import { crashPoint } from "../../util/crash-points.ts";
import type { RegionQuotas } from "../quotas/region-quotas.ts";
import { checkDescription } from "../snapshots/snapshot-service.ts";
import { validateTags } from "../tags/tag-rules.ts";
import { checkName } from "./image-rules.ts";
import type { ImageService } from "./image-service.ts";

export interface CopyOptions {
  name: string;
  description?: string;
  copyTags?: boolean;
  tags?: Tag[];
}

export async function copyImage(
  target: ImageService,
  quotas: RegionQuotas,
  source: ImageService,
  sourceImageId: string,
  ownerId: string,
  options: CopyOptions,
): Promise<ImageRecord> {
  checkName(options.name);
  if (options.description !== undefined) checkDescription(options.description);
  validateTags(options.tags ?? []);
  if (await target.nameTaken(ownerId, options.name)) {
    throw new StrataError("InvalidAMIName.Duplicate", `AMI name ${options.name} is already in use`);
  }
  const src = await source.visible(ownerId, sourceImageId);
  if (src.state !== "available") {
    throw new StrataError("IncorrectState", `Image ${sourceImageId} is ${src.state}, not available.`);
  }
  for (const m of src.blockDeviceMappings) {
    const id = m.ebs?.snapshotId;
    const readable =
      !id ||
      (await source.snapshots.visible(ownerId, id).then(
        () => true,
        () => false,
      ));
    if (!readable) {
      throw new StrataError(
        "UnauthorizedOperation",
        `You do not have permission to access the storage of this ami (${sourceImageId})`,
      );
    }
  }
  const request = { images: 1, snapshots: src.blockDeviceMappings.filter((m) => m.ebs?.snapshotId).length };
  return quotas.reserve(ownerId, request, () => copyChecked(target, source, src, ownerId, options));
}

async function copyChecked(
  target: ImageService,
  source: ImageService,
  src: ImageRecord,
  ownerId: string,
  options: CopyOptions,
): Promise<ImageRecord> {
  // The source owner's tags are copied only when the caller owns the source (a grantee never sees them).
  const tags = [
    ...(options.copyTags && src.ownerId === ownerId ? await source.catalog.tags(src.id) : []),
    ...(options.tags ?? []),
  ];
  // Each snapshot copy gets its id now: the image names them before they exist (see
  // registerBeforeSnapshots).
  const mappings: BlockDeviceMappingRecord[] = src.blockDeviceMappings.map((m) =>
    m.ebs?.snapshotId ? { ...m, ebs: { ...m.ebs, snapshotId: newId("snap") } } : m,
  );
  const begin = async () => {
    for (const [k, m] of src.blockDeviceMappings.entries()) {
      if (!m.ebs?.snapshotId) continue;
      await target.snapshots.copyFrom(source.snapshots, m.ebs.snapshotId, {
        ownerId,
        description: `Copied for DestinationAmi from SourceAmi ${src.id} for SourceSnapshot ${m.ebs.snapshotId}`,
        id: mappings[k].ebs!.snapshotId,
      });
      crashPoint("image.copy-snapshot-started");
    }
  };
  return target.registerBeforeSnapshots(
    ownerId,
    {
      name: options.name,
      description: options.description ?? src.description,
      architecture: src.architecture,
      virtualizationType: src.virtualizationType,
      rootDeviceName: src.rootDeviceName,
      bootMode: src.bootMode ?? undefined,
      enaSupport: src.enaSupport,
      sriovNetSupport: src.sriovNetSupport ?? undefined,
      imdsSupport: src.imdsSupport ?? undefined,
      tpmSupport: src.tpmSupport ?? undefined,
      blockDeviceMappings: mappings,
    },
    { sourceImageId: src.id, sourceRegion: source.region },
    [...new Map(tags.map((t) => [t.key, t])).values()],
    begin,
  );
}
