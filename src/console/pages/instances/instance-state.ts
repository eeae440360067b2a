// Which state changes make sense for which instance states, and how often to poll: the rules the
// EC2 console applies to its Instance state menu (Stop and Reboot for running instances, Start for
// stopped ones, Terminate for anything not already going away).
import type { Instance } from "@aws-sdk/client-ec2";
import type { StateAction } from "../../api/instances.ts";

const TRANSITIONS = new Set(["pending", "stopping", "shutting-down"]);

export const stateOf = (i: Instance): string => i.State?.Name ?? "unknown";

/** Fast while something shown is moving between states, slow otherwise. */
export function pollInterval(instances: readonly Instance[] | undefined): number {
  return instances?.some((i) => TRANSITIONS.has(stateOf(i))) ? 2000 : 10_000;
}

const VALID: Record<StateAction, (state: string) => boolean> = {
  stop: (s) => s === "running",
  start: (s) => s === "stopped",
  reboot: (s) => s === "running",
  terminate: (s) => s !== "terminated" && s !== "shutting-down",
};

/** An action applies to a selection when it applies to every instance in it. */
export function actionAllowed(action: StateAction, selected: readonly Instance[]): boolean {
  return selected.length > 0 && selected.every((i) => VALID[action](stateOf(i)));
}

/** CreateImage takes a running or stopped instance (the API refuses the others). */
export function canCreateImage(selected: readonly Instance[]): boolean {
  return selected.length === 1 && ["running", "stopped"].includes(stateOf(selected[0]));
}

export const ACTION_NAMES: Record<StateAction, { verb: string; item: string; progress: string }> = {
  stop: { verb: "Stop", item: "Stop instance", progress: "Stopping" },
  start: { verb: "Start", item: "Start instance", progress: "Starting" },
  reboot: { verb: "Reboot", item: "Reboot instance", progress: "Rebooting" },
  terminate: { verb: "Terminate", item: "Terminate instance", progress: "Terminating" },
};
