// What an instance is to its guest and to the host: its metadata, MAC, private address, QEMU
// disks, and the small formats EC2 uses for them.
import { readFileSync } from "node:fs";
import type { VmDisk } from "../../compute/hypervisor/qemu-vm.ts";
import { openSshLine } from "../../compute/keys/ssh-keys.ts";
import type { InstanceMetadata } from "../../compute/metadata/metadata-service.ts";
import type { InstanceRecord, VolumeAttachmentRecord } from "../../storage/metadata/instance-store.ts";
import { privateDnsName } from "./instance-runtime.ts";

/** The metadata service's view of the instance (public key as `<key> <name>`, as EC2 serves it). */
export function instanceMetadata(
  r: InstanceRecord,
  region: string,
  attachments: VolumeAttachmentRecord[],
): InstanceMetadata {
  return {
    instanceId: r.id,
    imageId: r.imageId,
    instanceType: r.instanceType,
    region,
    availabilityZone: r.availabilityZone,
    accountId: r.ownerId,
    hostname: privateDnsName(r.privateIp, region),
    localIpv4: r.privateIp,
    mac: r.mac,
    amiLaunchIndex: r.launchIndex,
    reservationId: r.reservationId,
    launchedAt: new Date(r.launchedAt),
    publicKeys:
      r.publicKey && r.keyName ? [{ name: r.keyName, openssh: openSshLine(r.publicKey, r.keyName) }] : [],
    userData: r.userData ? Buffer.from(r.userData, "base64") : undefined,
    blockDevices: {
      root: r.rootDeviceName,
      ebs: attachments.filter((a) => a.device !== r.rootDeviceName).map((a) => a.device),
    },
  };
}

export function disk(region: string, volumeId: string, boot: boolean): VmDisk {
  return { id: volumeId, exportName: `${region}/${volumeId}`, boot };
}

/** EC2's StateTransitionReason time format: 2026-11-22 07:00:00 GMT. */
export function ec2Time(): string {
  return `${new Date().toISOString().slice(0, 19).replace("T", " ")} GMT`;
}

/** A stable MAC per instance, locally administered (02:...) like EC2's. */
export function macFor(id: string): string {
  const b = Buffer.from(id.slice(2, 12), "hex");
  return ["02", ...[...b.subarray(0, 5)].map((x) => x.toString(16).padStart(2, "0"))].join(":");
}

/** 169.254.<1-168>.<10-250>: never the metadata service's 169.254.169.254 nor the gateway. */
export function privateIpFor(id: string): string {
  const b = Buffer.from(id.slice(2, 10), "hex");
  return `169.254.${1 + (b[0] % 168)}.${10 + (b[1] % 241)}`;
}

/** Kills a QEMU left from a previous daemon, if the pid still is that instance's QEMU. */
export function killIfOurs(pid: number, instanceId: string): void {
  try {
    if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(`guest=${instanceId}`))
      process.kill(pid, "SIGKILL");
  } catch {
    // gone already
  }
}
