// One QEMU process per running instance. Disks are NBD exports of the daemon (so the storage
// engine sees every write). The NIC is either a tap on the instance's subnet bridge in its VPC's
// namespace (src/network: QEMU then runs inside that namespace, where the tap is opened by name),
// or, where the host allows no namespaces, QEMU user-mode networking on 169.254.0.0/16, restricted:
// the guest reaches its own metadata service at 169.254.169.254 and nothing else of the host or
// beyond (see ../shared/notes/qemu-facts.md), and SSH comes in through a forward on the host's loopback.
import { type ChildProcess, spawn } from "node:child_process";
import { QmpClient } from "./qmp-client.ts";

export type Accelerator = "kvm" | "tcg";

export interface VmDisk {
  /** QEMU node name and device id suffix (the volume id). */
  id: string;
  exportName: string;
  boot: boolean;
}

/** User-mode networking (slirp): the fallback without network namespaces. */
export interface UserNetwork {
  kind: "user";
  privateIp: string;
  hostname: string;
  sshPort: number;
  /** The instance's metadata service: a unix socket (MetadataService.socketPath). */
  metadataSocket: string;
}

/** A tap the data plane plugged (DataPlane.plugNic), in its VPC's namespace. */
export interface TapNetwork {
  kind: "tap";
  netns: string;
  tap: string;
}

export type VmNetwork = UserNetwork | TapNetwork;

export interface VmSpec {
  instanceId: string;
  accel: Accelerator;
  vcpus: number;
  memoryMiB: number;
  nbdSocket: string;
  qmpSocket: string;
  consoleLog: string;
  disks: VmDisk[];
  mac: string;
  network: VmNetwork;
  /** SMBIOS product name (the instance type), as EC2's Nitro hosts report it. */
  product: string;
}

export function blockdevOptions(disk: VmDisk, nbdSocket: string): Record<string, unknown> {
  return {
    driver: "nbd",
    "node-name": disk.id,
    server: { type: "unix", path: nbdSocket },
    export: disk.exportName,
  };
}

export function qemuArgs(spec: VmSpec): string[] {
  // cloud-init counts the machine as EC2 only when the SMBIOS uuid starts with "ec2" and equals the
  // serial number (ds-identify); the rest of the uuid is the instance id's digits.
  const hex = spec.instanceId.slice(2).padEnd(29, "0");
  const uuid = `ec2${hex.slice(0, 5)}-${hex.slice(5, 9)}-${hex.slice(9, 13)}-${hex.slice(13, 17)}-${hex.slice(17, 29)}`;
  const args = [
    "-name",
    `guest=${spec.instanceId},debug-threads=off`,
    "-machine",
    `pc,accel=${spec.accel}`,
    "-smp",
    String(spec.vcpus),
    "-m",
    String(spec.memoryMiB),
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-chardev",
    `file,id=console,path=${spec.consoleLog},append=on`,
    "-serial",
    "chardev:console",
    "-qmp",
    `unix:${spec.qmpSocket},server=on,wait=off`,
    "-smbios",
    `type=1,manufacturer=Amazon EC2,product=${spec.product},serial=${uuid},uuid=${uuid}`,
    "-rtc",
    "base=utc",
    // Entropy at once: without it the guest's first SSH host keys wait ~1.5 s for the kernel's RNG.
    "-device",
    "virtio-rng-pci",
  ];
  for (const d of spec.disks) {
    args.push("-blockdev", JSON.stringify(blockdevOptions(d, spec.nbdSocket)));
    args.push("-device", `virtio-blk-pci,drive=${d.id},id=dev-${d.id}${d.boot ? ",bootindex=0" : ""}`);
  }
  const netdev = spec.network.kind === "tap" ? tapNetdev(spec.network) : userNetdev(spec.network);
  args.push("-netdev", netdev, "-device", `virtio-net-pci,netdev=net0,mac=${spec.mac}`);
  return args;
}

/**
 * The guest's network. Without `restrict=on`, slirp connects the guest to anything the host can
 * reach: 169.254.0.2 (and fec0::2) on any port is the host's loopback (the daemon's admin API,
 * other instances' forwards), other addresses go out through the host. Restricted, it only
 * answers DHCP and carries the explicit guestfwd (the metadata service) and the SSH hostfwd.
 * IPv6 is off: the guest has no use for it, and it would be one more way to reach the host.
 */
