// One region's instances on the VPC data plane: before each boot the instance's interface becomes
// a tap on its subnet's bridge (with its DHCP lease, public NAT and metadata forward), after each
// exit it goes; every committed change of the network model or of security groups re-applies the
// VPC's state (subnets, public addresses, the firewall of its plugged interfaces) at once. With
// several hosts, changes made through another host are not seen as events here: every few seconds
// each plugged VPC is read again (its subnets, group members, and where its interfaces on other
// hosts are, for the tunnels), and whatever changed is applied.
import type { DataPlane, NicFirewall } from "../../network/data-plane.ts";
import type { InstanceRecord } from "../../storage/metadata/instance-store.ts";
import { KeyedLock } from "../../util/keyed-lock.ts";
import { privateDnsName } from "../instances/instance-runtime.ts";
import type { NetworkAttachment, NetworkMetadata, NicConfig } from "../instances/network-attachment.ts";
import type { InterfaceService, InterfaceView } from "./interface-service.ts";
import type { NetworkEvents } from "./network-events.ts";
import type { NetworkHost } from "./network-host.ts";
import type { SecurityGroupService } from "./security-group-service.ts";
import type { TunnelPeers } from "./tunnel-peers.ts";

/** How often plugged VPCs are read again for what other hosts changed. */
const RESYNC_MS = 2_000;

export class InstanceNetworking implements NetworkAttachment {
  readonly #region: string;
  readonly #host: NetworkHost;
  readonly #interfaces: InterfaceService;
  readonly #groups: SecurityGroupService;
  readonly #peers: TunnelPeers | undefined;
  readonly #metadataSocket: (instanceId: string) => string;
  /** Plugged instances: their VPC and the public address the data plane NATs for them. */
  readonly #plugged = new Map<string, { vpcId: string; publicIp: string | null }>();
  /** One re-application at a time per VPC (each rewrites the VPC's whole rule set). */
  readonly #locks = new KeyedLock();
  /** The VPC spec last given to the data plane, per VPC: unchanged, it is not rebuilt. */
  readonly #specs = new Map<string, string>();
  #resync: NodeJS.Timeout | undefined;

  constructor(
    region: string,
    host: NetworkHost,
    services: {
      interfaces: InterfaceService;
      securityGroups: SecurityGroupService;
      events: NetworkEvents;
      peers?: TunnelPeers;
    },
    metadataSocket: (instanceId: string) => string,
  ) {
    this.#region = region;
    this.#host = host;
    this.#interfaces = services.interfaces;
    this.#groups = services.securityGroups;
    this.#peers = services.peers;
    this.#metadataSocket = metadataSocket;
    const changed = (vpcId: string) => this.#refresh(vpcId);
    services.events.onChange(changed);
    services.securityGroups.onChange((vpcId) => void changed(vpcId));
  }

