import { open } from "node:fs/promises";
import { StrataError } from "../../errors.ts";
import type { ImageRecord } from "../../storage/metadata/catalog-store.ts";
import type {
  InstanceRecord,
  InstanceStore,
  VolumeAttachmentRecord,
} from "../../storage/metadata/instance-store.ts";
import { idempotent } from "../access/idempotency.ts";
import { checkId, notFound } from "../access/resource-ids.ts";
import type { HostRegistry } from "../hosts/host-registry.ts";
import { OnAnotherHost } from "../hosts/on-another-host.ts";
import { type HostGroup, OnSeveralHosts } from "../hosts/on-several-hosts.ts";
import type { ImageService } from "../images/image-service.ts";
import type { KeyPairService } from "../key-pairs/key-pair-service.ts";
import type { InterfaceService } from "../network/interface-service.ts";
import { RegionQuotas } from "../quotas/region-quotas.ts";
import type { SnapshotService } from "../snapshots/snapshot-service.ts";
import type { VolumeService } from "../volumes/volume-service.ts";
import type { ComputeHost } from "./compute-host.ts";
import { recordHostLost } from "./host-loss.ts";
import type { InstanceContext } from "./instance-context.ts";
import { type CreateImageInput, createInstanceImage } from "./instance-image.ts";
import { launchInstances, type RunInput } from "./instance-launch.ts";
import { rebootInstances, startInstances, stopInstances, terminateInstances } from "./instance-lifecycle.ts";
import { consoleLogPath } from "./instance-runtime.ts";
import { checkArchitecture, runnableType } from "./instance-type-rules.ts";
import { attachVolume, detachVolume } from "./instance-volumes.ts";
import type { NetworkAttachment } from "./network-attachment.ts";
import { type ProbeDisk, QemuVmDriver } from "./qemu-vm-driver.ts";
import type { VmDriver } from "./vm-driver.ts";
import { type StateChange, VmSupervisor } from "./vm-supervisor.ts";
import { moveVolume } from "./volume-move.ts";

export type { ProbeDisk, RunInput, StateChange };

const CONSOLE_TAIL = 64 * 1024;

/**
 * One region's instances, as the API and the console see them: launch, queries, lifecycle,
 * CreateImage, attributes and volume attachment. Each instance's VM is supervised by the
 * region's VmSupervisor; the larger steps live in their own files (instance-launch.ts,
 * instance-image.ts, instance-volumes.ts).
 */
export class InstanceService {
  readonly region: string;
  readonly store: InstanceStore;
  readonly #ctx: InstanceContext;
  readonly #vms: VmSupervisor;

  constructor(
    region: string,
    store: InstanceStore,
    services: {
      volumes: VolumeService;
      snapshots: SnapshotService;
      images: ImageService;
      keyPairs: KeyPairService;
      interfaces: InterfaceService;
    },
    host: () => ComputeHost,
    hosts: HostRegistry,
    probeDisk: ProbeDisk,
    quotas = RegionQuotas.none(region),
    /** What runs the VMs (QEMU on this host unless given) and connects them (user mode unless given). */
    seams: { driver?: VmDriver; network?: NetworkAttachment } = {},
  ) {
    this.region = region;
    this.store = store;
    const driver = seams.driver ?? new QemuVmDriver(host, probeDisk);
    this.#vms = new VmSupervisor(region, store, services, driver, seams.network);
    this.#ctx = { region, store, ...services, quotas, host, hosts, vms: this.#vms };
  }

  // Launch

