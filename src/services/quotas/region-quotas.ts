import { AsyncLocalStorage } from "node:async_hooks";
import type { InstanceTypeInfo } from "../../compute/instance-types.ts";
import { instanceType } from "../../compute/instance-types.ts";
import { StrataError } from "../../errors.ts";
import type { QuotaUsageStore } from "../../storage/metadata/quota-usage.ts";
import { LocalRegionLocks, type RegionLocks } from "../../storage/metadata/region-locks.ts";
import type { ComputeHost } from "../instances/compute-host.ts";
import {
  type AccountQuotaSettings,
  limitOf,
  PROVISIONED_IOPS_TYPES,
  type QuotaName,
  quotaInfo,
} from "./quota-catalogue.ts";
import { addVolumes, type VolumeRequest } from "./volume-requests.ts";

/** The operator's settings for an account, read at each check (so a change applies at once). */
export type QuotaSettingsSource = (accountId: string) => Promise<AccountQuotaSettings>;

/** What a create adds to the account's usage. */
export interface QuotaRequest {
  /** Volumes added or grown (negative entries: what a ModifyVolume gives back). */
  volumes?: VolumeRequest[];
  snapshots?: number;
  images?: number;
  publicImages?: number;
  keyPairs?: number;
}

type LockKind = "vcpus" | "volumes" | "snapshots" | "images" | "key-pairs";

// The quota locks this async call chain holds, so a create nested in another (CopyImage's
// snapshot copies, RunInstances' volumes) checks again without waiting for itself. `active`
// turns false on release: background work started inside does not inherit the locks.
const held = new AsyncLocalStorage<{ keys: Set<string>; active: boolean }>();

const defaults: QuotaSettingsSource = async () => ({ overrides: {}, operator: false });

/**
 * One region's per-account quotas. Usage is counted from the region's metadata at each check;
 * the check and the create it guards run under the account's lock for that kind of resource, so
 * two concurrent creates cannot both pass a limit only one of them fits, on this host or (region
 * locks on PostgreSQL) on any other sharing the region's database.
 */
export class RegionQuotas {
  readonly region: string;
  readonly #usage: QuotaUsageStore | undefined;
  readonly #settings: QuotaSettingsSource;
  /** The region's named locks (the quota locks are some; client tokens take others). */
  readonly locks: RegionLocks;

  constructor(
    region: string,
    usage?: QuotaUsageStore,
    settings: QuotaSettingsSource = defaults,
    locks: RegionLocks = new LocalRegionLocks(),
  ) {
    this.region = region;
    this.locks = locks;
    this.#usage = usage;
    this.#settings = settings;
  }

  /** No quotas (services built on their own, as in unit tests). */
  static none(region = ""): RegionQuotas {
    return new RegionQuotas(region);
  }

