// A running instance on this host: its QEMU process, its metadata service and its share of the
// host's capacity. Created on launch/start, gone once the VM has exited and been accounted for.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Accelerator, QemuVm, type VmDisk } from "../../compute/hypervisor/qemu-vm.ts";
import type { InstanceTypeInfo } from "../../compute/instance-types.ts";
import { type InstanceMetadata, MetadataService } from "../../compute/metadata/metadata-service.ts";
import type { InstanceRecord } from "../../storage/metadata/instance-store.ts";
import type { ComputeHost } from "./compute-host.ts";

export interface BootInput {
  record: InstanceRecord;
  type: InstanceTypeInfo;
  accel: Accelerator;
  region: string;
  disks: VmDisk[];
  metadata: () => InstanceMetadata;
}

export class InstanceRuntime {
  readonly vm: QemuVm;
  readonly imds: MetadataService;
  /** Set before the daemon itself stops or restarts the VM, so its exit is not taken as the guest's own. */
  expectedExit = false;

  private constructor(vm: QemuVm, imds: MetadataService) {
    this.vm = vm;
    this.imds = imds;
  }

  static async boot(host: ComputeHost, input: BootInput): Promise<InstanceRuntime> {
    const dir = instanceDir(host, input.record.id);
    await mkdir(dir, { recursive: true });
    const imds = await MetadataService.start(input.metadata, host.instanceSocket(input.record.id, "imds"));
    try {
      const vm = await QemuVm.start({
        instanceId: input.record.id,
        accel: input.accel,
        vcpus: input.type.vcpus,
        memoryMiB: input.type.memoryMiB,
        nbdSocket: host.nbdSocket,
        qmpSocket: host.instanceSocket(input.record.id, "qmp"),
        consoleLog: consoleLogPath(host, input.record.id),
        disks: input.disks,
        mac: input.record.mac,
        network: {
          kind: "user",
          privateIp: input.record.privateIp,
          hostname: privateDnsName(input.record.privateIp, input.region).split(".")[0],
          sshPort: input.record.sshPort,
          metadataSocket: imds.socketPath,
        },
        product: input.record.instanceType,
      });
      return new InstanceRuntime(vm, imds);
    } catch (e) {
      await imds.close();
      throw e;
    }
  }

  /** Clean ACPI shutdown within the time, else power off hard; `force` powers off at once. */
  async shutdown(force: boolean, timeoutMs: number): Promise<"clean" | "forced"> {
    this.expectedExit = true;
    let how: "clean" | "forced" = "clean";
    if (force || !(await this.vm.powerdown(timeoutMs))) {
      how = "forced";
      await this.vm.kill();
    }
    this.vm.qmp.close();
    await this.imds.close();
    return how;
  }
}

export function instanceDir(host: ComputeHost, id: string): string {
  return join(host.instancesDir, id);
}

export function consoleLogPath(host: ComputeHost, id: string): string {
  return join(instanceDir(host, id), "console.log");
}

/** EC2's private DNS name form: ip-169-254-0-15.ec2.internal (us-east-1) or .<region>.compute.internal. */
export function privateDnsName(ip: string, region: string): string {
  const host = `ip-${ip.replaceAll(".", "-")}`;
  return region === "us-east-1" ? `${host}.ec2.internal` : `${host}.${region}.compute.internal`;
}
