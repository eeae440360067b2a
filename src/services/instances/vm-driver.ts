// The seam between the instance state machine (VmSupervisor) and what runs VMs. The real driver
// is QemuVmDriver (one QEMU process and metadata service per VM); tests use a fake one.
import type { VmDisk } from "../../compute/hypervisor/qemu-vm.ts";
import type { InstanceTypeInfo } from "../../compute/instance-types.ts";
import type { InstanceMetadata } from "../../compute/metadata/metadata-service.ts";
import type { InstanceRecord } from "../../storage/metadata/instance-store.ts";
import type { NicConfig } from "./network-attachment.ts";

export interface VmBootInput {
  record: InstanceRecord;
  type: InstanceTypeInfo;
  region: string;
  /** The root volume first. */
  disks: VmDisk[];
  nic: NicConfig;
  /** The instance's metadata as its guest asks for it (called per request). */
  metadata: () => InstanceMetadata;
}

/** A booted VM, until it has exited and been released. */
export interface RunningVm {
  readonly pid: number;
  /** The host loopback port forwarded to the guest's port 22 (user-mode NIC), else 0. */
  readonly sshPort: number;
  /** Settles once the VM has exited, whatever the cause (never rejects). */
  readonly exited: Promise<void>;
  /** Clean ACPI shutdown within timeoutMs, else power off hard; `force` powers off at once. Then released. */
  shutdown(force: boolean, timeoutMs: number): Promise<"clean" | "forced">;
  /** Powers off at once (cuts a clean shutdown in progress short). */
  kill(): Promise<void>;
  /** After an exit the daemon did not ask for: what the VM held on the host (control socket, metadata service) is closed. */
  release(): Promise<void>;
  /** Adds a volume as a new disk of the running guest. */
  hotplug(disk: VmDisk): Promise<void>;
  /** Asks the guest to release the disk; false if it did not in time. */
  unplug(disk: VmDisk): Promise<boolean>;
  /** Cuts the VM's connection to the disk's volume, so no write can reach it any more. */
  disconnect(disk: VmDisk): Promise<void>;
}

export interface VmDriver {
  /** How long a stop waits for a clean shutdown before powering the VM off. */
  readonly stopTimeoutMs: number;
  /** Starts the VM; rejects (with nothing left running) if it cannot. */
  boot(input: VmBootInput): Promise<RunningVm>;
}
