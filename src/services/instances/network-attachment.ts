// Where an instance's VM meets the network: the supervisor asks for a NIC before each boot and
// gives it back after each exit. Today every VM gets QEMU user-mode networking (SSH through a
// host port); the VPC data plane (issue 10) plugs a tap on the subnet's bridge here instead.
import type { InstanceRecord } from "../../storage/metadata/instance-store.ts";

/** How the VM's first NIC is connected (the driver builds QEMU's netdev from it). */
export type NicConfig = { kind: "user" };

export interface NetworkAttachment {
  /**
   * Called before each boot of the instance's VM (launch, start, reboot, CreateImage's restart).
   * A failure fails the boot as a VM that cannot start does.
   */
  plug(record: InstanceRecord): Promise<NicConfig>;
  /**
   * Called once after each VM exit, whatever ended it (stop, terminate, reboot, the guest's own
   * shutdown, a failed boot, the daemon's shutdown or a restart after a crash). Must be safe for
   * an instance whose plug failed or never ran.
   */
  unplug(instanceId: string): Promise<void>;
}

/** Today's networking: user mode for every VM, nothing to set up or tear down. */
export const userModeNetwork: NetworkAttachment = {
  plug: async () => ({ kind: "user" }),
  unplug: async () => {},
};
