// The state machine of one region's instances: a VM per running instance (started by the
// VmDriver, connected by the NetworkAttachment), its share of the host held while it runs, and
// every state change recorded before and after each step under the instance's lock, so a daemon
// restart finds a consistent state.
import { type InstanceTypeInfo, instanceType } from "../../compute/instance-types.ts";
import { StrataError } from "../../errors.ts";
import type {
  InstanceRecord,
  InstanceStateName,
  InstanceStore,
  VolumeAttachmentRecord,
} from "../../storage/metadata/instance-store.ts";
import type { MetadataStore } from "../../storage/metadata/metadata-store.ts";
import { KeyedLock } from "../../util/keyed-lock.ts";
import type { VolumeService } from "../volumes/volume-service.ts";
import { disk, ec2Time, instanceMetadata, killIfOurs } from "./instance-identity.ts";
import { type NetworkAttachment, userModeNetwork } from "./network-attachment.ts";
import type { RunningVm, VmDriver } from "./vm-driver.ts";

export interface StateChange {
  instanceId: string;
  previous: InstanceStateName;
  current: InstanceStateName;
}

/** What termination needs of the volume and snapshot services: DeleteOnTermination volumes go. */
export interface SupervisorDeps {
  volumes: Pick<VolumeService, "delete">;
  snapshots: { meta: Pick<MetadataStore, "pendingSnapshots"> };
}

export const ACTIVE: InstanceStateName[] = ["pending", "running", "stopping", "shutting-down"];

export class VmSupervisor {
  readonly region: string;
  readonly store: InstanceStore;
  readonly #deps: SupervisorDeps;
  readonly #driver: VmDriver;
  readonly #network: NetworkAttachment;
  /** Running VMs; one taken out of here before it stops is one whose exit the daemon asked for. */
  readonly #runtimes = new Map<string, RunningVm>();
  /** Running instances' volumes, for their metadata (kept current across hot-plug). */
  readonly #devices = new Map<string, VolumeAttachmentRecord[]>();
  /** Instances whose guest has asked the metadata service something since it booted. */
  readonly #guestSeen = new Set<string>();
  /** The host room (and quota share) each instance holds while it runs. */
  readonly #reservations = new Map<string, () => void>();
  /** VMs in a clean shutdown: a forced stop meanwhile powers them off at once. */
  readonly #stopping = new Map<string, RunningVm>();
  readonly #locks = new KeyedLock();
  /** Background transitions, awaited on close. */
  readonly #tasks = new Set<Promise<void>>();

  constructor(
    region: string,
    store: InstanceStore,
    deps: SupervisorDeps,
    driver: VmDriver,
    network: NetworkAttachment = userModeNetwork,
  ) {
    this.region = region;
    this.store = store;
    this.#deps = deps;
    this.#driver = driver;
    this.#network = network;
  }

