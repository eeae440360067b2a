// Where an instance's VM meets the network: the supervisor asks for a NIC before each boot and
// gives it back after each exit. Under VPC networking the NIC is a tap on its subnet's bridge in
// the VPC's namespace; under user-mode networking (the fallback) QEMU's own, SSH through a host port.
import type { InstanceMetadata } from "../../compute/metadata/metadata-service.ts";
import type { InstanceRecord } from "../../storage/metadata/instance-store.ts";

/** What the instance's metadata says of its network (interface, groups, VPC, public address). */
export type NetworkMetadata = Partial<
  Pick<
    InstanceMetadata,
    "securityGroups" | "interfaceId" | "subnetId" | "vpcId" | "subnetCidr" | "publicIpv4" | "publicHostname"
  >
>;

/** How the VM's first NIC is connected (the driver builds QEMU's netdev from it). */
export type NicConfig = ({ kind: "user" } | { kind: "tap"; netns: string; tap: string }) & {
  metadata?: NetworkMetadata;
};

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
  /** The instance was recorded stopped (EC2 releases its auto-assigned public address then). */
  stopped?(instanceId: string): Promise<void>;
  /** The instance was recorded terminated (its interface goes, Elastic IPs are disassociated). */
  terminated?(instanceId: string): Promise<void>;
}

/** Today's networking: user mode for every VM, nothing to set up or tear down. */
export const userModeNetwork: NetworkAttachment = {
  plug: async () => ({ kind: "user" }),
  unplug: async () => {},
};
