import { join } from "node:path";
import type { BlockStore } from "../../storage/chunks/block-store.ts";
import type { CatalogStore } from "../../storage/metadata/catalog-store.ts";
import type { MetadataStore } from "../../storage/metadata/metadata-store.ts";
import type { RegionLocks } from "../../storage/metadata/region-locks.ts";
import type { DescriptorPool } from "../../storage/volume-files/descriptor-pool.ts";
import { Sharing } from "../access/sharing.ts";
import { collectGarbage, type GcResult } from "../chunks/pack-gc.ts";
import { Checkpoints } from "../hosts/checkpoints.ts";
import { type HostOptions, HostRegistry } from "../hosts/host-registry.ts";
import { ImageService } from "../images/image-service.ts";
import type { ComputeHost } from "../instances/compute-host.ts";
import { InstanceService, type ProbeDisk } from "../instances/instance-service.ts";
import { KeyPairService } from "../key-pairs/key-pair-service.ts";
import { AddressService } from "../network/address-service.ts";
import type { GroupMembership } from "../network/contracts.ts";
import { InstanceNetworking } from "../network/instance-networking.ts";
import { InterfaceService } from "../network/interface-service.ts";
import { NetworkEvents } from "../network/network-events.ts";
import type { NetworkHost } from "../network/network-host.ts";
import { DEFAULT_PUBLIC_POOL, type PublicRange, regionPublicRange } from "../network/public-pool.ts";
import { RouteService } from "../network/route-service.ts";
import { SecurityGroupService } from "../network/security-group-service.ts";
import { TunnelPeers } from "../network/tunnel-peers.ts";
import { VpcService } from "../network/vpc-service.ts";
import { type QuotaSettingsSource, RegionQuotas } from "../quotas/region-quotas.ts";
import type { BlockTokens } from "../snapshots/block-tokens.ts";
import { DirectSnapshots } from "../snapshots/direct-snapshots.ts";
import { SnapshotService } from "../snapshots/snapshot-service.ts";
import { TagService } from "../tags/tag-service.ts";
import { VolumeService } from "../volumes/volume-service.ts";
import type { RegionStorage, RegionStores } from "./region-stores.ts";

/**
 * A region: its own metadata namespace and block store under `<data-dir>/regions/<name>/`,
 * and the services over them. Nothing in one region refers to another region's data.
 */
export class Region {
  readonly name: string;
  readonly meta: MetadataStore;
  readonly blocks: BlockStore;
  readonly volumes: VolumeService;
  readonly snapshots: SnapshotService;
  readonly catalog: CatalogStore;
  readonly images: ImageService;
  readonly direct: DirectSnapshots;
  readonly instances: InstanceService;
  readonly keyPairs: KeyPairService;
  readonly tags: TagService;
  readonly securityGroups: SecurityGroupService;
  /** Per-account quotas, shared by every service of the region (one lock per account and kind). */
  readonly quotas: RegionQuotas;
  /** Named locks every writer of the region honours (across hosts on PostgreSQL): client tokens, quotas. */
  readonly locks: RegionLocks;
  /** The EC2 network model: VPCs and subnets, gateways and route tables, interfaces, Elastic IPs. */
  readonly vpcs: VpcService;
  readonly routes: RouteService;
  readonly interfaces: InterfaceService;
  readonly addresses: AddressService;
  /** Emitted after commits that change what the data plane must do (the VPC's id). */
  readonly networkEvents = new NetworkEvents();
  /** How this host networks instances: VPC networking (taps, public addresses) or user mode. */
  readonly networkMode: "vpc" | "user";
  /** Interfaces by security group (for the security-group service's group references). */
  readonly groupMembership: GroupMembership;
  /** This host among the region's hosts (one, unless several share a PostgreSQL database). */
  readonly hosts: HostRegistry;
  readonly #checkpoints: Checkpoints;
  readonly #stores: RegionStores;
  readonly #storage: RegionStorage;
  #gcTimer: NodeJS.Timeout | undefined;
  #gcRunning: Promise<GcResult> | undefined;