  /** Runs fn holding the instance's lock (one state change at a time per instance). */
  withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.#locks.with(id, fn);
  }

  /** A new instance's first boot, in the background; it holds the reservation until its VM stops. */
  launch(id: string, reservation: () => void): void {
    this.hold(id, reservation);
    this.background(id, () => this.withLock(id, () => this.boot(id, true)));
  }

  /** The instance now holds this reservation of the host (released when its VM stops). */
  hold(id: string, release: () => void): void {
    this.#reservations.set(id, release);
  }

  /** EC2: a forced stop of an instance already stopping cuts its clean shutdown short. */
  cutShutdownShort(id: string): void {
    void this.#stopping.get(id)?.kill();
  }

  /** The instance's VM while it runs (hot-plug goes to it). */
  runtime(id: string): RunningVm | undefined {
    return this.#runtimes.get(id);
  }

  /** A running guest's metadata follows its attached volumes. */
  async refreshDevices(id: string): Promise<void> {
    if (this.#devices.has(id)) this.#devices.set(id, await this.store.attachments(id));
  }

  /** DescribeInstanceStatus' reachability: the booted guest has talked to its metadata service. */
  guestReachable(id: string): boolean {
    return this.#guestSeen.has(id);
  }

  /** Powers the VM off if it runs, detaches every volume (deleting DeleteOnTermination ones). */
  async finishTermination(
    id: string,
    reason: string,
    stateReason: InstanceRecord["stateReason"],
  ): Promise<void> {
    await this.shutdown(id, false);
    for (const a of await this.store.attachments(id)) {
      await this.store.detachVolume(a.volumeId);
      if (!a.deleteOnTermination) continue;
      // A pending snapshot of it (CreateImage with NoReboot, say) must complete before it can go.
      for (let i = 0; i < 1200; i++) {
        const pending = (await this.#deps.snapshots.meta.pendingSnapshots()).some(
          (p) => p.volumeId === a.volumeId,
        );
        if (!pending) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      await this.#deps.volumes
        .delete(a.volumeId)
        .catch((e: Error) => console.error(`terminate ${id}: ${e.message}`));
    }
    const now = await this.record(id);
    now.terminatedAt = new Date().toISOString();
    now.pid = null;
    await this.setState(now, "terminated", reason, stateReason);
  }

  /**
   * After a daemon restart: VMs died with the old daemon (parent-death signal); record that for
   * this host's instances (`hostId`), and make instances recorded before hosts were this host's
   * (with `claimAll`, as on a database only this host uses, every instance).
   */
  async recover(hostId: string, claimAll: boolean): Promise<void> {
    for (const r of await this.store.listInstances()) {
      if (r.host !== hostId && (claimAll || !r.host)) {
        r.host = hostId;
        await this.store.updateInstance(r);
      }
      if (r.host !== hostId || !ACTIVE.includes(r.state)) continue;
      if (r.pid) killIfOurs(r.pid, r.id);
      r.pid = null;
      await this.#unplugNic(r.id);
      if (r.state === "shutting-down") {
        const reason = r.stateTransitionReason || `User initiated (${ec2Time()})`;
        this.background(r.id, () =>
          this.withLock(r.id, () => this.finishTermination(r.id, reason, r.stateReason)),
        );
        continue;
      }
      await this.setState(r, "stopped", `Server.InternalError: the Strata daemon restarted (${ec2Time()})`, {
        code: "Server.InternalError",
        message: "Server.InternalError: the Strata daemon restarted while the instance ran",
      });
    }
  }

  /**
   * Another host marked this one lost, so it has recorded these instances stopped (and may start
   * them elsewhere): every VM is powered off at once, and no record is written.
   */
  async fence(): Promise<void> {
    const vms = [...this.#runtimes.entries()];
    this.#runtimes.clear();
    for (const [id, vm] of vms) {
      await vm.shutdown(true, 0).catch(() => {});
      await this.#unplugNic(id);
      this.#guestSeen.delete(id);
      this.#devices.delete(id);
      this.#reservations.get(id)?.();
      this.#reservations.delete(id);
    }
  }

  /** Daemon shutdown: guests get a short clean shutdown, then the records say stopped. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#tasks]);
    await Promise.all(
      [...this.#runtimes.keys()].map(async (id) => {
        await this.shutdown(id, false, false, 15_000);
        const r = await this.store.getInstance(id);
        if (r) {
          await this.setState(
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

  async record(id: string): Promise<InstanceRecord> {
    const r = await this.store.getInstance(id);
    if (!r) throw new StrataError("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
    return r;
  }

  async setState(
    r: InstanceRecord,
    state: InstanceStateName,
    reason: string,
    stateReason: InstanceRecord["stateReason"] = null,
  ): Promise<void> {
    r.state = state;
    r.stateTransitionReason = reason;
    r.stateReason = stateReason;
    await this.store.updateInstance(r);
    const hook =
      state === "stopped"
        ? this.#network.stopped
        : state === "terminated"
          ? this.#network.terminated
          : undefined;
    await hook
      ?.call(this.#network, r.id)
      .catch((e: Error) => console.error(`instance ${r.id}: network on ${state}: ${e.message}`));
  }

  /**
   * Validates every instance first (no partial change), moves each to `via` under its lock and
   * finishes in the background; `finish` runs only if the state is still `via` by then.
   */
  async transition(
    ids: string[],
    via: "stopping" | "shutting-down",
    finish: (r: InstanceRecord) => Promise<void>,
  ): Promise<StateChange[]> {
    const cannotStop = (r: InstanceRecord) =>
      via === "stopping" && (r.state === "terminated" || r.state === "shutting-down");
    for (const r of await Promise.all(ids.map((id) => this.record(id)))) {
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
        await this.withLock(id, async () => {
          const r = await this.record(id);
          const previous = r.state;
          if (cannotStop(r)) {
            throw new StrataError(
              "IncorrectInstanceState",
              `This instance '${id}' is not in a state from which it can be stopped.`,
            );
          }
          const done = via === "stopping" ? ["stopped", "stopping"] : ["terminated", "shutting-down"];
          if (done.includes(r.state)) return { instanceId: id, previous, current: r.state };
          await this.setState(r, via, r.stateTransitionReason, r.stateReason);
          this.background(id, () => this.#finishUnder(id, via, finish));
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
    return this.withLock(id, async () => {
      const r = await this.record(id);
      if (r.state === via) await finish(r);
    });
  }

  background(id: string, fn: () => Promise<void>): void {
    const task = fn()
      .catch((e: Error) => console.error(`instance ${id}: ${e.stack ?? e.message}`))
      .finally(() => this.#tasks.delete(task));
    this.#tasks.add(task);
  }

  /** Starts the VM: the record becomes running, or stopped with the reason if the VM cannot start. */
  async boot(id: string, firstBoot = false): Promise<void> {
    const r = await this.record(id);
    // Stopped or terminated before its VM could start (the caller holds the instance's lock).
    if (r.state !== "pending" && r.state !== "running") {
      this.#reservations.get(id)?.();
      this.#reservations.delete(id);
      return;
    }
    const type = instanceType(r.instanceType) as InstanceTypeInfo;
    let vm: RunningVm | undefined;
    try {
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
      const nic = await this.#network.plug(r);
      vm = await this.#driver.boot({
        record: r,
        type,
        region: this.region,
        disks,
        nic,
        metadata: () => {
          this.#guestSeen.add(id);
          return {
            ...instanceMetadata(r, this.region, this.#devices.get(id) ?? attachments),
            ...nic.metadata,
          };
        },
      });
      this.#runtimes.set(id, vm);
      r.pid = vm.pid;
      r.sshPort = vm.sshPort;
      await this.setState(r, "running", "");
      const booted = vm;
      void booted.exited.then(() => this.#onExit(id, booted));
    } catch (e) {
      if (vm) {
        // Booted, but its state could not be recorded: it must not run unaccounted for.
        this.#runtimes.delete(id);
        await vm.shutdown(true, 0).catch(() => {});
      }
      this.#devices.delete(id);
      this.#guestSeen.delete(id);
      await this.#unplugNic(id);
      this.#reservations.get(id)?.();
      this.#reservations.delete(id);
      const message = `Server.InternalError: ${(e as Error).message}`.slice(0, 500);
      r.pid = null;
      // A launch that never ran ends terminated, as on EC2 (waiters fail fast on it); a start, stopped.
      if (firstBoot) {
        await this.setState(r, "shutting-down", message, { code: "Server.InternalError", message });
        await this.finishTermination(id, message, { code: "Server.InternalError", message });
      } else {
        await this.setState(r, "stopped", message, { code: "Server.InternalError", message });
      }
      throw e;
    }
  }

  /** The guest powered itself off (or QEMU died): EC2's default shutdown behaviour is stop. */
  async #onExit(id: string, vm: RunningVm): Promise<void> {
    if (this.#runtimes.get(id) !== vm) return;
    await this.withLock(id, async () => {
      if (this.#runtimes.get(id) !== vm) return;
      this.#runtimes.delete(id);
      await vm.release();
      await this.#unplugNic(id);
      this.#guestSeen.delete(id);
      this.#devices.delete(id);
      this.#reservations.get(id)?.();
      this.#reservations.delete(id);
      const r = await this.record(id);
      r.pid = null;
      const reason = `Client.InstanceInitiatedShutdown: Instance initiated shutdown (${ec2Time()})`;
      const stateReason = {
        code: "Client.InstanceInitiatedShutdown",
        message: "Client.InstanceInitiatedShutdown: Instance initiated shutdown",
      };
      if (r.shutdownBehavior === "terminate") {
        await this.setState(r, "shutting-down", reason, stateReason);
        await this.finishTermination(id, reason, stateReason);
      } else {
        await this.setState(r, "stopped", reason, stateReason);
      }
    });
  }

  /** Stops the VM if it runs; `keepReservation` for a restart (reboot, CreateImage). */
  async shutdown(id: string, force: boolean, keepReservation = false, timeoutMs?: number): Promise<void> {
    const rt = this.#runtimes.get(id);
    this.#guestSeen.delete(id);
    this.#devices.delete(id);
    if (rt) {
      this.#runtimes.delete(id);
      this.#stopping.set(id, rt);
      try {
        await rt.shutdown(force, timeoutMs ?? this.#driver.stopTimeoutMs);
      } finally {
        this.#stopping.delete(id);
        await this.#unplugNic(id);
      }
      const r = await this.record(id);
      r.pid = null;
      await this.store.updateInstance(r);
    }
    if (!keepReservation) {
      this.#reservations.get(id)?.();
      this.#reservations.delete(id);
    }
  }

  /** The VM is gone: its NIC goes back (a failure is logged; the state change goes on). */
  async #unplugNic(id: string): Promise<void> {
    await this.#network.unplug(id).catch((e: Error) => console.error(`instance ${id}: unplug: ${e.message}`));
  }
}
