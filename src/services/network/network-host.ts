// This host's instance networking, shared by every region: the VPC data plane when the host allows
// it (and the operator did not ask for user mode), else QEMU user-mode networking for every VM.
import { DataPlane } from "../../network/data-plane.ts";
import { dataPlaneTag } from "../../network/names.ts";
import { parseEndpoint } from "../../network/tunnel.ts";
import { DEFAULT_PUBLIC_POOL, type NetworkOptions } from "./network-options.ts";

export class NetworkHost {
  readonly mode: "vpc" | "user";
  readonly plane: DataPlane | null;
  readonly publicPool: string;
  /** This host's VXLAN endpoint ("address:port") when VPC traffic crosses to other hosts. */
  readonly tunnel: string | null;
  /** What the server says at start about its networking. */
  readonly message: string;
  /** Each VPC's DNS domain (its region's), read by the data plane's DHCP and DNS. */
  readonly #domains: Map<string, string>;

  private constructor(
    plane: DataPlane | null,
    publicPool: string,
    message: string,
    domains = new Map<string, string>(),
    tunnel: string | null = null,
  ) {
    this.plane = plane;
    this.tunnel = tunnel;
    this.mode = plane ? "vpc" : "user";
    this.publicPool = publicPool;
    this.message = message;
    this.#domains = domains;
  }

  static async open(dataDir: string, runDir: string, options: NetworkOptions): Promise<NetworkHost> {
    const publicPool = options.publicPool ?? DEFAULT_PUBLIC_POOL;
    const userMode = "SSH through a host port per instance (the strata:ssh-port tag)";
    const tunnel = options.tunnel ? parseEndpoint(options.tunnel) : undefined;
    if (tunnel && options.mode === "user") throw new Error("--tunnel needs VPC networking (--network vpc)");
    if (options.mode === "user") {
      return new NetworkHost(null, publicPool, `network: user mode (--network user): ${userMode}`);
    }
    const probe = await DataPlane.probe();
    if (!probe.ok) {
      if (options.mode === "vpc" || tunnel)
        throw new Error(`--network vpc is not possible on this host: ${probe.reason}`);
      return new NetworkHost(
        null,
        publicPool,
        `network: user mode (VPC networking needs ${probe.reason}): ${userMode}`,
      );
    }
    const domains = new Map<string, string>();
    // Throws, with the reason, when the pool overlaps a route of the host: the server refuses to start.
    const plane = await DataPlane.open({
      tag: dataPlaneTag(dataDir),
      runDir,
      publicPool,
      guestEgress: options.guestEgress ?? false,
      domain: (vpcId) => domains.get(vpcId) ?? "ec2.internal",
      ...(tunnel ? { tunnel } : {}),
    });
    const egress = options.guestEgress ? "on: guests with a public address reach beyond their VPC" : "off";
    const across = tunnel ? `, VPC traffic to other hosts through VXLAN at ${options.tunnel}` : "";
    return new NetworkHost(
      plane,
      publicPool,
      `network: VPC networking, public addresses from ${publicPool} (route via ${plane.hostVeth}), guest egress ${egress}${across}`,
      domains,
      options.tunnel ?? null,
    );
  }

  /** EC2's internal DNS domain of a region: ec2.internal in us-east-1, else <region>.compute.internal. */
  setDomain(vpcId: string, region: string): void {
    this.#domains.set(vpcId, region === "us-east-1" ? "ec2.internal" : `${region}.compute.internal`);
  }

  async close(): Promise<void> {
    await this.plane?.close();
  }
}
