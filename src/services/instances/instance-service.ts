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
import type { ImageService } from "../images/image-service.ts";
import type { KeyPairService } from "../key-pairs/key-pair-service.ts";
import type { InterfaceService } from "../network/interface-service.ts";
import { RegionQuotas } from "../quotas/region-quotas.ts";
import type { SnapshotService } from "../snapshots/snapshot-service.ts";
import type { VolumeService } from "../volumes/volume-service.ts";
import type { ComputeHost } from "./compute-host.ts";
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
    probeDisk: ProbeDisk,
    quotas = RegionQuotas.none(region),
    /** What runs the VMs (QEMU on this host unless given) and connects them (user mode unless given). */
    seams: { driver?: VmDriver; network?: NetworkAttachment } = {},
  ) {
    this.region = region;
    this.store = store;
    const driver = seams.driver ?? new QemuVmDriver(host, probeDisk);
    this.#vms = new VmSupervisor(region, store, services, driver, seams.network);
    this.#ctx = { region, store, ...services, quotas, host, vms: this.#vms };
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

  /** The account's instances, terminated ones for an hour after termination. */
  async listOwned(accountId: string): Promise<InstanceRecord[]> {
    return (await this.list()).filter((i) => i.ownerId === accountId);
  }

  /** Every instance, terminated ones for an hour after termination (as EC2 lists them). */
  async list(): Promise<InstanceRecord[]> {
    const cutoff = new Date(Date.now() - 3_600_000).toISOString();
    return (await this.store.listInstances()).filter((i) => !i.terminatedAt || i.terminatedAt > cutoff);
  }

  /** DescribeInstanceStatus' reachability: the booted guest has talked to its metadata service. */
  guestReachable(id: string): boolean {
    return this.#vms.guestReachable(id);
  }

  attachments(id: string): Promise<VolumeAttachmentRecord[]> {
    return this.store.attachments(id);
  }

  /** The last 64 KiB of the serial console, as GetConsoleOutput returns it. */
  async consoleOutput(id: string): Promise<{ output: Buffer; timestamp: Date }> {
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
    return startInstances(this.#vms, ids, (r, type, started) =>
      this.#ctx.quotas.start(r.ownerId, type, this.#ctx.host(), started),
    );
  }

  stop(ids: string[], force: boolean): Promise<StateChange[]> {
    return stopInstances(this.#vms, ids, force);
  }

  terminate(ids: string[]): Promise<StateChange[]> {
    return terminateInstances(this.#vms, ids);
  }

  /** RebootInstances: a clean restart of the guest; the instance stays `running`. */
  reboot(ids: string[]): Promise<void> {
    return rebootInstances(this.#vms, ids);
  }

  /** CreateImage of the account's instance (see instance-image.ts). */
  createImage(accountId: string, id: string, input: CreateImageInput): Promise<ImageRecord> {
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

  attachVolume(id: string, volumeId: string, device: string): Promise<VolumeAttachmentRecord> {
    return attachVolume(this.#ctx, id, volumeId, device);
  }

  detachVolume(volumeId: string, force: boolean): Promise<VolumeAttachmentRecord> {
    return detachVolume(this.#ctx, volumeId, force);
  }

  // Start-up and shut-down

  /** After a daemon restart: VMs died with the old daemon (parent-death signal); record that. */
  recover(): Promise<void> {
    return this.#vms.recover();
  }

  /** Daemon shutdown: guests get a short clean shutdown, then the records say stopped. */
  close(): Promise<void> {
    return this.#vms.close();
  }
}
