// The real one-host data plane (issue 10): each VPC a network namespace acting as its router, each
// subnet a bridge there holding the subnet's .1, each instance interface a tap on its subnet's
// bridge. dnsmasq serves DHCP and DNS, nftables enforces security groups (stateful), anti-spoofing
// (per tap) and the 1:1 NAT of public addresses, and the host reaches the public pool through one
// veth into Strata's hub namespace. Knows nothing of the database or of EC2's shapes.
//
// Everything lives in namespaces named after the daemon's tag; open() removes what a killed daemon
// left behind and builds afresh, close() removes everything. On the host, only the veth, the pool
// route (and, with guest egress, one nftables table and ip_forward) are ever changed.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { ipBatch, ipJson, linkNames, nft, run, sysctl } from "./commands.ts";
import { type DhcpHost, Dnsmasq } from "./dhcp.ts";
import { compileFirewall } from "./firewall.ts";
import { compileGuard } from "./guard-rules.ts";
import { buildHub, checkPoolFree, removeTagged } from "./hub.ts";
import { addressAt, contains, parseCidr, parseIp, parseMac } from "./ipv4.ts";
import { MetadataProxy } from "./metadata-proxy.ts";
import {
  bridgeMac,
  dnsmasqRoot,
  hostVeth,
  hubNetns,
  hubVpcLink,
  nicTap,
  subnetBridge,
  VPC_UPLINK,
  vpcNetns,
} from "./names.ts";
import { ensureNetns, NO_IPV6, removeNetns } from "./netns.ts";
import { probeHost } from "./probe.ts";
import { checkPublicIp, type PoolLayout, poolLayout } from "./public-link.ts";
import type { DataPlaneOptions, NicFirewall, NicSpec, VpcSpec } from "./spec.ts";
import { addTunnel, applyTunnelEntries, type RemoteNic, tunnelEntries } from "./tunnel.ts";
import { compilePublic, compileVpcBase, METADATA_IP } from "./vpc-rules.ts";

export type { DataPlaneOptions, FirewallRule, NicFirewall, NicSpec, SubnetSpec, VpcSpec } from "./spec.ts";
export type { RemoteNic, TunnelEndpoint } from "./tunnel.ts";

interface VpcState {
  spec: VpcSpec;
  netns: string;
  dnsIp: string;
  dnsmasq: Dnsmasq | null;
  dnsmasqKey: string;
  proxy: MetadataProxy;
  nics: Map<string, NicSpec>;
  /** Interfaces of the VPC on other hosts, and the forwarding entries applied for them. */
  remotes: RemoteNic[];
  tunnelEntries: Set<string>;
  /** The firewall script last loaded: the same one again is not reloaded. */
  firewall: string;
}

