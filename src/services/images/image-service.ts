import { createHash } from "node:crypto";
import { StrataError } from "../../errors.ts";
import { newId } from "../../ids.ts";
import type {
  BlockDeviceMappingRecord,
  CatalogStore,
  ImageRecord,
} from "../../storage/metadata/catalog-store.ts";
import type { SnapshotRecord } from "../../storage/metadata/metadata-store.ts";
import { crashPoint } from "../../util/crash-points.ts";
import type { SnapshotService } from "../snapshots/snapshot-service.ts";

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

// EC2's rule for AMI names: 3-128 characters of letters, digits and ( ) [ ] space . / - ' @ _
const AMI_NAME = /^[A-Za-z0-9()[\] ./\-'@_]{3,128}$/;
const ARCHITECTURES = ["i386", "x86_64", "arm64", "x86_64_mac", "arm64_mac"];

/**
 * One region's images (AMIs): registration from snapshots, sharing through launch permissions,
 * copies between regions (their snapshots are copied too), deprecation and deregistration.
 * An image whose snapshots are still pending is `pending` and turns `available` when they complete.
 */
export class ImageService {
  readonly region: string;
  readonly catalog: CatalogStore;
  readonly snapshots: SnapshotService;
  readonly #watching = new Map<string, Promise<void>>();

  constructor(region: string, catalog: CatalogStore, snapshots: SnapshotService) {
    this.region = region;
    this.catalog = catalog;
    this.snapshots = snapshots;
  }

  async register(
    ownerId: string,
    input: RegisterImageInput,
    origin: Partial<ImageRecord> = {},
  ): Promise<ImageRecord> {
    checkName(input.name);
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
    const snapshots = await this.#checkMappings(ownerId, input.blockDeviceMappings);
    const rootDeviceName = input.rootDeviceName ?? input.blockDeviceMappings[0].deviceName;
    const root = input.blockDeviceMappings.find((m) => m.deviceName === rootDeviceName);
    if (!root?.ebs?.snapshotId) {
      throw new StrataError(
        "InvalidBlockDeviceMapping",
        `The root device name ${rootDeviceName} must be one of the block device mappings, with a snapshot`,
      );
    }
    const pending = snapshots.some((s) => s.state === "pending");
    const image: ImageRecord = {
      id: newId("ami"),
      ownerId,
      name: input.name,
      state: pending ? "pending" : "available",
      creationDate: new Date().toISOString(),
      description: input.description ?? "",
      architecture,
      virtualizationType: input.virtualizationType ?? "hvm",
      rootDeviceName,
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
    await this.catalog.insertImage(image);
    if (pending) this.#watch(image.id);
    return image;
  }

  async #checkMappings(ownerId: string, mappings: BlockDeviceMappingRecord[]): Promise<SnapshotRecord[]> {
    const names = new Set<string>();
    const out: SnapshotRecord[] = [];
    for (const m of mappings) {
      if (names.has(m.deviceName)) {
        throw new StrataError(
          "InvalidBlockDeviceMapping",
          `The device name ${m.deviceName} is used more than once`,
        );
      }
      names.add(m.deviceName);
      const ebs = m.ebs;
      const snapshotId = ebs?.snapshotId;
      if (!ebs || !snapshotId) continue;
      const snap = await this.snapshots.meta.getSnapshot(snapshotId);
      if (!snap || !(await this.snapshotVisibleTo(snap, ownerId))) {
        throw new StrataError("InvalidSnapshot.NotFound", `The snapshot '${snapshotId}' does not exist.`);
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

  /** Owner, an explicit createVolumePermission, or public. */
  async snapshotVisibleTo(snap: SnapshotRecord, accountId: string): Promise<boolean> {
    if (snap.ownerId === accountId) return true;
    const grantees = await this.catalog.permissions(snap.id);
    return grantees.includes(accountId) || grantees.includes("all");
  }

  /** Owner, an explicit launch permission, or public. */
  async imageVisibleTo(image: ImageRecord, accountId: string): Promise<boolean> {
    if (image.ownerId === accountId) return true;
    const grantees = await this.catalog.permissions(image.id);
    return grantees.includes(accountId) || grantees.includes("all");
  }

  async get(id: string): Promise<ImageRecord> {
    const image = await this.catalog.getImage(id);
    if (!image) throw notFound(id);
    return image;
  }

  /** The image if the account may see it; EC2 answers NotFound (not "forbidden") otherwise. */
  async getVisible(id: string, accountId: string): Promise<ImageRecord> {
    const image = await this.catalog.getImage(id);
    if (!image || !(await this.imageVisibleTo(image, accountId))) throw notFound(id);
    return image;
  }

  /** The image if the account owns it (modifying calls); NotFound for other accounts' private images. */
  async getOwned(id: string, accountId: string): Promise<ImageRecord> {
    const image = await this.getVisible(id, accountId);
    if (image.ownerId !== accountId) {
      throw new StrataError("AuthFailure", `Not authorized for image:${id}`);
    }
    return image;
  }

  list(): Promise<ImageRecord[]> {
    return this.catalog.listImages();
  }

  async update(image: ImageRecord): Promise<void> {
    await this.catalog.updateImage(image);
  }

  /** Deregisters; with deleteSnapshots, deletes the image's snapshots that no other image uses. */
  async deregister(
    image: ImageRecord,
    deleteSnapshots: boolean,
  ): Promise<{ snapshotId: string; returnCode: string }[]> {
    const until = /^disabled-until (.+)$/.exec(image.deregistrationProtection)?.[1];
    if (image.deregistrationProtection !== "disabled" && !(until && new Date(until) <= new Date())) {
      throw new StrataError(
        "InvalidParameterValue",
        `Image ${image.id} has deregistration protection enabled; disable it before deregistering`,
      );
    }
    const snapshotIds = await this.catalog.deleteImage(image.id);
    if (!deleteSnapshots) return [];
    const results = [];
    for (const snapshotId of snapshotIds) {
      const users = await this.catalog.imagesUsingSnapshot(snapshotId);
      const snap = await this.snapshots.meta.getSnapshot(snapshotId);
      if (!snap) {
        results.push({ snapshotId, returnCode: "skipped" });
      } else if (users.length > 0) {
        results.push({ snapshotId, returnCode: "skipped" });
      } else if (snap.ownerId !== image.ownerId) {
        results.push({ snapshotId, returnCode: "missing-permissions" });
      } else {
        // The image is gone already; one snapshot that cannot go (being copied, say) is reported,
        // not thrown, as EC2's DeleteSnapshotResults do.
        const ok = await this.snapshots.delete(snapshotId).then(
          () => true,
          () => false,
        );
        results.push({ snapshotId, returnCode: ok ? "success" : "client-error" });
      }
    }
    return results;
  }

  /**
   * CopyImage into this region: each EBS snapshot is copied (owned by the caller) and the new
   * image stays `pending` until every copy completes. Idempotent per ClientToken.
   */
  async copyFrom(
    source: ImageService,
    sourceImageId: string,
    ownerId: string,
    options: { name: string; description?: string; clientToken?: string; copyTags?: boolean },
  ): Promise<ImageRecord> {
    const requestHash = hashOf({ region: source.region, sourceImageId, ...options });
    if (options.clientToken) {
      const seen = await this.catalog.clientToken(ownerId, options.clientToken);
      if (seen) {
        if (seen.requestHash !== requestHash || seen.action !== "CopyImage") {
          throw new StrataError(
            "IdempotentParameterMismatch",
            `The client token ${options.clientToken} was already used with different parameters`,
          );
        }
        return this.get(seen.resourceId);
      }
    }
    checkName(options.name);
    if (
      (await this.catalog.imagesVisibleTo(ownerId, { ownerIds: [ownerId] })).some(
        (i) => i.name === options.name,
      )
    ) {
      throw new StrataError("InvalidAMIName.Duplicate", `AMI name ${options.name} is already in use`);
    }
    const src = await source.getVisible(sourceImageId, ownerId);
    if (src.state !== "available") {
      throw new StrataError("IncorrectState", `Image ${sourceImageId} is ${src.state}, not available.`);
    }
    const mappings: BlockDeviceMappingRecord[] = [];
    for (const m of src.blockDeviceMappings) {
      if (!m.ebs?.snapshotId) {
        mappings.push(m);
        continue;
      }
      const copy = await this.snapshots.copyFrom(source.snapshots, m.ebs.snapshotId, {
        ownerId,
        description: `Copied for DestinationAmi from SourceAmi ${src.id} for SourceSnapshot ${m.ebs.snapshotId}`,
      });
      mappings.push({ ...m, ebs: { ...m.ebs, snapshotId: copy.id } });
      crashPoint("image.copy-snapshot-started");
    }
    const image = await this.register(
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
    );
    if (options.copyTags) await this.catalog.setTags([image.id], await source.catalog.tags(src.id));
    if (options.clientToken) {
      await this.catalog.saveClientToken(ownerId, options.clientToken, "CopyImage", requestHash, image.id);
    }
    return image;
  }

  /** Resolves when the image is no longer pending. */
  async wait(id: string): Promise<ImageRecord> {
    await this.#watching.get(id);
    return this.get(id);
  }

  #watch(id: string): void {
    if (this.#watching.has(id)) return;
    const done = (async () => {
      const image = await this.get(id);
      const ids = image.blockDeviceMappings.flatMap((m) => (m.ebs?.snapshotId ? [m.ebs.snapshotId] : []));
      const results = await Promise.all(ids.map((s) => this.#settled(s)));
      const failed = results.find((s) => s?.state !== "completed");
      const current = await this.catalog.getImage(id);
      if (!current) return;
      if (failed === undefined) {
        await this.catalog.updateImage({ ...current, state: "available" });
      } else {
        await this.catalog.updateImage({
          ...current,
          state: "failed",
          stateReason: { code: "Client.SnapshotError", message: `Snapshot ${failed?.id ?? "?"} failed` },
        });
      }
    })()
      .catch((e: Error) => console.error(`image ${id}: ${e.message}`))
      .finally(() => this.#watching.delete(id));
    this.#watching.set(id, done);
  }

  /**
   * The snapshot once it is no longer pending (undefined if deleted). Snapshots written through
   * the EBS APIs have no job to wait for: they are polled until completed or timed out.
   */
  async #settled(snapshotId: string) {
    for (;;) {
      const s = await this.snapshots.wait(snapshotId).catch(() => undefined);
      if (s?.state !== "pending") return s;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** After a restart: keep watching images whose snapshots were still pending. */
  async resume(): Promise<void> {
    for (const image of await this.catalog.listImages()) if (image.state === "pending") this.#watch(image.id);
  }
}

function checkName(name: string): void {
  if (!AMI_NAME.test(name)) {
    throw new StrataError(
      "InvalidAMIName.Malformed",
      `AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_'`,
    );
  }
}

function notFound(id: string): StrataError {
  return new StrataError("InvalidAMIID.NotFound", `The image id '[${id}]' does not exist`);
}

function hashOf(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex");
}
