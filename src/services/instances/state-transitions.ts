// An instance's recorded state changes: each written before the network hears of it, stop and
// terminate checked for every instance first and finished in the background, and termination's
// detaching (and deleting) of the instance's volumes.
import { StrataError } from "../../errors.ts";
import type { InstanceRecord, InstanceStateName } from "../../storage/metadata/instance-store.ts";
import type { SupervisorParts } from "./supervisor-state.ts";
import type { VmSupervisor } from "./vm-supervisor.ts";

export interface StateChange {
  instanceId: string;
  previous: InstanceStateName;
  current: InstanceStateName;
}

export async function setState(
  parts: SupervisorParts,
  r: InstanceRecord,
  state: InstanceStateName,
  reason: string,
  stateReason: InstanceRecord["stateReason"],
  expect?: { state: string; host: string | null },
): Promise<boolean> {
  const { network } = parts;
  r.state = state;
  r.stateTransitionReason = reason;
  r.stateReason = stateReason;
  if (state !== "running") delete r.guestSeenAt;
  if (!(await parts.store.updateInstance(r, expect)) && expect) return false;
  const hook =
    state === "stopped" ? network.stopped : state === "terminated" ? network.terminated : undefined;
  await hook
    ?.call(network, r.id)
    .catch((e: Error) => console.error(`instance ${r.id}: network on ${state}: ${e.message}`));
  return true;
}

/**
 * Validates every instance first (no partial change), moves each to `via` under its lock and
 * finishes in the background; `finish` runs only if the state is still `via` by then.
 */
export async function transition(
  sup: VmSupervisor,
  ids: string[],
  via: "stopping" | "shutting-down",
  finish: (r: InstanceRecord) => Promise<void>,
): Promise<StateChange[]> {
  const cannotStop = (r: InstanceRecord) =>
    via === "stopping" && (r.state === "terminated" || r.state === "shutting-down");
  for (const r of await Promise.all(ids.map((id) => sup.record(id)))) {
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
      await sup.withLock(id, async () => {
        const r = await sup.record(id);
        const previous = r.state;
        if (cannotStop(r)) {
          throw new StrataError(
            "IncorrectInstanceState",
            `This instance '${id}' is not in a state from which it can be stopped.`,
          );
        }
        const done = via === "stopping" ? ["stopped", "stopping"] : ["terminated", "shutting-down"];
        if (done.includes(r.state)) return { instanceId: id, previous, current: r.state };
        await sup.setState(r, via, r.stateTransitionReason, r.stateReason);
        sup.background(id, () => finishUnder(sup, id, via, finish));
        return { instanceId: id, previous, current: via };
      }),
    );
  }
  return out;
}

function finishUnder(
  sup: VmSupervisor,
  id: string,
  via: InstanceStateName,
  finish: (r: InstanceRecord) => Promise<void>,
): Promise<void> {
  return sup.withLock(id, async () => {
    const r = await sup.record(id);
    if (r.state === via) await finish(r);
  });
}

/** Powers the VM off if it runs, detaches every volume (deleting DeleteOnTermination ones). */
export async function finishTermination(
  sup: VmSupervisor,
  parts: SupervisorParts,
  id: string,
  reason: string,
  stateReason: InstanceRecord["stateReason"],
): Promise<void> {
  const { store, deps } = parts;
  await sup.shutdown(id, false);
  for (const a of await store.attachments(id)) {
    await store.detachVolume(a.volumeId);
    if (!a.deleteOnTermination) continue;
    // A pending snapshot of it (CreateImage with NoReboot, say) must complete before it can go.
    for (let i = 0; i < 1200; i++) {
      const pending = (await deps.snapshots.meta.pendingSnapshots()).some((p) => p.volumeId === a.volumeId);
      if (!pending) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    await deps.volumes.delete(a.volumeId).catch((e: Error) => console.error(`terminate ${id}: ${e.message}`));
  }
  const now = await sup.record(id);
  now.terminatedAt = new Date().toISOString();
  now.pid = null;
  await sup.setState(now, "terminated", reason, stateReason);
}