  /**
   * RunInstances for an account: an image it may launch, its own key pair, snapshots it may
   * restore in extra mappings. Everything is checked before anything is created; one launch per
   * ClientToken, even when retries arrive concurrently. Returns the reservation's instances.
   */
  async run(input: RunInput): Promise<InstanceRecord[]> {
    return idempotent(
      {
        catalog: this.#ctx.images.catalog,
        locks: this.#ctx.quotas.locks,
        scope: this.region,
        ownerId: input.ownerId,
        token: input.clientToken,
        action: "RunInstances",
        request: input.request ?? null,
        mismatch: () =>
          new StrataError(
            "IdempotentParameterMismatch",
            `Client token '${input.clientToken}' was already used with different parameters`,
          ),
      },
      (reservationId) => this.reservation(reservationId),
      async () => {
        const records = await launchInstances(this.#ctx, input);
        return { resourceId: records[0].reservationId, result: records };
      },
    );
  }

  /** The instances of one reservation. */
  async reservation(reservationId: string): Promise<InstanceRecord[]> {
    return (await this.store.listInstances()).filter((i) => i.reservationId === reservationId);
  }

  // Queries

  async get(id: string): Promise<InstanceRecord | undefined> {
    return this.store.getInstance(id);
  }

  /** The account's instance; another account's is answered as one that does not exist. */
  async owned(accountId: string, id: string): Promise<InstanceRecord> {
    const i = await this.store.getInstance(checkId("instance", id));
    if (!i || i.ownerId !== accountId) throw notFound("instance", id);
    return i;
  }

  /** The account's instances (each must be its own), in the order given. */
  async ownedAll(accountId: string, ids: string[]): Promise<InstanceRecord[]> {
    const out: InstanceRecord[] = [];
    for (const id of ids) out.push(await this.owned(accountId, id));
    return out;
  }

  /** A Describe call's instances: those it names (each the account's own), else all the account's. */
  described(accountId: string, ids: string[] | undefined): Promise<InstanceRecord[]> {
    return ids?.length ? this.ownedAll(accountId, ids) : this.listOwned(accountId);
  }

  /** The account's instances, terminated ones for an hour after termination. */
  async listOwned(accountId: string): Promise<InstanceRecord[]> {
    return (await this.list()).filter((i) => i.ownerId === accountId);
  }

  /** Every instance, terminated ones for an hour after termination (as EC2 lists them). */
  async list(): Promise<InstanceRecord[]> {
    const cutoff = new Date(Date.now() - 3_600_000).toISOString();
    return (await this.store.listInstances()).filter((i) => !i.terminatedAt || i.terminatedAt > cutoff);
  }

  /**
   * DescribeInstanceStatus' reachability: the booted guest has talked to its metadata service
   * (known here at once for this host's instances, through the record for other hosts').
   */
  guestReachable(r: InstanceRecord): boolean {
    const elsewhere = r.host !== undefined && r.host !== this.#ctx.hosts.id;
    return elsewhere ? r.state === "running" && r.guestSeenAt !== undefined : this.#vms.guestReachable(r.id);
  }

  attachments(id: string): Promise<VolumeAttachmentRecord[]> {
    return this.store.attachments(id);
  }

  /** The last 64 KiB of the serial console, as GetConsoleOutput returns it. */
  async consoleOutput(id: string): Promise<{ output: Buffer; timestamp: Date }> {
    await this.#here([id]);
    const path = consoleLogPath(this.#ctx.host(), id);
    const f = await open(path, "r").catch(() => undefined);
    if (!f) return { output: Buffer.alloc(0), timestamp: new Date() };
    try {
      const { size, mtime } = await f.stat();
      const start = Math.max(0, size - CONSOLE_TAIL);
      const buf = Buffer.alloc(size - start);
      await f.read(buf, 0, buf.length, start);
      return { output: buf, timestamp: mtime };
    } finally {
      await f.close();
    }
  }

  // Lifecycle

  async start(ids: string[]): Promise<StateChange[]> {
    await this.#here(ids);
    return startInstances(this.#vms, ids, (r, type, started) =>
      this.#ctx.quotas.start(r.ownerId, type, this.#ctx.host(), started),
    );
  }

  async stop(ids: string[], force: boolean): Promise<StateChange[]> {
    await this.#here(ids);
    return stopInstances(this.#vms, ids, force);
  }

  async terminate(ids: string[]): Promise<StateChange[]> {
    await this.#here(ids);
    return terminateInstances(this.#vms, ids);
  }

  /** RebootInstances: a clean restart of the guest; the instance stays `running`. */
  async reboot(ids: string[]): Promise<void> {
    await this.#here(ids);
    return rebootInstances(this.#vms, ids);
  }

  /** CreateImage of the account's instance (see instance-image.ts). */
  async createImage(accountId: string, id: string, input: CreateImageInput): Promise<ImageRecord> {
    await this.#here([(await this.owned(accountId, id)).id]);
    return createInstanceImage(this.#ctx, accountId, id, input);
  }

  /**
   * ModifyInstanceAttribute: the type and user data only while stopped (as on EC2); shutdown
   * behaviour and DeleteOnTermination at any time.
   */
  async modify(
    id: string,
    change: {
      instanceType?: string;
      userData?: string | null;
      shutdownBehavior?: "stop" | "terminate";
      deleteOnTermination?: { device: string; value: boolean }[];
    },
  ): Promise<void> {
    await this.#here([id]);
    await this.#vms.withLock(id, async () => {
      const r = await this.#vms.record(id);
      if ((change.instanceType !== undefined || change.userData !== undefined) && r.state !== "stopped") {
        throw new StrataError(
          "IncorrectInstanceState",
          `The instance '${id}' is not in the 'stopped' state.`,
        );
      }
      if (change.instanceType !== undefined)
        checkArchitecture(runnableType(change.instanceType), r.architecture);
      const attachments = await this.store.attachments(id);
      for (const d of change.deleteOnTermination ?? []) {
        if (!attachments.some((a) => a.device === d.device)) {
          throw new StrataError("InvalidParameterValue", `The instance has no volume at ${d.device}`);
        }
      }
      for (const d of change.deleteOnTermination ?? []) {
        await this.store.setDeleteOnTermination(
          attachments.find((a) => a.device === d.device)!.volumeId,
          d.value,
        );
      }
      if (change.instanceType !== undefined) r.instanceType = change.instanceType;
      if (change.userData !== undefined) r.userData = change.userData;
      if (change.shutdownBehavior !== undefined) r.shutdownBehavior = change.shutdownBehavior;
      await this.store.updateInstance(r);
    });
  }

  // Volumes

  /**
   * AttachVolume. A volume on another host of the zone moves to the instance's host first: the
   * call goes to the volume's host, which snapshots it into the pack store and hands it over,
   * then to the instance's host, which restores it lazily and attaches it.
   */
  async attachVolume(id: string, volumeId: string, device: string): Promise<VolumeAttachmentRecord> {
    await this.#ctx.volumes.ensureHere(volumeId);
    const instance = await this.#vms.record(id);
    const where = await this.#ctx.hosts.locate(instance.host);
    if (where !== "here" && where.state === "alive") {
      await moveVolume(this.#ctx, volumeId, where.id);
      throw new OnAnotherHost(`The instance ${id}`, where.id, where.url);
    }
    await this.#here([id]);
    return attachVolume(this.#ctx, id, volumeId, device);
  }

  async detachVolume(volumeId: string, force: boolean): Promise<VolumeAttachmentRecord> {
    const attached = (await this.#ctx.volumes.get(volumeId)).attachment?.instanceId;
    if (attached) await this.#here([attached]);
    return detachVolume(this.#ctx, volumeId, force);
  }

  /**
   * Calls about instances go to the host that runs them: nothing to do when all are here,
   * OnAnotherHost when all are on one other host (the endpoint forwards the call). EC2 takes any
   * mix of ids; Strata refuses a mix of hosts rather than half-doing it.
   */
  /**
   * Goes on when every instance is this host's (taking over those of a lost host of its zone);
   * else throws OnAnotherHost (all on one other host: the call is forwarded there) or
   * OnSeveralHosts (the EC2 endpoint splits the call per host). Nothing is changed before.
   */
  async #here(ids: string[]): Promise<void> {
    const records = await Promise.all(ids.map((id) => this.store.getInstance(id)));
    const local: string[] = [];
    const adopt: { id: string; lost: string }[] = [];
    const elsewhere = new Map<string, { forward: OnAnotherHost; group: HostGroup }>();
    for (const [i, r] of records.entries()) {
      try {
        const where =
          r && (await this.#ctx.hosts.assertHere(`The instance ${r.id}`, r.host, r.availabilityZone));
        if (r && where === "adopt") adopt.push({ id: r.id, lost: r.host as string });
        local.push(ids[i]);
      } catch (e) {
        if (!(e instanceof OnAnotherHost)) throw e;
        const other = elsewhere.get(e.hostId) ?? {
          forward: e,
          group: { hostId: e.hostId, url: e.url, ids: [] },
        };
        other.group.ids.push(ids[i]);
        elsewhere.set(e.hostId, other);
      }
    }
    const remote = [...elsewhere.values()];
    if (remote.length === 1 && local.length === 0) throw remote[0].forward;
    if (remote.length > 0)
      throw new OnSeveralHosts(
        local,
        remote.map((o) => o.group),
      );
    for (const a of adopt) await this.#adopt(a.id, a.lost);
  }

  /**
   * An instance of a lost host is taken over by this one: recorded stopped (if the survivors have
   * not yet), then its volumes restored here from their last snapshots (see VolumeService.adopt).
   */
  async #adopt(id: string, lost: string): Promise<void> {
    await recordHostLost(this.#vms, lost);
    await this.#vms.withLock(id, async () => {
      const r = await this.#vms.record(id);
      if (r.host !== lost) return;
      for (const a of await this.store.attachments(id)) {
        const v = await this.#ctx.volumes.get(a.volumeId);
        if (v.host === lost) await this.#ctx.volumes.adopt(v.id, lost);
      }
      r.host = this.#ctx.hosts.id;
      await this.store.updateInstance(r);
    });
  }

  // Start-up and shut-down

  /** After a daemon restart: VMs died with the old daemon (parent-death signal); record that. */
  recover(claimAll: boolean): Promise<void> {
    return this.#vms.recover(this.#ctx.hosts.id, claimAll);
  }

  /** This host was marked lost by another: its VMs are powered off, records left as they are. */
  fence(): Promise<void> {
    return this.#vms.fence();
  }

  /** Another host is lost: its active instances are recorded stopped. */
  hostLost(hostId: string): Promise<void> {
    return recordHostLost(this.#vms, hostId);
  }

  /** Daemon shutdown: guests get a short clean shutdown, then the records say stopped. */
  close(): Promise<void> {
    return this.#vms.close();
  }
}
