// The instance state machine on its own: VmSupervisor and the lifecycle verbs with a fake
// VmDriver and NetworkAttachment (no QEMU, no daemon) over a real SQLite instance store.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { newId } from "../../ids.ts";
import type { InstanceRecord, InstanceStateName } from "../../storage/metadata/instance-store.ts";
import { migrations } from "../../storage/metadata/sqlite/migrations.ts";
import { SqliteDatabase } from "../../storage/metadata/sqlite/sqlite-database.ts";
import { SqliteInstanceStore } from "../../storage/metadata/sqlite/sqlite-instance-store.ts";
import { SqliteMetadataStore } from "../../storage/metadata/sqlite/sqlite-metadata-store.ts";
import { rebootInstances, startInstances, stopInstances, terminateInstances } from "./instance-lifecycle.ts";
import type { NetworkAttachment, NicConfig } from "./network-attachment.ts";
import type { RunningVm, VmBootInput, VmDriver } from "./vm-driver.ts";
import { VmSupervisor } from "./vm-supervisor.ts";

const REGION = "eu-west-1";
const OWNER = "111122223333";

/** A VM that exists only as events: it exits when shut down, killed, or when its guest powers off. */
class FakeVm implements RunningVm {
  readonly id: string;
  readonly pid: number;
  readonly sshPort: number;
  readonly exited: Promise<void>;
  readonly ignoresAcpi: boolean;
  killed = false;
  /** In a clean shutdown its guest ignores. */
  hanging = false;
  #exit!: () => void;
  readonly #events: string[];

  constructor(id: string, pid: number, events: string[], ignoresAcpi: boolean) {
    this.id = id;
    this.pid = pid;
    this.sshPort = 20_000 + pid;
    this.#events = events;
    this.ignoresAcpi = ignoresAcpi;
    this.exited = new Promise((resolve) => {
      this.#exit = resolve;
    });
  }

  /** The guest shuts itself down (or QEMU dies). */
  powerOff(): void {
    this.#exit();
  }

  async shutdown(force: boolean, timeoutMs: number): Promise<"clean" | "forced"> {
    this.#events.push(`${force ? "power off" : "acpi"} ${this.id}`);
    if (force) {
      await this.kill();
    } else if (!this.ignoresAcpi) {
      this.#exit();
    } else {
      // A guest that ignores the power button: only a kill or the stop timeout ends it.
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      this.hanging = true;
      await Promise.race([this.exited, timedOut]);
      clearTimeout(timer);
      this.hanging = false;
      if (!this.killed) await this.kill();
    }
    await this.release();
    return this.killed ? "forced" : "clean";
  }

  async kill(): Promise<void> {
    this.killed = true;
    this.#exit();
    await this.exited;
  }

  async release(): Promise<void> {
    this.#events.push(`release ${this.id}`);
  }

  async hotplug(): Promise<void> {}
  async unplug(): Promise<boolean> {
    return true;
  }
  async disconnect(): Promise<void> {}
}

class FakeDriver implements VmDriver {
  /** Long: in these tests a clean stop that hangs ends only by a forced stop. */
  readonly stopTimeoutMs = 600_000;
  readonly inputs: VmBootInput[] = [];
  readonly vms: FakeVm[] = [];
  failBoot: Error | undefined;
  ignoresAcpi = false;
  #pid = 100_000;
  readonly #events: string[];

  constructor(events: string[]) {
    this.#events = events;
  }

  async boot(input: VmBootInput): Promise<RunningVm> {
    this.inputs.push(input);
    if (this.failBoot) {
      this.#events.push(`boot failed ${input.record.id}`);
      throw this.failBoot;
    }
    this.#events.push(`boot ${input.record.id}`);
    const vm = new FakeVm(input.record.id, this.#pid++, this.#events, this.ignoresAcpi);
    this.vms.push(vm);
    return vm;
  }

  /** The instance's latest VM. */
  vm(id: string): FakeVm {
    const vm = this.vms.findLast((v) => v.id === id);
    assert.ok(vm, `no VM was booted for ${id}`);
    return vm;
  }
}

class FakeNetwork implements NetworkAttachment {
  failPlug: Error | undefined;
  readonly #events: string[];

  constructor(events: string[]) {
    this.#events = events;
  }

  async plug(record: InstanceRecord): Promise<NicConfig> {
    this.#events.push(`plug ${record.id}`);
    if (this.failPlug) throw this.failPlug;
    return { kind: "user" };
  }