export function userNetdev(spec: Omit<UserNetwork, "kind">): string {
  return [
    "user,id=net0,ipv4=on,ipv6=off,restrict=on,net=169.254.0.0/16,host=169.254.0.2",
    `dhcpstart=${spec.privateIp}`,
    `hostname=${spec.hostname}`,
    `hostfwd=tcp:127.0.0.1:${spec.sshPort}-:22`,
    // One `nc` per guest connection (the chardev form breaks after the first HTTP response). slirp
    // splits the command as a shell would; in QEMU's option syntax a comma is written twice.
    `guestfwd=tcp:169.254.169.254:80-cmd:${metadataForwardCommand(spec.metadataSocket).replaceAll(",", ",,")}`,
  ].join(",");
}

/** The data plane's tap, opened by name in QEMU's namespace; no scripts (the tap is on its bridge already). */
export function tapNetdev(net: TapNetwork): string {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(net.tap)) throw new Error(`bad tap name: ${net.tap}`);
  return `tap,id=net0,ifname=${net.tap},script=no,downscript=no`;
}

/** The command slirp runs per guest connection to 169.254.169.254:80 (netcat-openbsd's `nc -U`). */
export function metadataForwardCommand(socketPath: string): string {
  return `nc -U '${socketPath.replaceAll("'", `'\\''`)}'`;
}

/** A started QEMU process and its QMP connection. */
export class QemuVm {
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
  #qmp: QmpClient | undefined;
  #stderr = "";

  private constructor(child: ChildProcess) {
    this.process = child;
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (d: string) => {
      this.#stderr = (this.#stderr + d).slice(-4000);
    });
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  /** Spawns QEMU and connects to QMP; QEMU is killed if the daemon dies (parent-death signal). */
  static async start(spec: VmSpec): Promise<QemuVm> {
    const qemu = ["setpriv", "--pdeathsig", "KILL", "--", "qemu-system-x86_64", ...qemuArgs(spec)];
    // `ip netns exec` enters the namespace and execs (same process): the parent-death signal still
    // ties QEMU to the daemon.
    const argv = spec.network.kind === "tap" ? ["ip", "netns", "exec", spec.network.netns, ...qemu] : qemu;
    const child = spawn(argv[0], argv.slice(1), {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, PATH: `${process.env.PATH ?? "/usr/bin:/bin"}:/usr/sbin:/sbin` },
    });
    const vm = new QemuVm(child);
    const failed = vm.exited.then((code) => {
      throw new Error(`QEMU exited (${code}) at start: ${vm.stderr.trim() || "no message"}`);
    });
    try {
      vm.#qmp = await Promise.race([QmpClient.connect(spec.qmpSocket), failed]);
    } catch (e) {
      child.kill("SIGKILL");
      throw e;
    }
    failed.catch(() => {});
    return vm;
  }

  get pid(): number {
    return this.process.pid ?? 0;
  }

  get stderr(): string {
    return this.#stderr;
  }

  get qmp(): QmpClient {
    if (!this.#qmp) throw new Error("QMP not connected");
    return this.#qmp;
  }

  /** ACPI power button: a clean shutdown, if the guest honours it within the time. */
  async powerdown(timeoutMs: number): Promise<boolean> {
    await this.qmp.execute("system_powerdown").catch(() => {});
    const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), timeoutMs).unref());
    return (await Promise.race([this.exited, timer])) !== "timeout";
  }

  /** Hot-plugs a volume as a new virtio disk (ACPI PCI hotplug; the guest sees a new vdX). */
  async hotplug(disk: VmDisk, nbdSocket: string): Promise<void> {
    await this.qmp.execute("blockdev-add", blockdevOptions(disk, nbdSocket));
    try {
      await this.qmp.execute("device_add", {
        driver: "virtio-blk-pci",
        drive: disk.id,
        id: `dev-${disk.id}`,
      });
    } catch (e) {
      await this.qmp.execute("blockdev-del", { "node-name": disk.id }).catch(() => {});
      throw e;
    }
  }

  /**
   * Asks the guest to release a disk (ACPI eject) and removes its NBD node once it has; false if
   * the guest did not release it in time (the request stays pending, as on a real PCI slot).
   */
  async unplug(diskId: string, timeoutMs = 15_000): Promise<boolean> {
    let onEvent: ((event: string, data: { device?: string }) => void) | undefined;
    const deleted = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      onEvent = (event, data) => {
        if (event === "DEVICE_DELETED" && data?.device === `dev-${diskId}`) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      this.qmp.on("event", onEvent);
    });
    try {
      // A repeated request for a device already being removed is answered with an error: fine.
      await this.qmp.execute("device_del", { id: `dev-${diskId}` }).catch(() => {});
      if (!(await deleted)) return false;
      await this.qmp.execute("blockdev-del", { "node-name": diskId }).catch(() => {});
      return true;
    } finally {
      if (onEvent) this.qmp.off("event", onEvent);
    }
  }

  async kill(): Promise<void> {
    this.process.kill("SIGKILL");
    await this.exited;
  }
}