  constructor(
    name: string,
    dataDir: string,
    stores: RegionStores,
    descriptors: DescriptorPool,
    tokens: BlockTokens,
    compute: { host: () => ComputeHost; probeDisk: ProbeDisk },
    backgroundHydration = true,
    quotaSettings?: QuotaSettingsSource,
    network: { publicRange?: PublicRange; host?: NetworkHost } = {},
    storage: RegionStorage = {},
    host: HostOptions = { id: "h-local" },
  ) {
    const dir = join(dataDir, "regions", name);
    this.name = name;
    this.#stores = stores;
    this.#storage = storage;
    this.meta = stores.meta;
    this.catalog = stores.catalog;
    this.locks = stores.locks;
    this.quotas = new RegionQuotas(name, stores.quotaUsage, quotaSettings, stores.locks);
    const quotas = this.quotas;
    this.blocks = stores.blocks;
    this.hosts = new HostRegistry(
      name,
      stores.hosts,
      { ...host, tunnel: network.host?.tunnel ?? null },
      compute.host,
    );
    const sharing = new Sharing(this.catalog);
    this.volumes = new VolumeService(
      name,
      this.meta,
      this.blocks,
      join(dir, "volumes"),
      descriptors,
      sharing,
      backgroundHydration,
      quotas,
      this.hosts,
    );
    this.snapshots = new SnapshotService(
      name,
      this.meta,
      this.catalog,
      this.blocks,
      this.volumes,
      sharing,
      quotas,
    );
    this.images = new ImageService(name, this.catalog, this.snapshots, sharing, quotas);
    this.direct = new DirectSnapshots(name, this.meta, this.catalog, this.blocks, tokens, sharing, quotas);
    this.#checkpoints = new Checkpoints(name, this.volumes, this.snapshots, this.hosts.checkpointMs);
    const instanceStore = stores.instances;
    this.keyPairs = new KeyPairService(instanceStore, quotas);
    const networkStore = stores.network;
    this.groupMembership = networkStore;
    const groups = () => this.securityGroups;
    const publicRange = network.publicRange ?? regionPublicRange(DEFAULT_PUBLIC_POOL, 0, 1);
    this.vpcs = new VpcService(name, networkStore, groups, this.networkEvents, stores.locks);
    this.routes = new RouteService(networkStore, this.networkEvents);
    this.interfaces = new InterfaceService(
      name,
      networkStore,
      this.vpcs,
      groups,
      this.networkEvents,
      publicRange,
    );
    this.addresses = new AddressService(networkStore, this.networkEvents, publicRange);
    this.securityGroups = new SecurityGroupService(
      name,
      stores.securityGroups,
      this.vpcs,
      networkStore,
      undefined,
      stores.locks,
    );
    const networking = network.host
      ? new InstanceNetworking(
          name,
          network.host,
          {
            interfaces: this.interfaces,
            securityGroups: this.securityGroups,
            events: this.networkEvents,
            ...(network.host.tunnel ? { peers: new TunnelPeers(this.hosts, instanceStore) } : {}),
          },
          (id) => compute.host().instanceSocket(id, "imds"),
        )
      : undefined;
    this.networkMode = network.host?.mode ?? "user";
    this.instances = new InstanceService(
      name,
      instanceStore,
      {
        volumes: this.volumes,
        snapshots: this.snapshots,
        images: this.images,
        keyPairs: this.keyPairs,
        interfaces: this.interfaces,
      },
      compute.host,
      this.hosts,
      compute.probeDisk,
      quotas,
      { network: networking },
    );
    this.tags = new TagService(
      this.catalog,
      {
        volume: (a, id) => this.volumes.owned(a, id),
        snapshot: (a, id) => this.snapshots.owned(a, id),
        image: (a, id) => this.images.owned(a, id),
        instance: (a, id) => this.instances.owned(a, id),
        "key-pair": (a, id) => this.keyPairs.owned(a, id),
        "security-group": (a, id) => this.securityGroups.owned(a, id),
        "security-group-rule": (a, id) => this.securityGroups.ownedRule(a, id),
        vpc: (a, id) => this.vpcs.vpc(a, id),
        subnet: (a, id) => this.vpcs.subnet(a, id),
        "internet-gateway": (a, id) => this.routes.gateway(a, id),
        "route-table": (a, id) => this.routes.routeTable(a, id),
        "network-interface": (a, id) => this.interfaces.owned(a, id),
        "elastic-ip": (a, id) => this.addresses.owned(a, id),
      },
      async (a) =>
        new Set([
          ...(await this.volumes.listOwned(a)).map((v) => v.id),
          ...(await this.snapshots.listVisible(a, { ownerIds: [a] })).map((s) => s.id),
          ...(await this.images.listVisible(a, { ownerIds: [a] })).map((i) => i.id),
          ...(await this.instances.listOwned(a)).map((i) => i.id),
          ...(await this.keyPairs.list(a)).map((k) => k.id),
          ...(await this.securityGroups.ownedIds(a)),
          ...(await this.vpcs.listVpcs(a)).map((v) => v.id),
          ...(await this.vpcs.listSubnets(a)).map((s) => s.id),
          ...(await this.routes.listGateways(a)).map((g) => g.id),
          ...(await this.routes.listRouteTables(a)).map((r) => r.id),
          ...(await this.interfaces.list(a)).map((n) => n.id),
          ...(await this.addresses.list(a)).map((e) => e.allocationId),
        ]),
    );
  }