  async unplug(instanceId: string): Promise<void> {
    this.#events.push(`unplug ${instanceId}`);
  }
}

/** One region's supervisor over an in-memory database, with fakes that record what happens. */
class Fixture {
  readonly db = new SqliteDatabase(":memory:", migrations);
  readonly meta = new SqliteMetadataStore(this.db);
  readonly store = new SqliteInstanceStore(this.db);
  readonly events: string[] = [];
  readonly driver = new FakeDriver(this.events);
  readonly network = new FakeNetwork(this.events);
  readonly deletedVolumes: string[] = [];
  /** Host reservations taken and not yet released, and how many were released. */
  held = 0;
  released = 0;
  vms = this.supervisor();

  /** A supervisor over the same store and fakes (a new one is a daemon restart). */
  supervisor(): VmSupervisor {
    const volumes = {
      delete: async (id: string) => {
        this.deletedVolumes.push(id);
        await this.meta.deleteVolume(id);
      },
    };
    return new VmSupervisor(
      REGION,
      this.store,
      { volumes, snapshots: { meta: this.meta } },
      this.driver,
      this.network,
    );
  }

  reservation(): () => void {
    this.held++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held--;
      this.released++;
    };
  }

  /** As RunInstances: a root volume (DeleteOnTermination) and a data volume (kept), then the first boot. */
  async launch(
    shutdownBehavior: "stop" | "terminate" = "stop",
  ): Promise<{ id: string; root: string; data: string }> {
    const id = newId("i");
    const [root, data] = [newId("vol"), newId("vol")];
    const now = new Date().toISOString();
    for (const v of [root, data]) {
      await this.meta.insertVolume({
        id: v,
        ownerId: OWNER,
        sizeGiB: 8,
        state: "available",
        availabilityZone: `${REGION}a`,
        volumeType: "gp3",
        sourceSnapshotId: null,
        lastSnapshotId: null,
        createdAt: now,
      });
    }
    await this.store.insertInstances(
      [
        {
          id,
          ownerId: OWNER,
          reservationId: newId("r"),
          imageId: newId("ami"),
          instanceType: "t3.micro",
          state: "pending",
          stateTransitionReason: "",
          stateReason: { code: "pending", message: "pending" },
          keyName: null,
          publicKey: null,
          launchIndex: 0,
          launchedAt: now,
          availabilityZone: `${REGION}a`,
          userData: null,
          rootDeviceName: "/dev/xvda",
          architecture: "x86_64",
          clientToken: null,
          mac: "02:00:00:00:00:01",
          privateIp: "169.254.1.10",
          sshPort: 0,
          pid: null,
          terminatedAt: null,
          shutdownBehavior,
        },
      ],
      [
        { volumeId: data, instanceId: id, device: "/dev/sdf", attachedAt: now, deleteOnTermination: false },
        { volumeId: root, instanceId: id, device: "/dev/xvda", attachedAt: now, deleteOnTermination: true },
      ],
    );
    this.vms.launch(id, this.reservation());
    return { id, root, data };
  }

  async record(id: string): Promise<InstanceRecord> {
    const r = await this.store.getInstance(id);
    assert.ok(r, `${id} has no record`);
    return r;
  }

  /** Waits for the instance's recorded state (the transitions finish in the background). */
  async until(id: string, state: InstanceStateName): Promise<InstanceRecord> {
    return this.waitFor(`${id} to be ${state}`, async () => {
      const r = await this.record(id);
      return r.state === state ? r : undefined;
    });
  }

