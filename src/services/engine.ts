import { join } from "node:path";
import { buildBaseImage, defaultBaseImageCacheDir } from "../compute/base-image/build-base-image.ts";
import { StrataError } from "../errors.ts";
import { CodecPool } from "../storage/chunks/codec-pool.ts";
import type { Tag } from "../storage/metadata/catalog-store.ts";
import { DescriptorPool } from "../storage/volume-files/descriptor-pool.ts";
import { hostIdOf } from "./hosts/host-id.ts";
import type { HostOptions } from "./hosts/host-registry.ts";
import { ComputeHost, type ComputeOptions } from "./instances/compute-host.ts";
import { NetworkHost } from "./network/network-host.ts";
import type { NetworkOptions } from "./network/network-options.ts";
import { regionPublicRange } from "./network/public-pool.ts";
import type { QuotaSettingsSource } from "./quotas/region-quotas.ts";
import { Region } from "./regions/region.ts";
import { openRegionStores, type RegionStorage } from "./regions/region-stores.ts";
import { readStorageConfig, storageFor } from "./regions/storage-config.ts";
import { BlockTokens } from "./snapshots/block-tokens.ts";

export const DEFAULT_REGIONS = ["us-east-1", "us-west-2", "eu-west-1"];

export interface EngineOptions {
  dataDir: string;
  regions?: string[];
  /** Worker threads for hashing and compression (default: one per core). */
  threads?: number;
  /**
   * Volume segment files open at once, across all volumes of all regions (default
   * DEFAULT_MAX_OPEN_VOLUME_FILES): the daemon's descriptors for volume data stay bounded however
   * many and however large the volumes are.
   */
  maxOpenVolumeFiles?: number;
  /** Copy restored volumes' blocks to local disk in the background (default true). */
  backgroundHydration?: boolean;
  /** How long EBS block tokens stay valid (default 7 days). */
  blockTokenTtlMs?: number;
  /** Instances: cache dir, capacity policy (defaults: ~/.cache/strata or $STRATA_CACHE_DIR). */
  compute?: Partial<ComputeOptions>;
  /** Instance networking (default: user mode; `strata server` defaults to auto). */
  network?: NetworkOptions;
  /** Each account's quota overrides (the accounts database); without it, every account has the defaults. */
  quotaSettings?: QuotaSettingsSource;
  /**
   * Each region's storage backends (default: the file STRATA_STORAGE_CONFIG names, else SQLite +
   * packs in the data dir: the test suite runs on S3 by that variable alone).
   */
  storage?: (region: string) => RegionStorage;
  /** This host among each region's hosts (id default: the data dir's `host-id`; zone: all). */
  host?: Partial<HostOptions>;
}

const EXPIRY_SWEEP_MS = 30_000;

/**
 * The storage engine: every configured region, sharing one pool of codec workers and one pool of
 * volume file descriptors.
 */
export class Engine {
  readonly regions = new Map<string, Region>();
  readonly codec: CodecPool;
  readonly descriptors: DescriptorPool;
  #compute: ComputeHost | undefined;
  #network: NetworkHost | undefined;
  #sweeper: NodeJS.Timeout | undefined;

  private constructor(codec: CodecPool, descriptors: DescriptorPool) {
    this.codec = codec;
    this.descriptors = descriptors;
  }

