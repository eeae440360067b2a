// What all regions' instances share on this host: the NBD server through which QEMU reaches
// volumes, the accelerator choice, and the host's capacity (vCPUs and memory of running VMs).
import { chmodSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { availableParallelism, totalmem } from "node:os";
import { join } from "node:path";
import { type AcceleratorChoice, chooseAccelerator } from "../../compute/hypervisor/accelerator.ts";
import type { InstanceTypeInfo } from "../../compute/instance-types.ts";
import { NbdServer } from "../../compute/nbd/nbd-server.ts";
import { checkUnixSocketPath } from "../../compute/unix-socket.ts";
import { StrataError } from "../../errors.ts";
import type { VolumeHandle } from "../volumes/volume-handle.ts";

export interface ComputeOptions {
  /** Where the base image and the accelerator probe are cached (shared by daemons). */
  cacheDir: string;
  /**
   * vCPUs allowed per host CPU thread (default 16, OpenStack Nova's cpu_allocation_ratio: guests
   * are mostly idle, and t3 types are burstable). Memory is never oversubscribed.
   */
  cpuAllocationRatio?: number;
  /** Memory kept for the host itself (default 1 GiB). */
  reservedMemoryMiB?: number;
  /** How long a clean ACPI shutdown may take before the VM is powered off hard (default 60 s). */
  stopTimeoutMs?: number;
}

export const DEFAULT_CPU_ALLOCATION_RATIO = 16;

/** Per-instance sockets in the run dir: QEMU's QMP and the instance's metadata service. */
export type InstanceSocket = "qmp" | "imds";
const INSTANCE_SOCKETS: InstanceSocket[] = ["qmp", "imds"];

export type VolumeResolver = (region: string, volumeId: string) => Promise<VolumeHandle | undefined>;

export class ComputeHost {
  readonly runDir: string;
  readonly instancesDir: string;
  readonly nbdSocket: string;
  readonly options: Required<ComputeOptions>;
  readonly #nbd: NbdServer;
  #accel: Promise<AcceleratorChoice> | undefined;
  #vcpus = 0;
  #memoryMiB = 0;
  /** What each account's running VMs hold (for the host share quota), all regions together. */
  readonly #byAccount = new Map<string, { vcpus: number; memoryMiB: number }>();

  private constructor(dataDir: string, options: ComputeOptions, resolve: VolumeResolver) {
    this.options = {
      cpuAllocationRatio: DEFAULT_CPU_ALLOCATION_RATIO,
      reservedMemoryMiB: 1024,
      stopTimeoutMs: 60_000,
      ...options,
    };
    this.runDir = join(dataDir, "run");
    this.instancesDir = join(dataDir, "instances");
    this.nbdSocket = join(this.runDir, "nbd.sock");
    this.#nbd = new NbdServer({
      resolve: async (name) => {
        const [region, volumeId] = name.split("/");
        const h = await resolve(region, volumeId).catch(() => undefined);
        if (!h) return undefined;
        // A VM is about to boot from it: background hydration yields from now on.
        h.lastAccess = Date.now();
        return {
          sizeBytes: h.sizeBytes,
          read: (offset, length) => h.read(offset, length),
          write: (offset, data) => h.write(offset, data),
          flush: () => h.flush(),
        };
      },
      log: (m) => console.error(`nbd: ${m}`),
    });
  }

  static async open(dataDir: string, options: ComputeOptions, resolve: VolumeResolver): Promise<ComputeHost> {
    const host = new ComputeHost(dataDir, options, resolve);
    // The longest socket path there will be, checked now rather than at an instance's first boot.
    try {
      for (const kind of INSTANCE_SOCKETS)
        checkUnixSocketPath(host.instanceSocket(`i-${"0".repeat(17)}`, kind));
    } catch (e) {
      throw new Error(`The data directory ${dataDir} is too long: ${(e as Error).message}`);
    }
    mkdirSync(host.runDir, { recursive: true, mode: 0o700 });
    // The sockets in it are only as private as the directory (one made by an older version may be 0755).
    chmodSync(host.runDir, 0o700);
    mkdirSync(host.instancesDir, { recursive: true });
    rmSync(host.nbdSocket, { force: true });
    // Instances' sockets a killed daemon left behind (its QEMUs died with it: parent-death signal).
    for (const entry of readdirSync(host.runDir, { withFileTypes: true })) {
      if (entry.isSocket() && INSTANCE_SOCKETS.some((kind) => entry.name.endsWith(`.${kind}`))) {
        rmSync(join(host.runDir, entry.name), { force: true });
      }
    }
    await host.#nbd.listen({ path: host.nbdSocket });
    return host;
  }

  /** An instance's socket in the run dir, e.g. run/i-0123456789abcdef0.imds. */
  instanceSocket(instanceId: string, kind: InstanceSocket): string {
    return join(this.runDir, `${instanceId}.${kind}`);
  }

  /** Decided once per daemon (and cached per host boot): KVM if a KVM guest really boots. */
  accelerator(probeDisk: () => Promise<{ path: string; marker: string }>): Promise<AcceleratorChoice> {
    this.#accel ??= probeDisk()
      .then((d) =>
        chooseAccelerator({
          probeDisk: d.path,
          marker: d.marker,
          cacheFile: join(this.options.cacheDir, "accelerator.json"),
        }),
      )
      .then((choice) => {
        console.log(
          `compute: using ${choice.accel === "kvm" ? "KVM" : "software emulation (TCG)"}: ${choice.reason}`,
        );
        return choice;
      });
    return this.#accel;
  }

  get capacity(): { vcpus: number; memoryMiB: number } {
    return {
      vcpus: Math.floor(availableParallelism() * this.options.cpuAllocationRatio),
      memoryMiB: Math.floor(totalmem() / 1048576) - this.options.reservedMemoryMiB,
    };
  }

  get used(): { vcpus: number; memoryMiB: number } {
    return { vcpus: this.#vcpus, memoryMiB: this.#memoryMiB };
  }

  /** How many of `count` instances of the type fit beside those running now. */
  fits(type: InstanceTypeInfo, count: number): number {
    const cap = this.capacity;
    let n = 0;
    while (
      n < count &&
      this.#vcpus + (n + 1) * type.vcpus <= cap.vcpus &&
      this.#memoryMiB + (n + 1) * type.memoryMiB <= cap.memoryMiB
    ) {
      n++;
    }
    return n;
  }

  /** What the account's running VMs hold on this host. */
  usedBy(accountId: string): { vcpus: number; memoryMiB: number } {
    return { ...(this.#byAccount.get(accountId) ?? { vcpus: 0, memoryMiB: 0 }) };
  }

  /**
   * Reserves vCPUs and memory for as many of `max` VMs of the type (at least `min`) as fit both
   * the host and the account's share of it (a fraction of the host's capacity); synchronous, so
   * nothing can take the room between the check and the reservation. InsufficientInstanceCapacity
   * when fewer than `min` fit.
   */
  reserveFor(
    type: InstanceTypeInfo,
    min: number,
    max: number,
    accountId: string,
    share: number,
  ): (() => void)[] {
    const onHost = this.fits(type, max);
    const cap = this.capacity;
    const mine = this.usedBy(accountId);
    const byShare = Math.max(
      0,
      Math.min(
        max,
        Math.floor((Math.floor(cap.vcpus * share) - mine.vcpus) / type.vcpus),
        Math.floor((Math.floor(cap.memoryMiB * share) - mine.memoryMiB) / type.memoryMiB),
      ),
    );
    const count = Math.min(onHost, byShare);
    if (count < min) {
      throw byShare < onHost
        ? shareExceeded(this, type, min, share, mine)
        : insufficientCapacity(this, type, min);
    }
    return Array.from({ length: count }, () => this.#reserve(type, accountId));
  }

  #reserve(type: InstanceTypeInfo, accountId: string): () => void {
    const account = this.#byAccount.get(accountId) ?? { vcpus: 0, memoryMiB: 0 };
    this.#byAccount.set(accountId, account);
    this.#vcpus += type.vcpus;
    this.#memoryMiB += type.memoryMiB;
    account.vcpus += type.vcpus;
    account.memoryMiB += type.memoryMiB;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#vcpus -= type.vcpus;
      this.#memoryMiB -= type.memoryMiB;
      account.vcpus -= type.vcpus;
      account.memoryMiB -= type.memoryMiB;
      if (account.vcpus === 0 && account.memoryMiB === 0) this.#byAccount.delete(accountId);
    };
  }

  /** A free TCP port on the loopback (for SSH forwarding). */
  freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
      const s = createServer();
      s.once("error", reject);
      s.listen(0, "127.0.0.1", () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
  }

  disconnectVolume(region: string, volumeId: string): Promise<void> {
    return this.#nbd.disconnectExport(`${region}/${volumeId}`);
  }

  async close(): Promise<void> {
    await this.#nbd.close();
    rmSync(this.nbdSocket, { force: true });
  }
}

export function insufficientCapacity(host: ComputeHost, type: InstanceTypeInfo, count: number): StrataError {
  const cap = host.capacity;
  return new StrataError(
    "InsufficientInstanceCapacity",
    // The host's size, never what other accounts use of it (one tenant must not watch another's load).
    `Insufficient capacity: ${count} x ${type.name} (${type.vcpus} vCPUs, ${type.memoryMiB} MiB each) does not fit on this host ` +
      `now (${cap.vcpus} vCPUs and ${cap.memoryMiB} MiB for instances in all); try again later or ask the operator.`,
  );
}

function shareExceeded(
  host: ComputeHost,
  type: InstanceTypeInfo,
  count: number,
  share: number,
  used: { vcpus: number; memoryMiB: number },
): StrataError {
  const cap = host.capacity;
  return new StrataError(
    "InsufficientInstanceCapacity",
    `Insufficient capacity for this account: ${count} x ${type.name} (${type.vcpus} vCPUs, ${type.memoryMiB} MiB each) would exceed its share of this host ` +
      `(${share * 100}%: ${Math.floor(cap.vcpus * share)} vCPUs and ${Math.floor(cap.memoryMiB * share)} MiB; its running instances hold ${used.vcpus} vCPUs and ${used.memoryMiB} MiB). ` +
      "Stop some of its instances, or ask the operator to raise its host-share quota.",
  );
}
