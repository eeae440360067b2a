import { open } from "node:fs/promises";
import { type InstanceTypeInfo, instanceType } from "../../compute/instance-types.ts";
import { StrataError } from "../../errors.ts";
import { newId } from "../../ids.ts";
import type { BlockDeviceMappingRecord, ImageRecord, Tag } from "../../storage/metadata/catalog-store.ts";
import type {
  InstanceRecord,
  InstanceStateName,
  InstanceStore,
  VolumeAttachmentRecord,
} from "../../storage/metadata/instance-store.ts";
import { crashPoint } from "../../util/crash-points.ts";
import { KeyedLock } from "../../util/keyed-lock.ts";
import { idempotent } from "../access/idempotency.ts";
import { checkId, notFound } from "../access/resource-ids.ts";
import { checkDeviceName } from "../images/device-names.ts";
import { checkName, type ImageService } from "../images/image-service.ts";
import type { KeyPairService } from "../key-pairs/key-pair-service.ts";
import { checkDescription, type SnapshotService } from "../snapshots/snapshot-service.ts";
import { validateTags } from "../tags/tag-rules.ts";
import { checkAvailabilityZone, VOLUME_TYPES, type VolumeService } from "../volumes/volume-service.ts";
import { type ComputeHost, insufficientCapacity } from "./compute-host.ts";
import { disk, ec2Time, instanceMetadata, killIfOurs, macFor, privateIpFor } from "./instance-identity.ts";
import { consoleLogPath, InstanceRuntime } from "./instance-runtime.ts";
import { planVolumes } from "./launch-plan.ts";

export interface RunInput {
  ownerId: string;
  imageId: string;
  instanceType: string;
  minCount: number;
  maxCount: number;
  /** Base64, as the API carries it (already checked). */
  userData: string | null;
  keyName: string | null;
  availabilityZone: string;
  blockDeviceMappings: BlockDeviceMappingRecord[];
  clientToken: string | null;
  shutdownBehavior: "stop" | "terminate";
  /** TagSpecifications, written with the instances and with their volumes. */
  tags?: { instance: Tag[]; volume: Tag[] };
  /** The request's parameters, which a retry with the same ClientToken must repeat. */
  request?: unknown;
}

export interface StateChange {
  instanceId: string;
  previous: InstanceStateName;
  current: InstanceStateName;
}

/** Where the base image comes from when the accelerator must be probed. */
export type ProbeDisk = () => Promise<{ path: string; marker: string }>;

const CONSOLE_TAIL = 64 * 1024;
const ACTIVE: InstanceStateName[] = ["pending", "running", "stopping", "shutting-down"];

/**
 * One region's instances. Every instance is a QEMU process supervised here; state changes are
 * recorded before and after each step so a daemon restart finds a consistent state.
 */
export class InstanceService {
  readonly region: string;
  readonly store: InstanceStore;
  readonly #volumes: VolumeService;
  readonly #snapshots: SnapshotService;
  readonly #images: ImageService;
  readonly #keyPairs: KeyPairService;
  readonly #host: () => ComputeHost;
  readonly #probeDisk: ProbeDisk;
  readonly #runtimes = new Map<string, InstanceRuntime>();
  /** Running instances' volumes, for their metadata (kept current across hot-plug). */
  readonly #devices = new Map<string, VolumeAttachmentRecord[]>();
  /** Instances whose guest has asked the metadata service something since it booted. */
  readonly #guestSeen = new Set<string>();
  readonly #reservations = new Map<string, () => void>();
  /** VMs in a clean shutdown: a forced stop meanwhile powers them off at once. */
  readonly #stopping = new Map<string, InstanceRuntime>();
  readonly #locks = new KeyedLock();
  /** Background transitions, awaited on close. */
  readonly #tasks = new Set<Promise<void>>();

