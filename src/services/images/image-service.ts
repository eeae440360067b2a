import { StrataError } from "../../errors.ts";
import type { CatalogStore, ImageRecord, Tag } from "../../storage/metadata/catalog-store.ts";
import type { ListScope, SnapshotStats } from "../../storage/metadata/metadata-store.ts";
import { crashPoint } from "../../util/crash-points.ts";
import { idempotent } from "../access/idempotency.ts";
import { checkId, notFound } from "../access/resource-ids.ts";
import type { Sharing } from "../access/sharing.ts";
import { RegionQuotas } from "../quotas/region-quotas.ts";
import { checkDescription, type SnapshotService } from "../snapshots/snapshot-service.ts";
import { type CopyOptions, copyImage } from "./image-copy.ts";
import {
  checkDevice,
  checkMappings,
  checkRegisterInput,
  imageRecord,
  type RegisterImageInput,
} from "./image-registration.ts";
import { checkDeprecationTime, deregistrationAllowed, nextProtection } from "./image-rules.ts";
import { PendingImages } from "./pending-images.ts";

/**
 * One region's images (AMIs): registration from snapshots, sharing through launch permissions,
 * copies between regions (their snapshots are copied too), deprecation and deregistration.
 * An image whose snapshots are still pending is `pending` and turns `available` when they complete.
 */
export class ImageService {
  readonly region: string;
  readonly catalog: CatalogStore;
  readonly snapshots: SnapshotService;
  readonly #pending: PendingImages;
  readonly #sharing: Sharing;
  readonly #quotas: RegionQuotas;

  constructor(
    region: string,
    catalog: CatalogStore,
    snapshots: SnapshotService,
    sharing: Sharing,
    quotas = RegionQuotas.none(region),
  ) {
    this.#quotas = quotas;
    this.region = region;
    this.catalog = catalog;
    this.snapshots = snapshots;
    this.#sharing = sharing;
    this.#pending = new PendingImages(catalog, snapshots);
  }

