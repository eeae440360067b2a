// The supervisor across the daemon's life: recovering records after a restart, fencing when
// another host declared this one lost, and stopping every VM when the daemon stops.
import { ec2Time, killIfOurs } from "./instance-identity.ts";
import { ACTIVE, type SupervisorParts, unplugNic } from "./supervisor-state.ts";
import type { VmSupervisor } from "./vm-supervisor.ts";

/**
 * After a daemon restart: VMs died with the old daemon (parent-death signal); record that for
 * this host's instances (`hostId`), and make instances recorded before hosts were this host's
 * (with `claimAll`, as on a database only this host uses, every instance).
 */
export async function recoverInstances(
  sup: VmSupervisor,
  parts: SupervisorParts,
  hostId: string,
  claimAll: boolean,
): Promise<void> {
  const { store } = parts;
  for (const r of await store.listInstances()) {
    if (r.host !== hostId && (claimAll || !r.host)) {
      r.host = hostId;
      await store.updateInstance(r);
    }
    if (r.host !== hostId || !ACTIVE.includes(r.state)) continue;
    if (r.pid) killIfOurs(r.pid, r.id);
    r.pid = null;
    await unplugNic(parts, r.id);
    if (r.state === "shutting-down") {
      const reason = r.stateTransitionReason || `User initiated (${ec2Time()})`;
      sup.background(r.id, () =>
        sup.withLock(r.id, () => sup.finishTermination(r.id, reason, r.stateReason)),
      );
      continue;
    }
    await sup.setState(r, "stopped", `Server.InternalError: the Strata daemon restarted (${ec2Time()})`, {
      code: "Server.InternalError",
      message: "Server.InternalError: the Strata daemon restarted while the instance ran",
    });
  }
}

/**
 * Another host marked this one lost, so it has recorded these instances stopped (and may start
 * them elsewhere): every VM is powered off at once, and no record is written.
 */
export async function fenceVms(parts: SupervisorParts): Promise<void> {
  const { vms } = parts;
  const running = [...vms.runtimes.entries()];
  vms.runtimes.clear();
  for (const [id, vm] of running) {
    await vm.shutdown(true, 0).catch(() => {});
    await unplugNic(parts, id);
    vms.guestSeen.delete(id);
    vms.devices.delete(id);
    vms.release(id);
  }
}

/**
 * Daemon shutdown: guests get a short clean shutdown, then the records say stopped. Each under
 * its instance's lock, as every state change is, so a call still finishing (a StopInstances, a
 * TerminateInstances) is not overwritten: an instance that reached stopped or terminated stays so.
 */
export async function stopAllVms(sup: VmSupervisor, parts: SupervisorParts): Promise<void> {
  const { vms } = parts;
  await Promise.allSettled([...vms.tasks]);
  await Promise.all(
    [...vms.runtimes.keys()].map((id) =>
      sup.withLock(id, async () => {
        await sup.shutdown(id, false, false, 15_000);
        const r = await parts.store.getInstance(id);
        if (!r || !STOPPABLE.includes(r.state)) return;
        await sup.setState(r, "stopped", `Server.ScheduledStop: the Strata daemon stopped (${ec2Time()})`, {
          code: "Server.ScheduledStop",
          message: "Server.ScheduledStop: Stopped with the Strata daemon",
        });
      }),
    ),
  );
}

const STOPPABLE: readonly string[] = ["pending", "running", "stopping"];