  constructor(
    region: string,
    store: InstanceStore,
    services: {
      volumes: VolumeService;
      snapshots: SnapshotService;
      images: ImageService;
      keyPairs: KeyPairService;
    },
    host: () => ComputeHost,
    probeDisk: ProbeDisk,
  ) {
    this.region = region;
    this.store = store;
    this.#volumes = services.volumes;
    this.#snapshots = services.snapshots;
    this.#images = services.images;
    this.#keyPairs = services.keyPairs;
    this.#host = host;
    this.#probeDisk = probeDisk;
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
        catalog: this.#images.catalog,
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
        const records = await this.#launch(input);
        return { resourceId: records[0].reservationId, result: records };
      },
    );
  }

  /** The instances of one reservation. */
  async reservation(reservationId: string): Promise<InstanceRecord[]> {
    return (await this.store.listInstances()).filter((i) => i.reservationId === reservationId);
  }

  async #launch(input: RunInput): Promise<InstanceRecord[]> {
    const type = instanceType(input.instanceType);
    if (!type)
      throw new StrataError(
        "InvalidInstanceType",
        `The instance type '${input.instanceType}' does not exist`,
      );
    const image = await this.#images.visible(input.ownerId, input.imageId);
    const publicKey =
      input.keyName === null ? null : (await this.#keyPairs.byName(input.ownerId, input.keyName)).publicKey;
    checkAvailabilityZone(this.region, input.availabilityZone);
    if (image.state !== "available") {
      throw new StrataError("InvalidAMIID.Unavailable", `Image ${image.id} is ${image.state}, not available`);
    }
    const tags = input.tags ?? { instance: [], volume: [] };
    validateTags(tags.instance);
    validateTags(tags.volume);
    const plan = planVolumes(image, input.blockDeviceMappings);
    const imageSnapshots = new Set(image.blockDeviceMappings.map((m) => m.ebs?.snapshotId));
    for (const p of plan) {
      if (!VOLUME_TYPES.includes(p.volumeType)) {
        throw new StrataError("InvalidParameterValue", `Invalid value '${p.volumeType}' for VolumeType`);
      }
      if (p.snapshotId) {
        // The image's own snapshots come with its launch permission; others must be visible.
        const snap = imageSnapshots.has(p.snapshotId)
          ? await this.#snapshots.get(p.snapshotId)
          : await this.#snapshots.visible(input.ownerId, p.snapshotId);
        if (p.sizeGiB !== undefined && p.sizeGiB < snap.volumeSizeGiB) {
          throw new StrataError(
            "InvalidBlockDeviceMapping",
            `Volume of size ${p.sizeGiB}GB is smaller than snapshot '${snap.id}', expect size >= ${snap.volumeSizeGiB}GB`,
          );
        }
      }
    }
    const host = this.#host();
    const count = host.fits(type, input.maxCount);
    if (count < input.minCount) throw insufficientCapacity(host, type, input.minCount);
    // Reserved before anything is created, so a concurrent launch cannot take the room meanwhile.
    const releases = Array.from({ length: count }, () => host.reserve(type));
    const reservationId = newId("r");
    const now = new Date().toISOString();
    const records: InstanceRecord[] = [];
    const attachments: VolumeAttachmentRecord[] = [];
    const created: string[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const id = newId("i");
        const ip = privateIpFor(id);
        records.push({
          id,
          ownerId: input.ownerId,
          reservationId,
          imageId: image.id,
          instanceType: type.name,
          state: "pending",
          stateTransitionReason: "",
          stateReason: { code: "pending", message: "pending" },
          keyName: input.keyName,
          launchIndex: i,
          launchedAt: now,
          availabilityZone: input.availabilityZone,
          userData: input.userData,
          rootDeviceName: image.rootDeviceName,
          architecture: image.architecture,
          clientToken: input.clientToken,
          mac: macFor(id),
          privateIp: ip,
          sshPort: 0,
          pid: null,
          terminatedAt: null,
          publicKey,
          shutdownBehavior: input.shutdownBehavior,
        });
        for (const p of plan) {
          const v = await this.#volumes.create({
            ownerId: input.ownerId,
            snapshotId: p.snapshotId ?? undefined,
            sizeGiB: p.sizeGiB,
            availabilityZone: input.availabilityZone,
            volumeType: p.volumeType,
            tags: tags.volume,
            grantedByImage: p.snapshotId !== null && imageSnapshots.has(p.snapshotId),
          });
          created.push(v.id);
          attachments.push({
            volumeId: v.id,
            instanceId: id,
            device: p.deviceName,
            attachedAt: now,
            deleteOnTermination: p.deleteOnTermination,
          });
        }
      }
      await this.store.insertInstances(records, attachments, tags.instance);
    } catch (e) {
      // Nothing half-made stays behind: the volumes made so far go again.
      for (const v of created) await this.#volumes.delete(v).catch(() => {});
      for (const release of releases) release();
      throw e;
    }
    for (const [k, r] of records.entries()) {
      this.#reservations.set(r.id, releases[k]);
      this.#background(r.id, () => this.#locks.with(r.id, () => this.#boot(r.id, true)));
    }
    await this.#images.markLaunched(image.id);
    return records;
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
    return this.#guestSeen.has(id);
  }

  attachments(id: string): Promise<VolumeAttachmentRecord[]> {
    return this.store.attachments(id);
  }

  /** The last 64 KiB of the serial console, as GetConsoleOutput returns it. */
  async consoleOutput(id: string): Promise<{ output: Buffer; timestamp: Date }> {
    const path = consoleLogPath(this.#host(), id);
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
    for (const id of ids) {
      const r = await this.#record(id);
      if (!["stopped", "pending", "running"].includes(r.state)) {
        throw new StrataError(
          "IncorrectInstanceState",
          `The instance '${id}' is not in a state from which it can be started.`,
        );
      }
      if (
        r.state === "stopped" &&
        !(await this.store.attachments(id)).some((a) => a.device === r.rootDeviceName)
      ) {
        throw new StrataError(
          "IncorrectInstanceState",
          `The instance '${id}' has no root volume attached at ${r.rootDeviceName}.`,
        );
      }
    }
    const out: StateChange[] = [];
    for (const id of ids) {
      out.push(
        await this.#locks.with(id, async () => {
          const r = await this.#record(id);
          if (r.state === "running" || r.state === "pending")
            return { instanceId: id, previous: r.state, current: r.state };
          if (r.state !== "stopped") {
            throw new StrataError(
              "IncorrectInstanceState",
              `The instance '${id}' is not in a state from which it can be started.`,
            );
          }
          const type = instanceType(r.instanceType)!;
          this.#reservations.set(id, this.#host().reserve(type));
          await this.#setState(r, "pending", "");
          this.#background(id, () => this.#locks.with(id, () => this.#boot(id, false)));
          return { instanceId: id, previous: "stopped", current: "pending" };
        }),
      );
    }
    return out;
  }

  async stop(ids: string[], force: boolean): Promise<StateChange[]> {
    // EC2: a forced stop of an instance already stopping cuts its shutdown short.
    if (force) for (const id of ids) void this.#stopping.get(id)?.vm.kill();
    return this.#transition(ids, "stopping", async (r) => {
      await this.#shutdown(r.id, force);
      await this.#setState(await this.#record(r.id), "stopped", `User initiated (${ec2Time()})`, {
        code: "Client.UserInitiatedShutdown",
        message: "Client.UserInitiatedShutdown: User initiated shutdown",
      });
    });
  }

  async terminate(ids: string[]): Promise<StateChange[]> {
    return this.#transition(ids, "shutting-down", (r) =>
      this.#finishTermination(r.id, `User initiated (${ec2Time()})`, {
        code: "Client.UserInitiatedShutdown",
        message: "Client.UserInitiatedShutdown: User initiated shutdown",
      }),
    );
  }

  /** Powers the VM off if it runs, detaches every volume (deleting DeleteOnTermination ones). */
  async #finishTermination(
    id: string,
    reason: string,
    stateReason: InstanceRecord["stateReason"],
  ): Promise<void> {
    await this.#shutdown(id, false);
    for (const a of await this.store.attachments(id)) {
      await this.store.detachVolume(a.volumeId);
      if (!a.deleteOnTermination) continue;
      // A pending snapshot of it (CreateImage with NoReboot, say) must complete before it can go.
      for (let i = 0; i < 1200; i++) {
        const pending = (await this.#snapshots.meta.pendingSnapshots()).some(
          (p) => p.volumeId === a.volumeId,
        );
        if (!pending) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      await this.#volumes
        .delete(a.volumeId)
        .catch((e: Error) => console.error(`terminate ${id}: ${e.message}`));
    }
    const now = await this.#record(id);
    now.terminatedAt = new Date().toISOString();
    now.pid = null;
    await this.#setState(now, "terminated", reason, stateReason);
  }

  /** RebootInstances: a clean restart of the guest; the instance stays `running`. */
  async reboot(ids: string[]): Promise<void> {
    for (const id of ids) {
      const r = await this.#record(id);
      if (r.state === "terminated") {
        throw new StrataError("IncorrectInstanceState", `The instance '${id}' is terminated.`);
      }
    }
    for (const id of ids) {
      this.#background(id, () =>
        this.#locks.with(id, async () => {
          const r = await this.#record(id);
          if (r.state !== "running") return;
          await this.#shutdown(id, false, true);
          await this.#boot(id);
        }),
      );
    }
  }

  /**
   * CreateImage: all the instance's volumes snapshotted at one point in time. Unless noReboot, a
   * running instance is shut down cleanly first and started again once the snapshots have begun
   * (copy-on-write keeps them consistent while it runs again).
   */
  async createImage(
    accountId: string,
    id: string,
    input: {
      name: string;
      description?: string;
      noReboot: boolean;
      overrides: BlockDeviceMappingRecord[];
      tags?: { image: Tag[]; snapshot: Tag[] };
    },
  ): Promise<ImageRecord> {
    await this.owned(accountId, id);
    const ownerId = accountId;
    checkName(input.name);
    if (input.description !== undefined) checkDescription(input.description);
    const tags = input.tags ?? { image: [], snapshot: [] };
    validateTags(tags.image);
    validateTags(tags.snapshot);
    return this.#locks.with(id, async () => {
      if (await this.#images.nameTaken(ownerId, input.name)) {
        throw new StrataError(
          "InvalidAMIName.Duplicate",
          `AMI name ${input.name} is already in use by an AMI`,
        );
      }
      const r = await this.#record(id);
      if (r.state !== "running" && r.state !== "stopped") {
        throw new StrataError(
          "IncorrectInstanceState",
          `The instance '${id}' is not in the 'running' or 'stopped' state.`,
        );
      }
      const imageId = newId("ami");
      const attachments = await this.store.attachments(id);
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
      const snapshotIds = new Map(kept.map((a) => [a.volumeId, newId("snap")]));
      const sizes = await Promise.all(kept.map(async (a) => (await this.#volumes.get(a.volumeId)).sizeGiB));
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
      const source = await this.#images.catalog.getImage(r.imageId);
      const restart = r.state === "running" && !input.noReboot;
      // The image is recorded (pending) before its snapshots begin: a crash in between leaves a
      // failed image, never snapshots no image owns (see registerBeforeSnapshots).
      return this.#images.registerBeforeSnapshots(
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
          if (restart) await this.#shutdown(id, false, true);
          try {
            await this.#snapshots.createMany(
              kept.map((a) => a.volumeId),
              `Created by CreateImage(${id}) for ${imageId}`,
              tags.snapshot,
              snapshotIds,
            );
          } finally {
            // A restart that fails leaves the instance stopped with the reason; the image still stands.
            if (restart) await this.#boot(id).catch(() => {});
          }
          crashPoint("image.snapshots-begun");
        },
      );
    });
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
    await this.#locks.with(id, async () => {
      const r = await this.#record(id);
      if ((change.instanceType !== undefined || change.userData !== undefined) && r.state !== "stopped") {
        throw new StrataError(
          "IncorrectInstanceState",
          `The instance '${id}' is not in the 'stopped' state.`,
        );
      }
      if (change.instanceType !== undefined && !instanceType(change.instanceType)) {
        throw new StrataError(
          "InvalidInstanceType",
          `The instance type '${change.instanceType}' does not exist`,
        );
      }
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

  async attachVolume(id: string, volumeId: string, device: string): Promise<VolumeAttachmentRecord> {
    return this.#locks.with(id, async () => {
      const r = await this.#record(id);
      if (r.state !== "running" && r.state !== "stopped") {
        throw new StrataError(
          "IncorrectInstanceState",
          `The instance '${id}' is not 'running' or 'stopped'.`,
        );
      }
      if ((await this.store.attachments(id)).some((a) => a.device === device)) {
        throw new StrataError(
          "InvalidDevice",
          `Invalid value '${device}' for unixDevice. Attachment point ${device} is already in use`,
        );
      }
      const a: VolumeAttachmentRecord = {
        volumeId,
        instanceId: id,
        device,
        attachedAt: new Date().toISOString(),
        deleteOnTermination: false,
      };
      await this.store.attachVolume(a);
      if (this.#devices.has(id)) this.#devices.set(id, await this.store.attachments(id));
      const rt = this.#runtimes.get(id);
      if (rt) {
        try {
          await rt.vm.hotplug(disk(this.region, volumeId, false), this.#host().nbdSocket);
        } catch (e) {
          await this.store.detachVolume(volumeId);
          throw e;
        }
      }
      return a;
    });
  }

  async detachVolume(volumeId: string, force: boolean): Promise<VolumeAttachmentRecord> {
    const first = (await this.store.allAttachments()).find((x) => x.volumeId === volumeId);
    if (!first) throw new StrataError("IncorrectState", `Volume '${volumeId}' is in the 'available' state.`);
    return this.#locks.with(first.instanceId, async () => {
      // Read again under the lock: a concurrent detach or terminate may have got here first.
      const a = (await this.store.allAttachments()).find((x) => x.volumeId === volumeId);
      if (!a) throw new StrataError("IncorrectState", `Volume '${volumeId}' is in the 'available' state.`);
      const r = await this.#record(a.instanceId);
      if (a.device === r.rootDeviceName && r.state !== "stopped") {
        throw new StrataError(
          "IncorrectState",
          `Unable to detach root volume '${volumeId}' from instance '${r.id}': the instance is not stopped`,
        );
      }
      const rt = this.#runtimes.get(a.instanceId);
      if (rt) {
        const released = await rt.vm.unplug(volumeId);
        if (!released && !force) {
          throw new StrataError(
            "IncorrectState",
            `The guest did not release ${a.device} (${volumeId}); unmount it and retry, or detach with Force`,
          );
        }
        // Forced: QEMU drops its NBD connection, so no write can reach the volume after detach.
        await this.#host().disconnectVolume(this.region, volumeId);
      }
      await this.store.detachVolume(volumeId);
      if (this.#devices.has(a.instanceId))
        this.#devices.set(a.instanceId, await this.store.attachments(a.instanceId));
      return a;
    });
  }

  // Start-up and shut-down

  /** After a daemon restart: VMs died with the old daemon (parent-death signal); record that. */
  async recover(): Promise<void> {
    for (const r of await this.store.listInstances()) {
      if (!ACTIVE.includes(r.state)) continue;
      if (r.pid) killIfOurs(r.pid, r.id);
      r.pid = null;
      if (r.state === "shutting-down") {
        const reason = r.stateTransitionReason || `User initiated (${ec2Time()})`;
        this.#background(r.id, () =>
          this.#locks.with(r.id, () => this.#finishTermination(r.id, reason, r.stateReason)),
        );
        continue;
      }
      await this.#setState(r, "stopped", `Server.InternalError: the Strata daemon restarted (${ec2Time()})`, {
        code: "Server.InternalError",
        message: "Server.InternalError: the Strata daemon restarted while the instance ran",
      });
    }
  }

  /** Daemon shutdown: guests get a short clean shutdown, then the records say stopped. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#tasks]);
    await Promise.all(
      [...this.#runtimes.keys()].map(async (id) => {
        await this.#shutdown(id, false, false, 15_000);
        const r = await this.store.getInstance(id);
        if (r) {
          await this.#setState(
            r,
            "stopped",
            `Server.ScheduledStop: the Strata daemon stopped (${ec2Time()})`,
            {
              code: "Server.ScheduledStop",
              message: "Server.ScheduledStop: Stopped with the Strata daemon",
            },
          );
        }
      }),
    );
  }

  // Internals

  async #record(id: string): Promise<InstanceRecord> {
    const r = await this.store.getInstance(id);
    if (!r) throw new StrataError("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
    return r;
  }

  async #setState(
    r: InstanceRecord,
    state: InstanceStateName,
    reason: string,
    stateReason: InstanceRecord["stateReason"] = null,
  ): Promise<void> {
    r.state = state;
    r.stateTransitionReason = reason;
    r.stateReason = stateReason;
    await this.store.updateInstance(r);
  }

  /**
   * Validates every instance first (no partial change), moves each to `via` under its lock and
   * finishes in the background; `finish` runs only if the state is still `via` by then.
   */
  async #transition(
    ids: string[],
    via: "stopping" | "shutting-down",
    finish: (r: InstanceRecord) => Promise<void>,
  ): Promise<StateChange[]> {
    const cannotStop = (r: InstanceRecord) =>
      via === "stopping" && (r.state === "terminated" || r.state === "shutting-down");
    for (const r of await Promise.all(ids.map((id) => this.#record(id)))) {
      if (cannotStop(r)) {
        throw new StrataError(
          "IncorrectInstanceState",
          `This instance '${r.id}' is not in a state from which it can be stopped.`,
        );
      }
    }
    const out: StateChange[] = [];
    for (const id of ids) {
      out.push(
        await this.#locks.with(id, async () => {
          const r = await this.#record(id);
          const previous = r.state;
          if (cannotStop(r)) {
            throw new StrataError(
              "IncorrectInstanceState",
              `This instance '${id}' is not in a state from which it can be stopped.`,
            );
          }
          const done = via === "stopping" ? ["stopped", "stopping"] : ["terminated", "shutting-down"];
          if (done.includes(r.state)) return { instanceId: id, previous, current: r.state };
          await this.#setState(r, via, r.stateTransitionReason, r.stateReason);
          this.#background(id, () => this.#finishUnder(id, via, finish));
          return { instanceId: id, previous, current: via };
        }),
      );
    }
    return out;
  }

  #finishUnder(
    id: string,
    via: InstanceStateName,
    finish: (r: InstanceRecord) => Promise<void>,
  ): Promise<void> {
    return this.#locks.with(id, async () => {
      const r = await this.#record(id);
      if (r.state === via) await finish(r);
    });
  }

  #background(id: string, fn: () => Promise<void>): void {
    const task = fn()
      .catch((e: Error) => console.error(`instance ${id}: ${e.stack ?? e.message}`))
      .finally(() => this.#tasks.delete(task));
    this.#tasks.add(task);
  }

  /** Starts the VM: the record becomes running, or stopped with the reason if the VM cannot start. */
  async #boot(id: string, firstBoot = false): Promise<void> {
    const r = await this.#record(id);
    // Stopped or terminated before its VM could start (the caller holds the instance's lock).
    if (r.state !== "pending" && r.state !== "running") {
      this.#reservations.get(id)?.();
      this.#reservations.delete(id);
      return;
    }
    const type = instanceType(r.instanceType) as InstanceTypeInfo;
    const host = this.#host();
    try {
      const accel = await host.accelerator(this.#probeDisk);
      const attachments = await this.store.attachments(id);
      const disks = attachments
        .sort((a, b) =>
          a.device === r.rootDeviceName
            ? -1
            : b.device === r.rootDeviceName
              ? 1
              : a.device < b.device
                ? -1
                : 1,
        )
        .map((a) => disk(this.region, a.volumeId, a.device === r.rootDeviceName));
      this.#devices.set(id, attachments);
      // A fresh SSH port per boot: one kept while stopped could be taken by then.
      r.sshPort = await host.freePort();
      const rt = await InstanceRuntime.boot(host, {
        record: r,
        type,
        accel: accel.accel,
        region: this.region,
        disks,
        metadata: () => {
          this.#guestSeen.add(id);
          return instanceMetadata(r, this.region, this.#devices.get(id) ?? attachments);
        },
      });
      this.#runtimes.set(id, rt);
      r.pid = rt.vm.pid;
      await this.#setState(r, "running", "");
      void rt.vm.exited.then(() => this.#onExit(id, rt));
    } catch (e) {
      this.#reservations.get(id)?.();
      this.#reservations.delete(id);
      const message = `Server.InternalError: ${(e as Error).message}`.slice(0, 500);
      r.pid = null;
      // A launch that never ran ends terminated, as on EC2 (waiters fail fast on it); a start, stopped.
      if (firstBoot) {
        await this.#setState(r, "shutting-down", message, { code: "Server.InternalError", message });
        await this.#finishTermination(id, message, { code: "Server.InternalError", message });
      } else {
        await this.#setState(r, "stopped", message, { code: "Server.InternalError", message });
      }
      throw e;
    }
  }

  /** The guest powered itself off (or QEMU died): EC2's default shutdown behaviour is stop. */
  async #onExit(id: string, rt: InstanceRuntime): Promise<void> {
    if (rt.expectedExit || this.#runtimes.get(id) !== rt) return;
    await this.#locks.with(id, async () => {
      if (rt.expectedExit || this.#runtimes.get(id) !== rt) return;
      rt.vm.qmp.close();
      await rt.imds.close();
      this.#runtimes.delete(id);
      this.#guestSeen.delete(id);
      this.#devices.delete(id);
      this.#reservations.get(id)?.();
      this.#reservations.delete(id);
      const r = await this.#record(id);
      r.pid = null;
      const reason = `Client.InstanceInitiatedShutdown: Instance initiated shutdown (${ec2Time()})`;
      const stateReason = {
        code: "Client.InstanceInitiatedShutdown",
        message: "Client.InstanceInitiatedShutdown: Instance initiated shutdown",
      };
      if (r.shutdownBehavior === "terminate") {
        await this.#setState(r, "shutting-down", reason, stateReason);
        await this.#finishTermination(id, reason, stateReason);
      } else {
        await this.#setState(r, "stopped", reason, stateReason);
      }
    });
  }

  /** Stops the VM if it runs; `keepReservation` for a restart (reboot, CreateImage). */
  async #shutdown(id: string, force: boolean, keepReservation = false, timeoutMs?: number): Promise<void> {
    const rt = this.#runtimes.get(id);
    this.#guestSeen.delete(id);
    this.#devices.delete(id);
    if (rt) {
      this.#runtimes.delete(id);
      this.#stopping.set(id, rt);
      try {
        await rt.shutdown(force, timeoutMs ?? this.#host().options.stopTimeoutMs);
      } finally {
        this.#stopping.delete(id);
      }
      const r = await this.#record(id);
      r.pid = null;
      await this.store.updateInstance(r);
    }
    if (!keepReservation) {
      this.#reservations.get(id)?.();
      this.#reservations.delete(id);
    }
  }
}
