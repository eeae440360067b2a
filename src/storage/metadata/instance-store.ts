// Instances, key pairs and volume attachments, in the region's database beside volumes (so
// "attach this volume" and "is it in use" are one transaction on one row).

import type { Tag } from "./catalog-store.ts";

export type InstanceStateName =
  | "pending"
  | "running"
  | "stopping"
  | "stopped"
  | "shutting-down"
  | "terminated";

export interface InstanceRecord {
  id: string;
  ownerId: string;
  reservationId: string;
  imageId: string;
  instanceType: string;
  state: InstanceStateName;
  /** EC2's free-text StateTransitionReason, e.g. "User initiated (2026-11-22 07:00:00 GMT)". */
  stateTransitionReason: string;
  stateReason: { code: string; message: string } | null;
  keyName: string | null;
  /** The key pair's public key as it was at launch (EC2 keeps it when the key pair is deleted). */
  publicKey: string | null;
  launchIndex: number;
  launchedAt: string;
  availabilityZone: string;
  /** User data, base64 as EC2 takes and returns it. */
  userData: string | null;
  rootDeviceName: string;
  architecture: string;
  clientToken: string | null;
  /** The NIC's MAC (stable for the instance's life, as on EC2). */
  mac: string;
  privateIp: string;
  /** Host port forwarded to the guest's port 22 (127.0.0.1:port). */
  sshPort: number;
  /** The supervising daemon's QEMU process while one exists. */
  pid: number | null;
  terminatedAt: string | null;
  /** The Strata host that runs its VM and holds its volumes (absent: recorded before hosts were). */
  host?: string;
  /** InstanceInitiatedShutdownBehavior: what a shutdown from inside the guest does (absent: stop). */
  shutdownBehavior?: "stop" | "terminate";
  /**
   * When the running guest first asked its metadata service: DescribeInstanceStatus' reachability
   * as every host of the region reads it (its own host knows it first). Cleared when it stops.
   */
  guestSeenAt?: string;
}

export interface VolumeAttachmentRecord {
  volumeId: string;
  instanceId: string;
  device: string;
  attachedAt: string;
  deleteOnTermination: boolean;
}

export interface KeyPairRecord {
  id: string;
  ownerId: string;
  name: string;
  keyType: "rsa" | "ed25519";
  fingerprint: string;
  /** OpenSSH public key line without comment. */
  publicKey: string;
  createdAt: string;
}

export interface InstanceStore {
  /** Inserts instances with their tags and attaches their (new) volumes in one transaction. */
  insertInstances(
    instances: InstanceRecord[],
    attachments: VolumeAttachmentRecord[],
    tags?: Tag[],
  ): Promise<void>;
  getInstance(id: string): Promise<InstanceRecord | undefined>;
  listInstances(): Promise<InstanceRecord[]>;
  /** The instances among `ids` that exist, in no particular order (one query, whatever their number). */
  getInstances(ids: string[]): Promise<InstanceRecord[]>;
  /**
   * Writes the record back. With `expect`, only if the stored one still has that state and host
   * (another host may have changed it since it was read): false if not, and nothing is written.
   */
  updateInstance(instance: InstanceRecord, expect?: { state: string; host: string | null }): Promise<boolean>;

  /** Attaches an available, unattached volume (VolumeInUse / IncorrectState otherwise). */
  attachVolume(attachment: VolumeAttachmentRecord): Promise<void>;
  detachVolume(volumeId: string): Promise<void>;
  attachments(instanceId: string): Promise<VolumeAttachmentRecord[]>;
  allAttachments(): Promise<VolumeAttachmentRecord[]>;
  setDeleteOnTermination(volumeId: string, value: boolean): Promise<void>;

  /** Inserts the key pair and its tags; InvalidKeyPair.Duplicate when the owner has the name already. */
  insertKeyPair(key: KeyPairRecord, tags?: Tag[]): Promise<void>;
  keyPairs(ownerId: string): Promise<KeyPairRecord[]>;
  /** Deletes the key pair and its tags. */
  deleteKeyPair(id: string): Promise<void>;
}