  /** Only this process uses the region's stores (SQLite): everything in them is this host's. */
  get exclusive(): boolean {
    return this.#stores.exclusive;
  }

  /** Start-up: sweep garbage a crash left, reopen volumes (hydrators resume). */
  async recover(): Promise<GcResult> {
    await this.blocks.packs.check?.();
    const swept = await this.collectGarbage({ graceMs: this.#stores.exclusive ? 0 : undefined });
    await this.volumes.recover(this.#stores.exclusive);
    await this.instances.recover(this.#stores.exclusive);
    await this.vpcs.recover();
    return swept;
  }

  /**
   * Registers this host with the URL other hosts forward calls to (the server's, once it
   * listens), and beats from now on; a lost host's instances are recorded stopped.
   */
  async startHost(url: string): Promise<void> {
    this.#checkpoints.start();
    await this.hosts.start(url, {
      hostLost: async (id) => {
        await this.instances.hostLost(id);
        await this.snapshots.failJobsOf(id);
      },
      fence: () => this.instances.fence(),
    });
  }

  /** One mark-and-sweep of the region's packs (one at a time; a call during one waits for it). */
  collectGarbage(o: { graceMs?: number } = {}): Promise<GcResult> {
    this.#gcRunning ??= collectGarbage(this.meta, this.blocks, {
      graceMs: o.graceMs ?? this.#storage.gc?.graceMs,
    }).finally(() => {
      this.#gcRunning = undefined;
    });
    return this.#gcRunning;
  }

  /** Sweeps packs every `gc.intervalMs` (default 10 minutes) while the region is open. */
  startGc(): void {
    const every = this.#storage.gc?.intervalMs ?? 10 * 60_000;
    this.#gcTimer = setInterval(() => {
      this.collectGarbage().catch((e) =>
        console.error(`${this.name}: pack GC failed: ${(e as Error).message}`),
      );
    }, every);
    this.#gcTimer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.#gcTimer);
    await this.#checkpoints.close();
    await this.hosts.close();
    await this.instances.close();
    await this.snapshots.close();
    await this.volumes.close();
    await this.#gcRunning?.catch(() => {});
    await this.blocks.writer.flush();
    await this.#stores.close();
  }
}