  async waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const got = await probe();
      if (got !== undefined) return got;
      if (Date.now() > deadline)
        assert.fail(`timed out waiting for ${what}; events: ${this.events.join(", ")}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** The events about one instance, without its id. */
  of(id: string): string[] {
    return this.events.filter((e) => e.endsWith(` ${id}`)).map((e) => e.slice(0, -id.length - 1));
  }

  start(id: string) {
    return startInstances(this.vms, [id], async (_r, _type, started) => started(this.reservation()));
  }

  async volumeState(id: string): Promise<string | undefined> {
    return (await this.meta.getVolume(id))?.state;
  }
}

describe("VmSupervisor: the instance state machine with a fake VM driver", () => {
  let f: Fixture;
  beforeEach(() => {
    f = new Fixture();
  });
  afterEach(async () => {
    // A test that failed may leave a clean shutdown hanging, which close() would wait for.
    for (const vm of f.driver.vms) if (vm.hanging) await vm.kill();
    await f.vms.close();
    f.db.close();
  });

  it("launch: the NIC is plugged, then the VM boots from its root volume; running holds one reservation", async () => {
    const { id, root, data } = await f.launch();
    const r = await f.until(id, "running");
    assert.deepEqual(f.of(id), ["plug", "boot"]);
    const input = f.driver.inputs[0];
    assert.deepEqual(input.nic, { kind: "user" });
    assert.equal(input.type.name, "t3.micro");
    assert.equal(input.region, REGION);
    assert.deepEqual(input.disks, [
      { id: root, exportName: `${REGION}/${root}`, boot: true },
      { id: data, exportName: `${REGION}/${data}`, boot: false },
    ]);
    const vm = f.driver.vm(id);
    assert.equal(r.pid, vm.pid);
    assert.equal(r.sshPort, vm.sshPort);
    assert.equal(f.held, 1);
    // The guest's metadata is the instance's, and asking for it makes the guest reachable.
    assert.equal(f.vms.guestReachable(id), false);
    const md = input.metadata();
    assert.equal(md.instanceId, id);
    assert.deepEqual(md.blockDevices, { root: "/dev/xvda", ebs: ["/dev/sdf"] });
    assert.equal(f.vms.guestReachable(id), true);
    assert.equal(f.vms.runtime(id), vm);
    // Recorded for the other hosts of the region, which read reachability from the record.
    const seen = await f.waitFor("the guest recorded as seen", async () => (await f.record(id)).guestSeenAt);
    assert.ok(Date.now() - Date.parse(seen) < 60_000);
  });

  it("stop: stopping, a clean shutdown, then stopped with the reservation released and the NIC unplugged", async () => {
    const { id, root } = await f.launch();
    await f.until(id, "running");
    f.driver.inputs.at(-1)!.metadata();
    await f.waitFor("the guest recorded as seen", async () => (await f.record(id)).guestSeenAt);
    const changes = await stopInstances(f.vms, [id], false);
    assert.deepEqual(changes, [{ instanceId: id, previous: "running", current: "stopping" }]);
    const r = await f.until(id, "stopped");
    assert.deepEqual(f.of(id), ["plug", "boot", "acpi", "release", "unplug"]);
    assert.equal(f.driver.vm(id).killed, false, "a clean shutdown, not a kill");
    assert.equal(r.pid, null);
    assert.equal(r.guestSeenAt, undefined, "a stopped guest is no longer seen");
    assert.equal(r.stateReason?.code, "Client.UserInitiatedShutdown");
    assert.match(r.stateTransitionReason, /^User initiated \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d GMT\)$/);
    assert.equal(f.held, 0);
    assert.equal(f.vms.runtime(id), undefined);
    assert.equal(await f.volumeState(root), "in-use", "stopping keeps the volumes attached");
    // Stopping again changes nothing.
    assert.deepEqual(await stopInstances(f.vms, [id], false), [
      { instanceId: id, previous: "stopped", current: "stopped" },
    ]);

    // Start again: pending, a new VM and NIC, a new reservation.
    const started = await f.start(id);
    assert.deepEqual(started, [{ instanceId: id, previous: "stopped", current: "pending" }]);
    const again = await f.until(id, "running");
    assert.equal(f.driver.vms.length, 2);
    assert.equal(again.pid, f.driver.vm(id).pid);
    assert.notEqual(again.pid, f.driver.vms[0].pid);
    assert.equal(again.sshPort, f.driver.vm(id).sshPort);
    assert.deepEqual(f.of(id), ["plug", "boot", "acpi", "release", "unplug", "plug", "boot"]);
    assert.equal(f.held, 1);
  });

  it("the guest powers off: stopped (EC2's default behaviour), everything it held given back", async () => {
    const { id, root } = await f.launch();
    await f.until(id, "running");
    f.driver.vm(id).powerOff();
    const r = await f.until(id, "stopped");
    assert.deepEqual(f.of(id), ["plug", "boot", "release", "unplug"]);
    assert.deepEqual(r.stateReason, {
      code: "Client.InstanceInitiatedShutdown",
      message: "Client.InstanceInitiatedShutdown: Instance initiated shutdown",
    });
    assert.equal(r.pid, null);
    assert.equal(f.held, 0);
    assert.equal(await f.volumeState(root), "in-use");
    assert.deepEqual(f.deletedVolumes, []);
  });

  it("the guest powers off with shutdown behaviour terminate: terminated, DeleteOnTermination volumes deleted", async () => {
    const { id, root, data } = await f.launch("terminate");
    await f.until(id, "running");
    f.driver.vm(id).powerOff();
    const r = await f.until(id, "terminated");
    assert.deepEqual(f.of(id), ["plug", "boot", "release", "unplug"]);
    assert.equal(r.stateReason?.code, "Client.InstanceInitiatedShutdown");
    assert.ok(r.terminatedAt);
    assert.deepEqual(f.deletedVolumes, [root]);
    assert.equal(await f.volumeState(root), undefined);
    assert.equal(
      await f.volumeState(data),
      "available",
      "a volume without DeleteOnTermination is detached and kept",
    );
    assert.equal(f.held, 0);
  });

  it("terminate: shutting-down, a clean shutdown, terminated; the NIC unplugged once", async () => {
    const { id, root, data } = await f.launch();
    await f.until(id, "running");
    const changes = await terminateInstances(f.vms, [id]);
    assert.deepEqual(changes, [{ instanceId: id, previous: "running", current: "shutting-down" }]);
    const r = await f.until(id, "terminated");
    assert.deepEqual(f.of(id), ["plug", "boot", "acpi", "release", "unplug"]);
    assert.equal(r.stateReason?.code, "Client.UserInitiatedShutdown");
    assert.deepEqual(f.deletedVolumes, [root]);
    assert.equal(await f.volumeState(data), "available");
    assert.equal(f.held, 0);
    await assert.rejects(stopInstances(f.vms, [id], false), { code: "IncorrectInstanceState" });
  });

  it("a first boot that fails: terminated with Server.InternalError, volumes deleted, the NIC unplugged", async (t) => {
    const logged = t.mock.method(console, "error", () => {});
    f.driver.failBoot = new Error("QEMU exited (1) at start: no such accelerator");
    const { id, root, data } = await f.launch();
    const r = await f.until(id, "terminated");
    const message = "Server.InternalError: QEMU exited (1) at start: no such accelerator";
    assert.deepEqual(r.stateReason, { code: "Server.InternalError", message });
    assert.equal(r.stateTransitionReason, message);
    assert.ok(r.terminatedAt);
    assert.equal(r.pid, null);
    assert.deepEqual(f.of(id), ["plug", "boot failed", "unplug"]);
    assert.match(
      String(logged.mock.calls[0]?.arguments[0]),
      new RegExp(`^instance ${id}: Error: QEMU exited`),
    );
    assert.deepEqual(f.deletedVolumes, [root]);
    assert.equal(await f.volumeState(data), "available");
    assert.equal(f.held, 0);
  });

  it("a start whose NIC cannot be plugged: stopped with the reason, nothing booted, nothing held", async (t) => {
    const logged = t.mock.method(console, "error", () => {});
    const { id } = await f.launch();
    await f.until(id, "running");
    await stopInstances(f.vms, [id], false);
    await f.until(id, "stopped");
    f.network.failPlug = new Error("subnet bridge missing");
    await f.start(id);
    const r = await f.waitFor("the failed start", async () => {
      const now = await f.record(id);
      return now.state === "stopped" && now.stateReason?.code === "Server.InternalError" ? now : undefined;
    });
    assert.equal(r.stateReason?.message, "Server.InternalError: subnet bridge missing");
    assert.deepEqual(f.of(id), ["plug", "boot", "acpi", "release", "unplug", "plug", "unplug"]);
    assert.equal(f.driver.vms.length, 1, "no second VM");
    assert.match(String(logged.mock.calls[0]?.arguments[0]), /subnet bridge missing/);
    assert.equal(f.held, 0);
    assert.deepEqual(f.deletedVolumes, [], "a failed start is not a failed launch: the volumes stay");
  });

  it("reboot: a clean restart into a new VM; the instance stays running and keeps its reservation", async () => {
    const { id } = await f.launch();
    await f.until(id, "running");
    const states = new Set<string>();
    await rebootInstances(f.vms, [id]);
    const r = await f.waitFor("the second VM", async () => {
      const now = await f.record(id);
      states.add(now.state);
      return f.driver.vms.length === 2 && now.pid === f.driver.vm(id).pid ? now : undefined;
    });
    assert.equal(r.state, "running");
    assert.deepEqual([...states], ["running"], "never seen in another state");
    assert.deepEqual(
      { held: f.held, released: f.released },
      { held: 1, released: 0 },
      "kept across the restart",
    );
    assert.deepEqual(f.of(id), ["plug", "boot", "acpi", "release", "unplug", "plug", "boot"]);
    assert.equal(f.driver.vms[0].killed, false);
    // Its reservation goes when it finally stops.
    await stopInstances(f.vms, [id], false);
    await f.until(id, "stopped");
    assert.deepEqual({ held: f.held, released: f.released }, { held: 0, released: 1 });
  });

  it("a forced stop while a clean stop hangs powers the VM off at once", { timeout: 60_000 }, async () => {
    f.driver.ignoresAcpi = true;
    const { id } = await f.launch();
    await f.until(id, "running");
    await stopInstances(f.vms, [id], false);
    await f.waitFor("the clean shutdown to begin", async () =>
      f.of(id).includes("acpi") ? true : undefined,
    );
    assert.equal((await f.record(id)).state, "stopping");
    // The clean shutdown would wait 10 minutes for the guest; the forced stop returns once it is cut short.
    const forced = await stopInstances(f.vms, [id], true);
    assert.deepEqual(
      forced.map((c) => c.instanceId),
      [id],
    );
    const r = await f.until(id, "stopped");
    assert.equal(f.driver.vm(id).killed, true);
    assert.deepEqual(f.of(id), ["plug", "boot", "acpi", "release", "unplug"]);
    assert.equal(r.stateReason?.code, "Client.UserInitiatedShutdown");
    assert.equal(f.held, 0);
  });

  it("recover() after a crash: running ones stopped with the reason, shutting-down ones terminated, NICs unplugged", async () => {
    const running = await f.launch();
    const ending = await f.launch();
    const stopped = await f.launch();
    for (const i of [running, ending, stopped]) await f.until(i.id, "running");
    await stopInstances(f.vms, [stopped.id], false);
    await f.until(stopped.id, "stopped");
    // The daemon dies with `ending` half-terminated (its record says shutting-down).
    const r = await f.record(ending.id);
    r.state = "shutting-down";
    r.stateTransitionReason = "User initiated (2026-12-03 10:00:00 GMT)";
    await f.store.updateInstance(r);
    f.events.length = 0;

    f.vms = f.supervisor();
    await f.vms.recover("h-test", true);
    const after = await f.until(running.id, "stopped");
    assert.equal(after.pid, null);
    assert.equal(after.stateReason?.code, "Server.InternalError");
    assert.match(after.stateTransitionReason, /^Server\.InternalError: the Strata daemon restarted/);
    const ended = await f.until(ending.id, "terminated");
    assert.equal(ended.stateTransitionReason, "User initiated (2026-12-03 10:00:00 GMT)");
    assert.deepEqual(f.deletedVolumes, [ending.root]);
    assert.equal(await f.volumeState(ending.data), "available");
    assert.deepEqual(f.of(running.id), ["unplug"]);
    assert.deepEqual(f.of(ending.id), ["unplug"]);
    assert.deepEqual(f.of(stopped.id), [], "a stopped instance is left alone");
    assert.equal((await f.record(stopped.id)).stateReason?.code, "Client.UserInitiatedShutdown");
    // The old daemon's VMs are not this one's: nothing is known to run.
    assert.equal(f.vms.runtime(running.id), undefined);
  });

  it("close(): running instances get a clean shutdown and are recorded stopped by the daemon", async () => {
    const { id } = await f.launch();
    await f.until(id, "running");
    await f.vms.close();
    const r = await f.record(id);
    assert.equal(r.state, "stopped");
    assert.equal(r.stateReason?.code, "Server.ScheduledStop");
    assert.deepEqual(f.of(id), ["plug", "boot", "acpi", "release", "unplug"]);
    assert.equal(f.held, 0);
  });

  it("close() waits for a state change in progress, and leaves where it ended (terminated) alone", async () => {
    const { id } = await f.launch();
    await f.until(id, "running");
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    // A call holding the instance's lock, as every state change does, that ends in terminated.
    const change = f.vms.withLock(id, async () => {
      await gate;
      await f.vms.setState(await f.record(id), "terminated", "User initiated");
    });
    const closing = f.vms.close();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await f.record(id)).state, "running", "close() waited for the lock");
    assert.deepEqual(f.of(id), ["plug", "boot"], "nor touched the VM");
    release();
    await Promise.all([change, closing]);
    const r = await f.record(id);
    assert.equal(r.state, "terminated", "not overwritten with stopped");
    assert.equal(r.stateTransitionReason, "User initiated");
    assert.deepEqual(f.of(id), ["plug", "boot", "acpi", "release", "unplug"], "its VM still shut down");
  });
});