  async plug(record: InstanceRecord): Promise<NicConfig> {
    // EC2 gives an instance launched with an auto-assigned public address a new one at each start.
    await this.#interfaces.assignPublicIp(record.id);
    const eni = await this.#interface(record.id);
    const metadata = eni ? await this.#metadata(eni) : undefined;
    const plane = this.#host.plane;
    if (!plane || !eni) return { kind: "user", metadata };
    return this.#locks.with(eni.vpcId, async () => {
      await this.#ensureVpc(plane, eni.vpcId);
      const publicIp = eni.association?.publicIp ?? null;
      const { netns, tap } = await plane.plugNic({
        instanceId: record.id,
        vpcId: eni.vpcId,
        subnetId: eni.subnetId,
        mac: eni.mac,
        privateIp: eni.privateIp,
        publicIp,
        hostname: privateDnsName(eni.privateIp, this.#region).split(".")[0],
        metadataSocket: this.#metadataSocket(record.id),
      });
      this.#plugged.set(record.id, { vpcId: eni.vpcId, publicIp });
      await this.#applyFirewall(plane, eni.vpcId);
      await this.#applyRemotes(plane, eni.vpcId);
      this.#startResync();
      return { kind: "tap", netns, tap, metadata };
    });
  }

  async unplug(instanceId: string): Promise<void> {
    const plugged = this.#plugged.get(instanceId);
    const plane = this.#host.plane;
    if (!plugged || !plane) return;
    await this.#locks.with(plugged.vpcId, async () => {
      this.#plugged.delete(instanceId);
      await plane.unplugNic(instanceId);
      // The VPC's namespace (its router, DHCP and DNS) lives while any of its instances runs.
      if ([...this.#plugged.values()].some((p) => p.vpcId === plugged.vpcId)) {
        await this.#applyFirewall(plane, plugged.vpcId);
      } else {
        this.#specs.delete(plugged.vpcId);
        await plane.removeVpc(plugged.vpcId);
      }
      if (!this.#plugged.size) {
        clearInterval(this.#resync);
        this.#resync = undefined;
      }
    });
  }

  async stopped(instanceId: string): Promise<void> {
    await this.#interfaces.releasePublicIp(instanceId);
  }

  async terminated(instanceId: string): Promise<void> {
    await this.#interfaces.deleteForInstance(instanceId);
  }

  async #interface(instanceId: string): Promise<InterfaceView | undefined> {
    return (await this.#interfaces.interfacesOf([instanceId])).get(instanceId)?.[0];
  }

  async #metadata(eni: InterfaceView): Promise<NetworkMetadata> {
    const groups = await this.#groups.byIds(eni.groupIds);
    const subnet = (await this.#interfaces.vpcState(eni.vpcId)).subnets.find((s) => s.id === eni.subnetId);
    return {
      interfaceId: eni.id,
      subnetId: eni.subnetId,
      vpcId: eni.vpcId,
      subnetCidr: subnet?.cidr,
      securityGroups: eni.groupIds.flatMap((id) => {
        const g = groups.get(id);
        return g ? [{ id, name: g.name }] : [];
      }),
      publicIpv4: eni.association?.publicIp,
    };
  }

  async #ensureVpc(plane: DataPlane, vpcId: string): Promise<void> {
    const state = await this.#interfaces.vpcState(vpcId);
    if (!state.vpc) return;
    const spec = {
      id: vpcId,
      cidr: state.vpc.cidr,
      subnets: state.subnets.map((s) => ({ id: s.id, cidr: s.cidr })),
    };
    const key = JSON.stringify(spec);
    if (this.#specs.get(vpcId) === key) return;
    this.#host.setDomain(vpcId, this.#region);
    await plane.ensureVpc(spec);
    this.#specs.set(vpcId, key);
  }

  /** The VPC's interfaces on other hosts, for the tunnels (nothing without a tunnel). */
  async #applyRemotes(plane: DataPlane, vpcId: string): Promise<void> {
    if (!this.#peers) return;
    const { interfaces } = await this.#interfaces.vpcState(vpcId);
    await plane.setRemotes(vpcId, await this.#peers.remotes(interfaces));
  }

  #startResync(): void {
    this.#resync ??= setInterval(() => {
      for (const vpcId of new Set([...this.#plugged.values()].map((p) => p.vpcId))) {
        this.#refresh(vpcId).catch((e) =>
          console.error(`network resync (${vpcId}): ${(e as Error).message}`),
        );
      }
    }, RESYNC_MS);
    this.#resync.unref();
  }

  /** The firewall of the VPC's plugged interfaces (the data plane drops what it is not told of). */
  async #applyFirewall(plane: DataPlane, vpcId: string): Promise<void> {
    const nics: NicFirewall[] = (await this.#groups.firewallFor(vpcId)).filter(
      (n) => this.#plugged.get(n.instanceId)?.vpcId === vpcId,
    );
    await plane.setFirewall(vpcId, nics);
  }

  /** A committed change: subnets, public addresses (Elastic IPs) and rules of running guests follow. */
  async #refresh(vpcId: string): Promise<void> {
    const plane = this.#host.plane;
    const inUse = () => [...this.#plugged.values()].some((p) => p.vpcId === vpcId);
    if (!plane || !inUse()) return;
    await this.#locks.with(vpcId, async () => {
      // Again under the lock: a refresh queued behind the last unplug would build the VPC's
      // namespace again (router, DHCP, metadata) for nothing plugged, and leave it running.
      if (!inUse()) return;
      await this.#ensureVpc(plane, vpcId);
      const state = await this.#interfaces.vpcState(vpcId);
      for (const eni of state.interfaces) {
        const plugged = eni.instanceId ? this.#plugged.get(eni.instanceId) : undefined;
        if (!eni.instanceId || !plugged) continue;
        const publicIp = eni.association?.publicIp ?? null;
        if (publicIp !== plugged.publicIp) {
          await plane.setPublicIp(eni.instanceId, publicIp);
          plugged.publicIp = publicIp;
        }
      }
      await this.#applyFirewall(plane, vpcId);
      await this.#applyRemotes(plane, vpcId);
    });
  }
}
