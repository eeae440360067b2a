// The state machine of one region's instances: a VM per running instance (started by the
// VmDriver, connected by the NetworkAttachment), its share of the host held while it runs, and
// every state change recorded before and after each step under the instance's lock, so a daemon
// restart finds a consistent state. The steps live beside it: vm-power.ts (boot, exit, stop),
// state-transitions.ts (state changes, termination), vm-recovery.ts (restart, fencing, close).
import { StrataError } from "../../errors.ts";
import type {
  InstanceRecord,
  InstanceStateName,
  InstanceStore,
} from "../../storage/metadata/instance-store.ts";
import { KeyedLock } from "../../util/keyed-lock.ts";
import { type NetworkAttachment, userModeNetwork } from "./network-attachment.ts";
import { finishTermination, type StateChange, setState, transition } from "./state-transitions.ts";
import { RunningVms, type SupervisorDeps, type SupervisorParts } from "./supervisor-state.ts";
import type { RunningVm, VmDriver } from "./vm-driver.ts";
import { bootVm, shutdownVm } from "./vm-power.ts";
import { fenceVms, recoverInstances, stopAllVms } from "./vm-recovery.ts";

export type { StateChange } from "./state-transitions.ts";
export { ACTIVE, type SupervisorDeps } from "./supervisor-state.ts";

export class VmSupervisor {
  readonly region: string;
  readonly store: InstanceStore;
  readonly #parts: SupervisorParts;
  readonly #vms = new RunningVms();
  readonly #locks = new KeyedLock();

  constructor(
    region: string,
    store: InstanceStore,
    deps: SupervisorDeps,
    driver: VmDriver,
    network: NetworkAttachment = userModeNetwork,
  ) {
    this.region = region;
    this.store = store;
    this.#parts = { region, store, deps, driver, network, vms: this.#vms };
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
    this.#vms.reservations.set(id, release);
  }

  /** EC2: a forced stop of an instance already stopping cuts its clean shutdown short. */
  cutShutdownShort(id: string): void {
    void this.#vms.stopping.get(id)?.kill();
  }

  /** The instance's VM while it runs (hot-plug goes to it). */
  runtime(id: string): RunningVm | undefined {
    return this.#vms.runtimes.get(id);
  }

  /** A running guest's metadata follows its attached volumes. */
  async refreshDevices(id: string): Promise<void> {
    if (this.#vms.devices.has(id)) this.#vms.devices.set(id, await this.store.attachments(id));
  }

  /** DescribeInstanceStatus' reachability: the booted guest has talked to its metadata service. */
  guestReachable(id: string): boolean {
    return this.#vms.guestSeen.has(id);
  }

  /** Powers the VM off if it runs, detaches every volume (deleting DeleteOnTermination ones). */
  finishTermination(id: string, reason: string, stateReason: InstanceRecord["stateReason"]): Promise<void> {
    return finishTermination(this, this.#parts, id, reason, stateReason);
  }

  /**
   * After a daemon restart: VMs died with the old daemon (parent-death signal); record that for
   * this host's instances (`hostId`), and make instances recorded before hosts were this host's
   * (with `claimAll`, as on a database only this host uses, every instance).
   */
  recover(hostId: string, claimAll: boolean): Promise<void> {
    return recoverInstances(this, this.#parts, hostId, claimAll);
  }

  /**
   * Another host marked this one lost, so it has recorded these instances stopped (and may start
   * them elsewhere): every VM is powered off at once, and no record is written.
   */
  fence(): Promise<void> {
    return fenceVms(this.#parts);
  }

  /** Daemon shutdown: guests get a short clean shutdown, then the records say stopped. */
  close(): Promise<void> {
    return stopAllVms(this, this.#parts);
  }

  // Internals

  async record(id: string): Promise<InstanceRecord> {
    const r = await this.store.getInstance(id);
    if (!r) throw new StrataError("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
    return r;
  }

  setState(
    r: InstanceRecord,
    state: InstanceStateName,
    reason: string,
    stateReason: InstanceRecord["stateReason"] = null,
    expect?: { state: string; host: string | null },
  ): Promise<boolean> {
    return setState(this.#parts, r, state, reason, stateReason, expect);
  }

  /**
   * Validates every instance first (no partial change), moves each to `via` under its lock and
   * finishes in the background; `finish` runs only if the state is still `via` by then.
   */
  transition(
    ids: string[],
    via: "stopping" | "shutting-down",
    finish: (r: InstanceRecord) => Promise<void>,
  ): Promise<StateChange[]> {
    return transition(this, ids, via, finish);
  }

  background(id: string, fn: () => Promise<void>): void {
    const tasks = this.#vms.tasks;
    const task = fn()
      .catch((e: Error) => console.error(`instance ${id}: ${e.stack ?? e.message}`))
      .finally(() => tasks.delete(task));
    tasks.add(task);
  }

  /** Starts the VM: the record becomes running, or stopped with the reason if the VM cannot start. */
  boot(id: string, firstBoot = false): Promise<void> {
    return bootVm(this, this.#parts, id, firstBoot);
  }

  /** Stops the VM if it runs; `keepReservation` for a restart (reboot, CreateImage). */
  shutdown(id: string, force: boolean, keepReservation = false, timeoutMs?: number): Promise<void> {
    return shutdownVm(this, this.#parts, id, force, keepReservation, timeoutMs);
  }
}
