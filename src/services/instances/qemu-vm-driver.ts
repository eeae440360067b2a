// The real VmDriver: each VM is a QEMU process (KVM if the host's probe boots a KVM guest, else
// TCG) reaching its volumes through the host's NBD server, with its own metadata service on a
// unix socket, its console log in the instance's directory and SSH forwarded from a host port.
import { mkdir } from "node:fs/promises";
import { QemuVm, type VmDisk } from "../../compute/hypervisor/qemu-vm.ts";
import { MetadataService } from "../../compute/metadata/metadata-service.ts";
import type { ComputeHost } from "./compute-host.ts";
import { privateIpFor } from "./instance-identity.ts";
import { consoleLogPath, instanceDir, privateDnsName } from "./instance-runtime.ts";
import type { RunningVm, VmBootInput, VmDriver } from "./vm-driver.ts";

/** Where the base image comes from when the accelerator must be probed. */
export type ProbeDisk = () => Promise<{ path: string; marker: string }>;

export class QemuVmDriver implements VmDriver {
  readonly #host: () => ComputeHost;
  readonly #probeDisk: ProbeDisk;

  constructor(host: () => ComputeHost, probeDisk: ProbeDisk) {
    this.#host = host;
    this.#probeDisk = probeDisk;
  }

  get stopTimeoutMs(): number {
    return this.#host().options.stopTimeoutMs;
  }

  async boot(input: VmBootInput): Promise<RunningVm> {
    const host = this.#host();
    const { record: r, nic } = input;
    const accel = await host.accelerator(this.#probeDisk);
    await mkdir(instanceDir(host, r.id), { recursive: true });
    // A fresh SSH port per boot (user mode): one kept while stopped could be taken by then.
    const sshPort = nic.kind === "user" ? await host.freePort() : 0;
    const imds = await MetadataService.start(input.metadata, host.instanceSocket(r.id, "imds"));
    try {
      const vm = await QemuVm.start({
        instanceId: r.id,
        accel: accel.accel,
        vcpus: input.type.vcpus,
        memoryMiB: input.type.memoryMiB,
        nbdSocket: host.nbdSocket,
        qmpSocket: host.instanceSocket(r.id, "qmp"),
        consoleLog: consoleLogPath(host, r.id),
        disks: input.disks,
        mac: r.mac,
        network:
          nic.kind === "tap"
            ? { kind: "tap", netns: nic.netns, tap: nic.tap }
            : {
                kind: "user",
                // QEMU's user network is 169.254.0.0/16 (its metadata forward must be inside it),
                // so the guest's own address there is not the interface's VPC address.
                privateIp: privateIpFor(r.id),
                hostname: privateDnsName(r.privateIp, input.region).split(".")[0],
                sshPort,
                metadataSocket: imds.socketPath,
              },
        product: r.instanceType,
      });
      return new QemuRunningVm(host, input.region, vm, imds, sshPort);
    } catch (e) {
      await imds.close();
      throw e;
    }
  }
}

class QemuRunningVm implements RunningVm {
  readonly #host: ComputeHost;
  readonly #region: string;
  readonly #vm: QemuVm;
  readonly #imds: MetadataService;
  readonly sshPort: number;
  readonly exited: Promise<void>;

  constructor(host: ComputeHost, region: string, vm: QemuVm, imds: MetadataService, sshPort: number) {
    this.#host = host;
    this.#region = region;
    this.#vm = vm;
    this.#imds = imds;
    this.sshPort = sshPort;
    this.exited = vm.exited.then(() => {});
  }

  get pid(): number {
    return this.#vm.pid;
  }

  async shutdown(force: boolean, timeoutMs: number): Promise<"clean" | "forced"> {
    let how: "clean" | "forced" = "clean";
    if (force || !(await this.#vm.powerdown(timeoutMs))) {
      how = "forced";
      await this.#vm.kill();
    }
    await this.release();
    return how;
  }

  kill(): Promise<void> {
    return this.#vm.kill();
  }

  async release(): Promise<void> {
    this.#vm.qmp.close();
    await this.#imds.close();
  }

  hotplug(disk: VmDisk): Promise<void> {
    return this.#vm.hotplug(disk, this.#host.nbdSocket);
  }

  unplug(disk: VmDisk): Promise<boolean> {
    return this.#vm.unplug(disk.id);
  }

  disconnect(disk: VmDisk): Promise<void> {
    return this.#host.disconnectVolume(this.#region, disk.id);
  }
}
