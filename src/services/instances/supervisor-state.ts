// What the VM supervisor's steps (boot and exit, state transitions, recovery) share: the
// supervisor's dependencies and the in-memory state of the VMs it runs on this host.
import type {
  InstanceStateName,
  InstanceStore,
  VolumeAttachmentRecord,
} from "../../storage/metadata/instance-store.ts";
import type { MetadataStore } from "../../storage/metadata/metadata-store.ts";
import type { VolumeService } from "../volumes/volume-service.ts";
import type { NetworkAttachment } from "./network-attachment.ts";
import type { RunningVm, VmDriver } from "./vm-driver.ts";

export const ACTIVE: InstanceStateName[] = ["pending", "running", "stopping", "shutting-down"];

/** What termination needs of the volume and snapshot services: DeleteOnTermination volumes go. */
export interface SupervisorDeps {
  volumes: Pick<VolumeService, "delete">;
  snapshots: { meta: Pick<MetadataStore, "pendingSnapshots"> };
}

/** This host's VMs as the daemon knows them in memory (lost on a restart; recovery rebuilds records). */
export class RunningVms {
  /** Running VMs; one taken out of here before it stops is one whose exit the daemon asked for. */
  readonly runtimes = new Map<string, RunningVm>();
  /** Running instances' volumes, for their metadata (kept current across hot-plug). */
  readonly devices = new Map<string, VolumeAttachmentRecord[]>();
  /** Instances whose guest has asked the metadata service something since it booted. */
  readonly guestSeen = new Set<string>();
  /** The host room (and quota share) each instance holds while it runs. */
  readonly reservations = new Map<string, () => void>();
  /** VMs in a clean shutdown: a forced stop meanwhile powers them off at once. */
  readonly stopping = new Map<string, RunningVm>();
  /** Background transitions, awaited on close. */
  readonly tasks = new Set<Promise<void>>();

  /** The instance's share of the host goes back (if it holds one). */
  release(id: string): void {
    this.reservations.get(id)?.();
    this.reservations.delete(id);
  }
}

/** The supervisor's parts its steps work with. */
export interface SupervisorParts {
  region: string;
  store: InstanceStore;
  deps: SupervisorDeps;
  driver: VmDriver;
  network: NetworkAttachment;
  vms: RunningVms;
}

/** The VM is gone: its NIC goes back (a failure is logged; the state change goes on). */
export async function unplugNic(parts: SupervisorParts, id: string): Promise<void> {
  await parts.network.unplug(id).catch((e: Error) => console.error(`instance ${id}: unplug: ${e.message}`));
}
