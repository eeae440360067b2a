// Starting an instance's VM, its exit when the guest powers off, and stopping it.
import { type InstanceTypeInfo, instanceType } from "../../compute/instance-types.ts";
import { disk, ec2Time, instanceMetadata } from "./instance-identity.ts";
import { type SupervisorParts, unplugNic } from "./supervisor-state.ts";
import type { RunningVm } from "./vm-driver.ts";
import type { VmSupervisor } from "./vm-supervisor.ts";

/** Starts the VM: the record becomes running, or stopped with the reason if the VM cannot start. */
export async function bootVm(
  sup: VmSupervisor,
  parts: SupervisorParts,
  id: string,
  firstBoot: boolean,
): Promise<void> {
  const { vms } = parts;
  const r = await sup.record(id);
  // Stopped or terminated before its VM could start (the caller holds the instance's lock).
  if (r.state !== "pending" && r.state !== "running") {
    vms.release(id);
    return;
  }
  const type = instanceType(r.instanceType) as InstanceTypeInfo;
  let vm: RunningVm | undefined;
  try {
    const attachments = await parts.store.attachments(id);
    const disks = attachments
      .sort((a, b) =>
        a.device === r.rootDeviceName ? -1 : b.device === r.rootDeviceName ? 1 : a.device < b.device ? -1 : 1,
      )
      .map((a) => disk(parts.region, a.volumeId, a.device === r.rootDeviceName));
    vms.devices.set(id, attachments);
    const nic = await parts.network.plug(r);
    vm = await parts.driver.boot({
      record: r,
      type,
      region: parts.region,
      disks,
      nic,
      metadata: () => {
        if (!vms.guestSeen.has(id)) {
          vms.guestSeen.add(id);
          sup.background(id, () => recordGuestSeen(sup, parts, id));
        }
        return {
          ...instanceMetadata(r, parts.region, vms.devices.get(id) ?? attachments),
          ...nic.metadata,
        };
      },
    });
    vms.runtimes.set(id, vm);
    r.pid = vm.pid;
    r.sshPort = vm.sshPort;
    await sup.setState(r, "running", "");
    const booted = vm;
    void booted.exited.then(() => onVmExit(sup, parts, id, booted));
  } catch (e) {
    if (vm) {
      // Booted, but its state could not be recorded: it must not run unaccounted for.
      vms.runtimes.delete(id);
      await vm.shutdown(true, 0).catch(() => {});
    }
    vms.devices.delete(id);
    vms.guestSeen.delete(id);
    await unplugNic(parts, id);
    vms.release(id);
    const message = `Server.InternalError: ${(e as Error).message}`.slice(0, 500);
    r.pid = null;
    // A launch that never ran ends terminated, as on EC2 (waiters fail fast on it); a start, stopped.
    if (firstBoot) {
      await sup.setState(r, "shutting-down", message, { code: "Server.InternalError", message });
      await sup.finishTermination(id, message, { code: "Server.InternalError", message });
    } else {
      await sup.setState(r, "stopped", message, { code: "Server.InternalError", message });
    }
    throw e;
  }
}

/** The guest's first metadata request since it booted, recorded for the other hosts to see. */
function recordGuestSeen(sup: VmSupervisor, parts: SupervisorParts, id: string): Promise<void> {
  return sup.withLock(id, async () => {
    if (!parts.vms.guestSeen.has(id)) return;
    const r = await sup.record(id);
    if (r.state !== "running" || r.guestSeenAt) return;
    r.guestSeenAt = new Date().toISOString();
    await parts.store.updateInstance(r);
  });
}

/** The guest powered itself off (or QEMU died): EC2's default shutdown behaviour is stop. */
async function onVmExit(sup: VmSupervisor, parts: SupervisorParts, id: string, vm: RunningVm): Promise<void> {
  const { vms } = parts;
  if (vms.runtimes.get(id) !== vm) return;
  await sup.withLock(id, async () => {
    if (vms.runtimes.get(id) !== vm) return;
    vms.runtimes.delete(id);
    await vm.release();
    await unplugNic(parts, id);
    vms.guestSeen.delete(id);
    vms.devices.delete(id);
    vms.release(id);
    const r = await sup.record(id);
    r.pid = null;
    const reason = `Client.InstanceInitiatedShutdown: Instance initiated shutdown (${ec2Time()})`;
    const stateReason = {
      code: "Client.InstanceInitiatedShutdown",
      message: "Client.InstanceInitiatedShutdown: Instance initiated shutdown",
    };
    if (r.shutdownBehavior === "terminate") {
      await sup.setState(r, "shutting-down", reason, stateReason);
      await sup.finishTermination(id, reason, stateReason);
    } else {
      await sup.setState(r, "stopped", reason, stateReason);
    }
  });
}

/** Stops the VM if it runs; `keepReservation` for a restart (reboot, CreateImage). */
export async function shutdownVm(
  sup: VmSupervisor,
  parts: SupervisorParts,
  id: string,
  force: boolean,
  keepReservation: boolean,
  timeoutMs: number | undefined,
): Promise<void> {
  const { vms } = parts;
  const rt = vms.runtimes.get(id);
  vms.guestSeen.delete(id);
  vms.devices.delete(id);
  if (rt) {
    vms.runtimes.delete(id);
    vms.stopping.set(id, rt);
    try {
      await rt.shutdown(force, timeoutMs ?? parts.driver.stopTimeoutMs);
    } finally {
      vms.stopping.delete(id);
      await unplugNic(parts, id);
    }
    const r = await sup.record(id);
    r.pid = null;
    await parts.store.updateInstance(r);
  }
  if (!keepReservation) vms.release(id);
}