  static async open(options: EngineOptions): Promise<Engine> {
    const descriptors = new DescriptorPool(options.maxOpenVolumeFiles);
    const engine = new Engine(new CodecPool(options.threads), descriptors);
    const computeOptions: ComputeOptions = { cacheDir: defaultBaseImageCacheDir(), ...options.compute };
    // Before any region: its instances' interfaces are plugged into this host's data plane.
    engine.#network = await NetworkHost.open(
      options.dataDir,
      join(options.dataDir, "run"),
      // Embedded engines (tests, benchmarks) network in user mode unless told; the server passes
      // what `--network` says (auto by default).
      options.network ?? { mode: "user" },
    );
    engine.#compute = await ComputeHost.open(options.dataDir, computeOptions, async (region, volumeId) =>
      engine.regions.get(region)?.volumes.handle(volumeId),
    );
    const compute = {
      host: () => engine.compute,
      // The accelerator probe boots the base image: it prints this marker early in its boot.
      probeDisk: () =>
        buildBaseImage({ cacheDir: computeOptions.cacheDir }).then((b) => ({
          path: b.path,
          marker: "strata: booting",
        })),
    };
    const tokens = BlockTokens.fromFile(
      join(options.dataDir, "block-token.key"),
      options.blockTokenTtlMs ?? 7 * 86_400_000,
    );
    const regionNames = options.regions ?? DEFAULT_REGIONS;
    const host: HostOptions = { ...options.host, id: options.host?.id ?? hostIdOf(options.dataDir) };
    const fromEnv = process.env.STRATA_STORAGE_CONFIG;
    const config = fromEnv ? readStorageConfig(fromEnv) : undefined;
    const storage =
      options.storage ?? ((region: string) => (config ? storageFor(config, region, options.dataDir) : {}));
    for (const [index, name] of regionNames.entries()) {
      if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(name)) throw new Error(`Invalid region name '${name}'`);
      const stores = await openRegionStores(
        join(options.dataDir, "regions", name),
        engine.codec,
        storage(name),
      );
      engine.regions.set(
        name,
        new Region(
          name,
          options.dataDir,
          stores,
          descriptors,
          tokens,
          compute,
          options.backgroundHydration ?? true,
          options.quotaSettings,
          {
            host: engine.network,
            publicRange: regionPublicRange(engine.network.publicPool, index, regionNames.length),
          },
          storage(name),
          host,
        ),
      );
    }
    // GC and volume recovery in every region before any pending job resumes (a copy reads
    // another region).
    for (const r of engine.regions.values()) await r.recover();
    for (const r of engine.regions.values()) r.startGc();
    const services = new Map([...engine.regions].map(([n, r]) => [n, r.snapshots]));
    for (const r of engine.regions.values()) await r.snapshots.resume(services, r.exclusive);
    for (const r of engine.regions.values()) await r.images.resume();
    await engine.#expireDirectSnapshots();
    engine.#sweeper = setInterval(() => void engine.#expireDirectSnapshots(), EXPIRY_SWEEP_MS);
    engine.#sweeper.unref();
    return engine;
  }

  /** This host's id among each region's hosts. */
  get hostId(): string {
    return [...this.regions.values()][0]?.hosts.id ?? "";
  }

  get network(): NetworkHost {
    if (!this.#network) throw new Error("network host not open");
    return this.#network;
  }

  get compute(): ComputeHost {
    if (!this.#compute) throw new Error("compute host not open");
    return this.#compute;
  }

  region(name: string): Region {
    const r = this.regions.get(name);
    if (!r) {
      throw new StrataError(
        "InvalidRegion",
        `Region '${name}' is not configured (configured: ${[...this.regions.keys()].join(", ")}).`,
      );
    }
    return r;
  }

  /** CopySnapshot: into `toRegion` from `fromRegion` (the same region is allowed: a new id). */
  async copySnapshot(
    fromRegion: string,
    snapshotId: string,
    toRegion: string,
    options: { ownerId?: string; description?: string; tags?: Tag[] } = {},
  ) {
    return this.region(toRegion).snapshots.copyFrom(this.region(fromRegion).snapshots, snapshotId, options);
  }

  /** CopyImage: into `toRegion` from `fromRegion`, owned by the caller. */
  async copyImage(
    fromRegion: string,
    imageId: string,
    toRegion: string,
    ownerId: string,
    options: { name: string; description?: string; clientToken?: string; copyTags?: boolean; tags?: Tag[] },
  ) {
    return this.region(toRegion).images.copyFrom(this.region(fromRegion).images, imageId, ownerId, options);
  }

  /** EBS direct API snapshots left pending past their Timeout turn to error. */
  async #expireDirectSnapshots(): Promise<void> {
    for (const r of this.regions.values()) {
      await r.direct.writes
        .expire()
        .catch((e: Error) => console.error(`expiring snapshots in ${r.name}: ${e.message}`));
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    await Promise.all([...this.regions.values()].map((r) => r.instances.close()));
    for (const r of this.regions.values()) await r.close();
    await this.descriptors.closeAll();
    await this.#compute?.close();
    // After the VMs: removes Strata's namespaces, veth and pool route from the host.
    await this.#network?.close();
    await this.codec.close();
  }
}
