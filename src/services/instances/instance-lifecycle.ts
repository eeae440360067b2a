// EC2's lifecycle verbs on the region's VmSupervisor: StartInstances, StopInstances,
// TerminateInstances and RebootInstances. Each checks every instance before changing any and
// answers with the state it moved to; the VM work finishes in the background.
import { type InstanceTypeInfo, instanceType } from "../../compute/instance-types.ts";
import { StrataError } from "../../errors.ts";
import type { InstanceRecord } from "../../storage/metadata/instance-store.ts";
import { ec2Time } from "./instance-identity.ts";
import type { StateChange, VmSupervisor } from "./vm-supervisor.ts";

/**
 * Reserves the host's room (within the account's vCPU quota and host share) for an instance
 * about to start, and runs `started` with the reservation's release; nothing is held if it fails.
 */
export type StartReservation = (
  r: InstanceRecord,
  type: InstanceTypeInfo,
  started: (release: () => void) => Promise<void>,
) => Promise<void>;

const USER_SHUTDOWN = {
  code: "Client.UserInitiatedShutdown",
  message: "Client.UserInitiatedShutdown: User initiated shutdown",
};

export async function startInstances(
  vms: VmSupervisor,
  ids: string[],
  reserve: StartReservation,
): Promise<StateChange[]> {
  for (const id of ids) {
    const r = await vms.record(id);
    if (!["stopped", "pending", "running"].includes(r.state)) {
      throw new StrataError(
        "IncorrectInstanceState",
        `The instance '${id}' is not in a state from which it can be started.`,
      );
    }
    if (
      r.state === "stopped" &&
      !(await vms.store.attachments(id)).some((a) => a.device === r.rootDeviceName)
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
      await vms.withLock(id, async () => {
        const r = await vms.record(id);
        if (r.state === "running" || r.state === "pending")
          return { instanceId: id, previous: r.state, current: r.state };
        if (r.state !== "stopped") {
          throw new StrataError(
            "IncorrectInstanceState",
            `The instance '${id}' is not in a state from which it can be started.`,
          );
        }
        // Within the vCPU quota and host share, counted with the instance pending.
        await reserve(r, instanceType(r.instanceType)!, async (release) => {
          await vms.setState(r, "pending", "");
          vms.hold(id, release);
        });
        vms.background(id, () => vms.withLock(id, () => vms.boot(id, false)));
        return { instanceId: id, previous: "stopped", current: "pending" };
      }),
    );
  }
  return out;
}

export function stopInstances(vms: VmSupervisor, ids: string[], force: boolean): Promise<StateChange[]> {
  // EC2: a forced stop of an instance already stopping cuts its shutdown short.
  if (force) for (const id of ids) vms.cutShutdownShort(id);
  return vms.transition(ids, "stopping", async (r) => {
    await vms.shutdown(r.id, force);
    await vms.setState(await vms.record(r.id), "stopped", `User initiated (${ec2Time()})`, USER_SHUTDOWN);
  });
}

export function terminateInstances(vms: VmSupervisor, ids: string[]): Promise<StateChange[]> {
  return vms.transition(ids, "shutting-down", (r) =>
    vms.finishTermination(r.id, `User initiated (${ec2Time()})`, USER_SHUTDOWN),
  );
}

/** RebootInstances: a clean restart of the guest; the instance stays `running` and keeps its room. */
export async function rebootInstances(vms: VmSupervisor, ids: string[]): Promise<void> {
  for (const id of ids) {
    const r = await vms.record(id);
    if (r.state === "terminated") {
      throw new StrataError("IncorrectInstanceState", `The instance '${id}' is terminated.`);
    }
  }
  for (const id of ids) {
    vms.background(id, () =>
      vms.withLock(id, async () => {
        const r = await vms.record(id);
        if (r.state !== "running") return;
        await vms.shutdown(id, false, true);
        await vms.boot(id);
      }),
    );
  }
}
