import type { InstanceStore } from "../../storage/metadata/instance-store.ts";
import type { HostRegistry } from "../hosts/host-registry.ts";
import type { ImageService } from "../images/image-service.ts";
import type { KeyPairService } from "../key-pairs/key-pair-service.ts";
import type { InterfaceService } from "../network/interface-service.ts";
import type { RegionQuotas } from "../quotas/region-quotas.ts";
import type { SnapshotService } from "../snapshots/snapshot-service.ts";
import type { VolumeService } from "../volumes/volume-service.ts";
import type { ComputeHost } from "./compute-host.ts";
import type { VmSupervisor } from "./vm-supervisor.ts";

/** What the parts of one region's instance service share: its stores, services and VMs. */
export interface InstanceContext {
  region: string;
  store: InstanceStore;
  volumes: VolumeService;
  snapshots: SnapshotService;
  images: ImageService;
  keyPairs: KeyPairService;
  /** Instances' network interfaces (the VPC model). */
  interfaces: InterfaceService;
  quotas: RegionQuotas;
  host: () => ComputeHost;
  /** This host among the region's hosts: where instances go and where each one is. */
  hosts: HostRegistry;
  vms: VmSupervisor;
}