  /** RegisterImage: an image of the owner's own snapshots, with its tags in the same transaction. */
  async register(
    ownerId: string,
    input: RegisterImageInput,
    origin: Partial<ImageRecord> = {},
    tags: Tag[] = [],
  ): Promise<ImageRecord> {
    checkRegisterInput(input, tags);
    const snapshots = await checkMappings(this.snapshots, ownerId, input.blockDeviceMappings);
    const pending = snapshots.some((s) => s.state === "pending");
    const image = imageRecord(ownerId, input, { ...origin, state: pending ? "pending" : "available" });
    // The snapshots checked above are checked again in the insert's transaction (one deleted since fails it).
    await this.#quotas.reserve(ownerId, { images: 1 }, () =>
      this.catalog.insertImage(image, tags, { snapshotsExist: true }),
    );
    if (pending) this.#pending.watch(image);
    return image;
  }

  /**
   * CreateImage and CopyImage: the image is recorded `pending`, naming the snapshots it will have,
   * before `begin` creates them (with those ids). So a crash part-way leaves an image that turns
   * `failed` at restart (a snapshot it names does not exist), never snapshots that no image owns
   * and no caller was told of. If `begin` throws, the image and what it had begun are removed.
   */
  async registerBeforeSnapshots(
    ownerId: string,
    input: RegisterImageInput,
    origin: Partial<ImageRecord>,
    tags: Tag[],
    begin: () => Promise<void>,
  ): Promise<ImageRecord> {
    checkRegisterInput(input, tags);
    for (const m of input.blockDeviceMappings) checkDevice(m);
    const image = imageRecord(ownerId, input, { ...origin, state: "pending" });
    await this.#quotas.reserve(ownerId, { images: 1 }, () => this.catalog.insertImage(image, tags));
    crashPoint("image.recorded");
    try {
      await begin();
    } catch (e) {
      await this.catalog.deleteImage(image.id);
      for (const m of image.blockDeviceMappings) {
        const id = m.ebs?.snapshotId;
        if (id && (await this.snapshots.meta.getSnapshot(id))) await this.snapshots.delete(id);
      }
      throw e;
    }
    this.#pending.watch(image);
    return image;
  }

  async get(id: string): Promise<ImageRecord> {
    const image = await this.catalog.getImage(id);
    if (!image) throw notFound("image", id);
    return image;
  }

  /**
   * DescribeStorageUsage of an image: the distinct chunks of its snapshots, unique relative to the
   * account's other snapshots. Only the owner may ask; others' images are answered as unknown.
   */
  async usage(accountId: string, id: string): Promise<SnapshotStats> {
    const image = await this.catalog.getImage(checkId("image", id));
    if (!image || image.ownerId !== accountId) throw notFound("image", id);
    const ids = image.blockDeviceMappings.flatMap((m) => (m.ebs?.snapshotId ? [m.ebs.snapshotId] : []));
    return this.snapshots.usageOf(accountId, [...new Set(ids)]);
  }

  /** The image if the account may launch it (own, shared with it, public); NotFound otherwise. */
  async visible(accountId: string, id: string): Promise<ImageRecord> {
    const image = await this.catalog.getImage(checkId("image", id));
    if (!image || !(await this.#sharing.mayUse(image, accountId))) throw notFound("image", id);
    return image;
  }

  /** The image if the account owns it (changes); a shared one it may only launch or copy. */
  async owned(accountId: string, id: string): Promise<ImageRecord> {
    const image = await this.visible(accountId, id);
    if (image.ownerId !== accountId) {
      throw new StrataError("AuthFailure", `Not authorized for image:${id}`);
    }
    return image;
  }

  list(): Promise<ImageRecord[]> {
    return this.catalog.listImages();
  }

  /** Whether the account has an image of this name already (names are unique per owner). */
  async nameTaken(ownerId: string, name: string): Promise<boolean> {
    const literal = name.replace(/[\\*?]/g, "\\$&");
    const found = await this.catalog.imagesVisibleTo(ownerId, {
      ownerIds: [ownerId],
      where: [{ column: "name", patterns: [literal] }],
    });
    return found.length > 0;
  }

  /** The images an account may launch, narrowed by the scope (one indexed query). */
  listVisible(accountId: string, scope?: ListScope): Promise<ImageRecord[]> {
    return this.catalog.imagesVisibleTo(accountId, scope);
  }

  /** ExecutableUsers, as far as the caller may know (see Sharing.usableBy). */
  executableBy(image: ImageRecord, user: string, callerId: string): Promise<boolean> {
    return this.#sharing.usableBy(image, user, callerId, false);
  }

  publicIds(): Promise<Set<string>> {
    return this.#sharing.publicIds();
  }

  /** launchPermission, for the owner's eyes only. */
  async grantees(accountId: string, id: string): Promise<string[]> {
    return this.#sharing.grantees(await this.owned(accountId, id));
  }

  /** ModifyImageAttribute's launchPermission: making an image public counts against the public AMIs quota. */
  async share(accountId: string, id: string, add: string[], remove: string[]): Promise<void> {
    const image = await this.owned(accountId, id);
    const becomesPublic =
      add.includes("all") &&
      !remove.includes("all") &&
      !(await this.#sharing.grantees(image)).includes("all");
    await this.#quotas.reserve(image.ownerId, { publicImages: becomesPublic ? 1 : 0 }, () =>
      this.#sharing.change(image, add, remove),
    );
  }

  async resetSharing(accountId: string, id: string): Promise<void> {
    await this.#sharing.reset(await this.owned(accountId, id));
  }

  async setDescription(accountId: string, id: string, description: string): Promise<void> {
    checkDescription(description);
    await this.catalog.updateImageAttributes((await this.owned(accountId, id)).id, { description });
  }

  /** EnableImageDeprecation (a time) / DisableImageDeprecation (null). */
  async setDeprecation(accountId: string, id: string, at: Date | null): Promise<void> {
    const image = await this.owned(accountId, id);
    if (at) checkDeprecationTime(at);
    await this.catalog.updateImageAttributes(image.id, { deprecationTime: at ? at.toISOString() : null });
  }

  /**
   * Enable/DisableImageDeregistrationProtection; returns the new state. With a cooldown, protection
   * lasts 24 hours after it is disabled (as on EC2). The change applies only if the state is still
   * the one it was computed from, so two concurrent calls cannot interleave.
   */
  async setDeregistrationProtection(
    accountId: string,
    id: string,
    enable: boolean,
    withCooldown = false,
  ): Promise<string> {
    for (;;) {
      const image = await this.owned(accountId, id);
      const state = nextProtection(image.deregistrationProtection, enable, withCooldown);
      const changed = await this.catalog.updateImageAttributes(
        image.id,
        { deregistrationProtection: state },
        { deregistrationProtection: image.deregistrationProtection },
      );
      if (changed) return state;
    }
  }

  /** RunInstances records when an image was last launched (only that field changes). */
  async markLaunched(id: string): Promise<void> {
    await this.catalog.updateImageAttributes(id, { lastLaunchedTime: new Date().toISOString() });
  }

  /** DeregisterImage for an account: its own images only. */
  async deregisterOwned(
    accountId: string,
    id: string,
    deleteSnapshots: boolean,
  ): Promise<{ snapshotId: string; returnCode: string }[]> {
    return this.deregister(await this.owned(accountId, id), deleteSnapshots);
  }

  /** Deregisters; with deleteSnapshots, deletes the image's snapshots that no other image uses. */
  async deregister(
    image: ImageRecord,
    deleteSnapshots: boolean,
  ): Promise<{ snapshotId: string; returnCode: string }[]> {
    // Checked on the current record inside the delete's transaction: a protection enabled
    // meanwhile is honoured.
    const snapshotIds = await this.catalog.deleteImage(image.id, (current) => {
      if (!deregistrationAllowed(current.deregistrationProtection)) {
        throw new StrataError(
          "InvalidParameterValue",
          `Image ${image.id} has deregistration protection enabled; disable it before deregistering`,
        );
      }
    });
    if (!deleteSnapshots) return [];
    const results = [];
    for (const snapshotId of snapshotIds) {
      const users = await this.catalog.imagesUsingSnapshot(snapshotId, image.ownerId);
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
   * CopyImage into this region, owned by the caller: each EBS snapshot is copied and the new image
   * stays `pending` until every copy completes. As on EC2, the caller needs read access to the
   * image's snapshots too, not only its launch permission. Idempotent per ClientToken.
   */
  async copyFrom(
    source: ImageService,
    sourceImageId: string,
    ownerId: string,
    options: CopyOptions & { clientToken?: string },
  ): Promise<ImageRecord> {
    const { clientToken, ...request } = options;
    return idempotent(
      {
        catalog: this.catalog,
        locks: this.#quotas.locks,
        scope: this.region,
        ownerId,
        token: clientToken,
        action: "CopyImage",
        request: { region: source.region, sourceImageId, ...request },
        mismatch: () =>
          new StrataError(
            "IdempotentParameterMismatch",
            `The client token ${clientToken} was already used with different parameters`,
          ),
      },
      (id) => this.get(id),
      async () => {
        const image = await copyImage(this, this.#quotas, source, sourceImageId, ownerId, options);
        return { resourceId: image.id, result: image };
      },
    );
  }

  /** Resolves when the image is no longer pending. */
  async wait(id: string): Promise<ImageRecord> {
    await this.#pending.settled(id);
    return this.get(id);
  }

  /** After a restart: keep watching images whose snapshots were still pending. */
  resume(): Promise<void> {
    return this.#pending.resume();
  }
}