  /**
   * Runs `create` once the account's usage plus `request` fits its quotas (EC2's error otherwise,
   * and nothing created), with the account's quota locks held until `create` settles.
   * Engine-internal resources (no account) are not counted.
   */
  async reserve<T>(
    accountId: string | undefined,
    request: QuotaRequest,
    create: () => Promise<T>,
  ): Promise<T> {
    if (!accountId || !this.#usage) return create();
    return this.#guard(accountId, kindsOf(request), async () => {
      await this.#check(accountId, request);
      return create();
    });
  }

  /**
   * RunInstances: between minCount and maxCount instances of the type, as many as the account's
   * vCPU quota, its host share and the host allow; their volumes (`volumesEach`, per instance)
   * checked for all of them before anything is created. `create` gets one host reservation per
   * instance (it owns them from then on).
   */
  async launch<T>(
    accountId: string,
    plan: { type: InstanceTypeInfo; minCount: number; maxCount: number; volumesEach: VolumeRequest[] },
    host: ComputeHost,
    create: (reservations: (() => void)[]) => Promise<T>,
  ): Promise<T> {
    return this.#guard(accountId, ["vcpus", "volumes"], async () => {
      const allowed = await this.#vcpuAllowance(accountId, plan.type, plan.minCount, plan.maxCount);
      const reservations = host.reserveFor(
        plan.type,
        plan.minCount,
        allowed,
        accountId,
        await this.hostShare(accountId),
      );
      try {
        const volumes = reservations.flatMap(() => plan.volumesEach);
        await this.#check(accountId, { volumes });
      } catch (e) {
        for (const release of reservations) release();
        throw e;
      }
      return create(reservations);
    });
  }

  /** StartInstances: the instance's vCPUs within the quota and the host share; `start` records it. */
  async start<T>(
    accountId: string,
    type: InstanceTypeInfo,
    host: ComputeHost,
    start: (reservation: () => void) => Promise<T>,
  ): Promise<T> {
    return this.#guard(accountId, ["vcpus"], async () => {
      await this.#vcpuAllowance(accountId, type, 1, 1);
      const [reservation] = host.reserveFor(type, 1, 1, accountId, await this.hostShare(accountId));
      try {
        return await start(reservation);
      } catch (e) {
        reservation();
        throw e;
      }
    });
  }

  /** The fraction of the host's instance capacity the account may hold (1 without quotas). */
  async hostShare(accountId: string): Promise<number> {
    if (!this.#usage) return 1;
    return limitOf("host-share", await this.#settings(accountId));
  }

  async #vcpuAllowance(accountId: string, type: InstanceTypeInfo, min: number, max: number): Promise<number> {
    if (!this.#usage) return max;
    const limit = limitOf("vcpus", await this.#settings(accountId));
    const used = (await this.#usage.activeInstanceTypes(accountId)).reduce(
      (sum, t) => sum + (instanceType(t)?.vcpus ?? 0),
      0,
    );
    const allowed = Math.min(max, Math.floor((limit - used) / type.vcpus));
    if (allowed < min) {
      // EC2's wording; the adjustment is the operator's here, not a support case.
      throw new StrataError(
        "VcpuLimitExceeded",
        `You have requested more vCPU capacity than your current vCPU limit of ${limit} allows for the instance bucket that the specified instance type belongs to. ` +
          `(${used} vCPUs running, ${min * type.vcpus} requested.) Ask the operator to adjust this limit (strata accounts set-quota ACCOUNT vcpus N).`,
      );
    }
    return allowed;
  }

  async #check(accountId: string, request: QuotaRequest): Promise<void> {
    const usage = this.#usage;
    if (!usage) return;
    const settings = await this.#settings(accountId);
    const limit = (name: QuotaName) => limitOf(name, settings);
    if (request.volumes?.length) {
      const used = await usage.volumeUsage(accountId);
      for (const [type, add] of addVolumes(request.volumes)) {
        if (!quotaInfo(`volume-storage-${type}`)) continue;
        const now = used.get(type) ?? { sizeGiB: 0, iops: 0 };
        const tib = limit(`volume-storage-${type}` as QuotaName);
        if (add.sizeGiB > 0 && now.sizeGiB + add.sizeGiB > tib * 1024) {
          throw new StrataError(
            "VolumeLimitExceeded",
            `You have exceeded your maximum ${type} storage limit of ${tib} TiB in this region ` +
              `(${now.sizeGiB} GiB in use, ${add.sizeGiB} GiB more requested).`,
          );
        }
        if ((PROVISIONED_IOPS_TYPES as readonly string[]).includes(type) && add.iops > 0) {
          const max = limit(`iops-${type}` as QuotaName);
          if (now.iops + add.iops > max) {
            throw new StrataError(
              "MaxIOPSLimitExceeded",
              `You have exceeded your maximum ${type} IOPS limit of ${max} in this region ` +
                `(${now.iops} provisioned, ${add.iops} more requested).`,
            );
          }
        }
      }
    }
    if (request.snapshots) {
      const max = limit("snapshots");
      if ((await usage.snapshotCount(accountId)) + request.snapshots > max) {
        throw new StrataError(
          "SnapshotLimitExceeded",
          `You have reached your quota of ${max} for the number of snapshots allowed in this Region.`,
        );
      }
    }
    if (request.images) {
      const max = limit("images");
      if ((await usage.imageCount(accountId)) + request.images > max) {
        throw new StrataError(
          "ResourceLimitExceeded",
          `You have reached your quota of ${max} for the number of images allowed in this Region. ` +
            "Deregister unused images, or ask the operator to raise your AMIs quota.",
        );
      }
    }
    if (request.publicImages) {
      const max = limit("public-images");
      if ((await usage.publicImageCount(accountId)) + request.publicImages > max) {
        throw new StrataError(
          "ResourceLimitExceeded",
          `You have reached your quota of ${max} for the number of public images allowed in this Region. ` +
            "Deregister unused public images or make them private, or ask the operator to raise your public AMIs quota.",
        );
      }
    }
    if (request.keyPairs) {
      const max = limit("key-pairs");
      if ((await usage.keyPairCount(accountId)) + request.keyPairs > max) {
        throw new StrataError(
          "KeyPairLimitExceeded",
          `You have reached your quota of ${max} for the number of key pairs allowed in this Region.`,
        );
      }
    }
  }

  async #guard<T>(accountId: string, kinds: LockKind[], fn: () => Promise<T>): Promise<T> {
    const keys = kinds.map((k) => `quota:${this.region}:${k}:${accountId}`);
    const outer = held.getStore();
    const mine = outer?.active ? outer.keys : new Set<string>();
    const needed = keys.filter((k) => !mine.has(k));
    if (needed.length === 0) return fn();
    return this.locks.withLocks(needed, async () => {
      const scope = { keys: new Set([...mine, ...needed]), active: true };
      try {
        return await held.run(scope, fn);
      } finally {
        scope.active = false;
      }
    });
  }
}

function kindsOf(request: QuotaRequest): LockKind[] {
  const kinds: LockKind[] = [];
  if (request.volumes?.length) kinds.push("volumes");
  if (request.snapshots) kinds.push("snapshots");
  if (request.images || request.publicImages) kinds.push("images");
  if (request.keyPairs) kinds.push("key-pairs");
  return kinds;
}