export class DataPlane {
  readonly options: DataPlaneOptions;
  readonly layout: PoolLayout;
  readonly hub: string;
  readonly hostVeth: string;
  readonly #vpcs = new Map<string, VpcState>();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(options: DataPlaneOptions, layout: PoolLayout) {
    this.options = options;
    this.layout = layout;
    this.hub = hubNetns(options.tag);
    this.hostVeth = hostVeth(options.tag);
  }

  /** Whether this host allows the data plane, and why not. */
  static probe(): Promise<{ ok: true } | { ok: false; reason: string }> {
    return probeHost();
  }

  /** Removes whatever a previous run with this tag left, checks the pool, builds the hub and the host's veth and route. */
  static async open(options: DataPlaneOptions): Promise<DataPlane> {
    const layout = poolLayout(options.publicPool);
    await removeTagged(options.tag);
    await checkPoolFree(layout, hostVeth(options.tag));
    try {
      await buildHub(options, layout);
    } catch (e) {
      await removeTagged(options.tag).catch(() => {});
      throw e;
    }
    return new DataPlane(options, layout);
  }

  /** Runs mutations one at a time: each reads and rewrites whole rule sets. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(() => {
      if (this.#closed) throw new Error("the data plane is closed");
      return fn();
    });
    this.#queue = next.catch(() => {});
    return next;
  }

  /** Creates or updates the VPC's namespace: uplink, a bridge per subnet (stale ones removed), DHCP/DNS, metadata. */
  ensureVpc(spec: VpcSpec): Promise<void> {
    return this.#serial(() => this.#ensureVpc(spec));
  }

  async #ensureVpc(spec: VpcSpec): Promise<void> {
    const vpcCidr = parseCidr(spec.cidr);
    for (const s of spec.subnets) {
      const c = parseCidr(s.cidr);
      if (!contains(vpcCidr, c.base) || c.prefix < vpcCidr.prefix || c.prefix > 28) {
        throw new Error(`subnet ${s.id} ${s.cidr} is not a /16../28 inside VPC ${spec.id} ${spec.cidr}`);
      }
    }
    const netns = vpcNetns(this.options.tag, spec.id);
    const dnsIp = addressAt(vpcCidr, 2);
    const link = hubVpcLink(spec.id);
    let state = this.#vpcs.get(spec.id);
    const fresh = !state;
    if (fresh) {
      await ensureNetns(netns);
      await sysctl(netns, {
        "net.ipv4.ip_forward": 1,
        // Bridged traffic (two guests of one subnet) must pass the inet hooks, to be firewalled.
        "net.bridge.bridge-nf-call-iptables": 1,
        ...NO_IPV6,
      });
      // Closed before anything is plugged: no guest traffic passes until the firewall says so.
      await nft(netns, compileFirewall([]));
      await nft(netns, compilePublic([], this.options.guestEgress));
      await nft(netns, compileGuard([]));
      if ((await linkNames(this.hub)).has(link)) await run("ip", ["-n", this.hub, "link", "del", link]);
      await ipBatch(this.hub, [
        `link add name ${link} type veth peer name ${VPC_UPLINK} netns ${netns}`,
        `addr add ${this.layout.hubVpcIp}/32 dev ${link}`,
        `link set ${link} up`,
      ]);
      await ipBatch(netns, [
        `addr replace ${this.layout.vpcUplinkIp}/32 dev ${VPC_UPLINK}`,
        `link set ${VPC_UPLINK} up`,
        `route replace ${this.layout.hostLink} via ${this.layout.hubVpcIp} dev ${VPC_UPLINK} onlink`,
        ...(this.options.guestEgress
          ? [`route replace default via ${this.layout.hubVpcIp} dev ${VPC_UPLINK} onlink`]
          : []),
        `addr replace ${dnsIp}/32 dev lo`,
        `addr replace ${METADATA_IP}/32 dev lo`,
      ]);
      if (this.options.tunnel) await addTunnel(netns, this.options.tag, spec.id, this.options.tunnel);
    }
    const existing = new Set(
      (await ipJson<{ ifname: string }[]>(netns, ["link", "show", "type", "bridge"])).map((l) => l.ifname),
    );
    const wanted = new Map(spec.subnets.map((s) => [subnetBridge(s.id), s]));
    const lines: string[] = [];
    for (const name of existing) if (!wanted.has(name)) lines.push(`link del ${name}`);
    for (const [name, s] of wanted) {
      const c = parseCidr(s.cidr);
      if (!existing.has(name))
        lines.push(
          `link add name ${name} address ${bridgeMac(s.id)} type bridge stp_state 0 forward_delay 0`,
        );
      lines.push(`addr replace ${addressAt(c, 1)}/${c.prefix} dev ${name}`, `link set ${name} up`);
    }
    await ipBatch(netns, lines);
    const added = [...wanted.keys()].filter((name) => !existing.has(name));
    if (this.options.tunnel && added.length) {
      // Proxy ARP for interfaces on other hosts (tunnel.ts) answers at once, not within 0.8 s.
      await sysctl(netns, Object.fromEntries(added.map((b) => [`net.ipv4.neigh.${b}.proxy_delay`, 0])));
    }
    await nft(netns, compileVpcBase({ bridges: [...wanted.keys()], dnsIp }));
    if (!state) {
      state = {
        spec,
        netns,
        dnsIp,
        dnsmasq: null,
        dnsmasqKey: "",
        proxy: await MetadataProxy.start(netns),
        nics: new Map(),
        remotes: [],
        tunnelEntries: new Set(),
        firewall: "",
      };
      this.#vpcs.set(spec.id, state);
    }
    state.spec = spec;
    await this.#applyRemotes(state);
    const dhcpSubnets = spec.subnets.map((s) => ({ bridge: subnetBridge(s.id), cidr: s.cidr }));
    const domain = this.options.domain(spec.id);
    const key = JSON.stringify([dhcpSubnets, domain]);
    if (state.dnsmasqKey !== key || !state.dnsmasq) {
      await state.dnsmasq?.stop();
      state.dnsmasq = null;
      state.dnsmasq = await Dnsmasq.start(
        { netns, dir: join(dnsmasqRoot(this.options.tag), netns), dnsIp, domain, subnets: dhcpSubnets },
        dhcpHosts(state),
      );
      state.dnsmasqKey = key;
    }
  }

  /**
   * The VPC's interfaces on other hosts: traffic to them is routed through the VPC's tunnel to
   * their host (ignored when this host has no tunnel or no instance of the VPC).
   */
  setRemotes(vpcId: string, remotes: RemoteNic[]): Promise<void> {
    return this.#serial(async () => {
      const state = this.#vpcs.get(vpcId);
      if (!state || !this.options.tunnel) return;
      state.remotes = remotes.map((r) => ({ ...r, endpoint: { ...r.endpoint } }));
      await this.#applyRemotes(state);
    });
  }

  async #applyRemotes(state: VpcState): Promise<void> {
    if (!this.options.tunnel) return;
    const wanted = tunnelEntries(state.spec.id, state.remotes, new Set(state.spec.subnets.map((s) => s.id)));
    await applyTunnelEntries(state.netns, state.tunnelEntries, wanted);
    state.tunnelEntries = wanted;
  }

  removeVpc(vpcId: string): Promise<void> {
    return this.#serial(() => this.#removeVpc(vpcId));
  }

  async #removeVpc(vpcId: string): Promise<void> {
    const state = this.#vpcs.get(vpcId);
    const netns = vpcNetns(this.options.tag, vpcId);
    if (state) {
      await state.dnsmasq?.stop();
      await state.proxy.close();
      for (const nic of state.nics.values()) if (nic.publicIp) await this.#hubRoute(nic.publicIp, null);
      this.#vpcs.delete(vpcId);
    }
    const link = hubVpcLink(vpcId);
    if ((await linkNames(this.hub)).has(link)) await run("ip", ["-n", this.hub, "link", "del", link]);
    await removeNetns(netns);
    await rm(join(dnsmasqRoot(this.options.tag), netns), { recursive: true, force: true });
  }

  /** Creates the tap on the subnet's bridge, the DHCP lease and name, the NAT, the metadata forward. */
  plugNic(nic: NicSpec): Promise<{ netns: string; tap: string }> {
    return this.#serial(() => this.#plugNic(nic));
  }

  async #plugNic(nic: NicSpec): Promise<{ netns: string; tap: string }> {
    const state = this.#vpcs.get(nic.vpcId);
    if (!state) throw new Error(`VPC ${nic.vpcId} is not set up on this host`);
    const subnet = state.spec.subnets.find((s) => s.id === nic.subnetId);
    if (!subnet) throw new Error(`subnet ${nic.subnetId} is not in VPC ${nic.vpcId}`);
    const c = parseCidr(subnet.cidr);
    const ip = parseIp(nic.privateIp);
    if (!contains(c, ip) || ip - c.base < 2 || ip === c.base + 2 ** (32 - c.prefix) - 1) {
      throw new Error(`${nic.privateIp} is not a host address of subnet ${subnet.cidr}`);
    }
    parseMac(nic.mac);
    if (nic.publicIp) this.#checkPublicIpFree(nic.instanceId, nic.publicIp);
    for (const [other, o] of state.nics) {
      if (other !== nic.instanceId && (o.privateIp === nic.privateIp || o.mac === nic.mac)) {
        throw new Error(`${nic.privateIp} or ${nic.mac} is already plugged in VPC ${nic.vpcId} (${other})`);
      }
    }
    await this.#unplug(nic.instanceId);
    const tap = nicTap(nic.instanceId);
    state.nics.set(nic.instanceId, { ...nic });
    try {
      // The guard, the lease and the NAT first; the tap joins its bridge last.
      await this.#applyNics(state);
      await ipBatch(state.netns, [`tuntap add dev ${tap} mode tap`]);
      await ipBatch(state.netns, [
        `link set ${tap} master ${subnetBridge(nic.subnetId)}`,
        `link set ${tap} up`,
      ]);
      if (nic.publicIp) await this.#hubRoute(nic.publicIp, nic.vpcId);
    } catch (e) {
      await this.#unplug(nic.instanceId).catch(() => {});
      throw e;
    }
    return { netns: state.netns, tap };
  }

  unplugNic(instanceId: string): Promise<void> {
    return this.#serial(() => this.#unplug(instanceId));
  }

  async #unplug(instanceId: string): Promise<void> {
    const state = this.#stateOf(instanceId);
    if (!state) return;
    const nic = state.nics.get(instanceId)!;
    const tap = nicTap(instanceId);
    if ((await linkNames(state.netns)).has(tap)) await run("ip", ["-n", state.netns, "link", "del", tap]);
    state.nics.delete(instanceId);
    if (nic.publicIp) await this.#hubRoute(nic.publicIp, null);
    state.proxy.routes.delete(nic.privateIp);
    await this.#applyNics(state);
  }

  /** Elastic IP (dis)association: the NAT and the hub's route follow at once. */
  setPublicIp(instanceId: string, publicIp: string | null): Promise<void> {
    return this.#serial(async () => {
      const state = this.#stateOf(instanceId);
      if (!state) throw new Error(`instance ${instanceId} has no interface plugged`);
      const nic = state.nics.get(instanceId)!;
      if (publicIp) this.#checkPublicIpFree(instanceId, publicIp);
      const old = nic.publicIp;
      nic.publicIp = publicIp;
      await nft(state.netns, compilePublic(publicAddresses(state), this.options.guestEgress));
      if (old && old !== publicIp) await this.#hubRoute(old, null);
      if (publicIp) await this.#hubRoute(publicIp, nic.vpcId);
    });
  }

  /** Replaces the VPC's whole rule set atomically; applies at once to running guests. */
  setFirewall(vpcId: string, nics: NicFirewall[]): Promise<void> {
    return this.#serial(async () => {
      const state = this.#vpcs.get(vpcId);
      if (!state) throw new Error(`VPC ${vpcId} is not set up on this host`);
      const script = compileFirewall(nics);
      if (script === state.firewall) return;
      await nft(state.netns, script);
      state.firewall = script;
    });
  }

  /** Removes everything it created (clean shutdown). */
  close(): Promise<void> {
    return this.#serial(async () => {
      for (const id of [...this.#vpcs.keys()]) await this.#removeVpc(id);
      await removeTagged(this.options.tag);
      this.#closed = true;
    });
  }

  #stateOf(instanceId: string): VpcState | undefined {
    for (const s of this.#vpcs.values()) if (s.nics.has(instanceId)) return s;
    return undefined;
  }

  #checkPublicIpFree(instanceId: string, publicIp: string): void {
    checkPublicIp(this.layout, publicIp);
    for (const s of this.#vpcs.values()) {
      for (const n of s.nics.values()) {
        if (n.instanceId !== instanceId && n.publicIp === publicIp) {
          throw new Error(`${publicIp} is already mapped to ${n.instanceId}`);
        }
      }
    }
  }

  async #applyNics(state: VpcState): Promise<void> {
    await nft(
      state.netns,
      compileGuard(
        [...state.nics.values()].map((n) => ({ tap: nicTap(n.instanceId), mac: n.mac, ip: n.privateIp })),
      ),
    );
    await nft(state.netns, compilePublic(publicAddresses(state), this.options.guestEgress));
    await state.dnsmasq?.setHosts(dhcpHosts(state));
    for (const n of state.nics.values()) state.proxy.routes.set(n.privateIp, n.metadataSocket);
  }

  /** Points the hub's route for a public address at a VPC (or removes it). */
  async #hubRoute(publicIp: string, vpcId: string | null): Promise<void> {
    if (vpcId) {
      await ipBatch(this.hub, [
        `route replace ${publicIp}/32 via ${this.layout.vpcUplinkIp} dev ${hubVpcLink(vpcId)} onlink`,
      ]);
    } else {
      await run("ip", ["-n", this.hub, "route", "del", `${publicIp}/32`], { allowFail: true });
    }
  }
}

function dhcpHosts(state: VpcState): DhcpHost[] {
  return [...state.nics.values()].map((n) => ({ mac: n.mac, ip: n.privateIp, hostname: n.hostname }));
}

function publicAddresses(state: VpcState): { privateIp: string; publicIp: string }[] {
  return [...state.nics.values()].flatMap((n) =>
    n.publicIp ? [{ privateIp: n.privateIp, publicIp: n.publicIp }] : [],
  );
}
