// Where a VPC's interfaces on other hosts are, for the data plane's tunnels: the region's database
// is the control plane (each instance records its host, each host its VXLAN endpoint), as EVPN
// routes would be elsewhere. Read again every few seconds and after each local change.
import type { RemoteNic } from "../../network/data-plane.ts";
import { parseEndpoint } from "../../network/tunnel.ts";
import type { InstanceStore } from "../../storage/metadata/instance-store.ts";
import type { HostRegistry } from "../hosts/host-registry.ts";
import type { InterfaceView } from "./interface-service.ts";

/** An instance on another host is reachable while its VM may run there. */
const RUNS = new Set(["pending", "running", "stopping", "shutting-down"]);

export class TunnelPeers {
  readonly #hosts: HostRegistry;
  readonly #instances: InstanceStore;

  constructor(hosts: HostRegistry, instances: InstanceStore) {
    this.#hosts = hosts;
    this.#instances = instances;
  }

  /** The interfaces among `interfaces` whose instance runs on another live host with a tunnel. */
  async remotes(interfaces: InterfaceView[]): Promise<RemoteNic[]> {
    const attached = interfaces.filter((n) => n.instanceId);
    if (!attached.length) return [];
    const endpoints = new Map<string, string>();
    for (const h of await this.#hosts.store.list()) {
      if (h.id !== this.#hosts.id && h.state === "alive" && h.tunnel) endpoints.set(h.id, h.tunnel);
    }
    if (!endpoints.size) return [];
    const instances = new Map(
      (await this.#instances.getInstances(attached.map((n) => n.instanceId!))).map((i) => [i.id, i]),
    );
    const out: RemoteNic[] = [];
    for (const n of attached) {
      const instance = instances.get(n.instanceId!);
      const tunnel = instance?.host ? endpoints.get(instance.host) : undefined;
      if (!instance || !tunnel || !RUNS.has(instance.state)) continue;
      out.push({ subnetId: n.subnetId, mac: n.mac, ip: n.privateIp, endpoint: parseEndpoint(tunnel) });
    }
    return out;
  }
}
