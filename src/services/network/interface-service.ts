// Instances' network interfaces: a launch is planned (everything validated, nothing created),
// then its interfaces are created in one transaction; public addresses follow EC2's life cycle
// (released at stop, a new one at start; an Elastic IP replaces the auto-assigned one).
import { StrataError } from "../../errors.ts";
import { newId } from "../../ids.ts";
import type { NetworkStore, NetworkTx, StoredInterface } from "../../storage/metadata/network-store.ts";
import { mapInOrder } from "../../util/concurrency.ts";
import { checkAvailabilityZone } from "../volumes/volume-service.ts";
import { allocateMac, allocatePrivateIp, allocatePublicIp, freePublicIps } from "./address-allocation.ts";
import { containsIp, isReserved, parseCidr, parseIp, usableCount } from "./cidr.ts";
import type { SecurityGroupLookup, VpcLookup } from "./contracts.ts";
import type { NetworkEvents } from "./network-events.ts";
import { ownedOrNotFound } from "./network-ids.ts";
import type { NetworkInterfaceRecord, SubnetRecord, VpcRecord } from "./network-records.ts";
import type { PublicRange } from "./public-pool.ts";
import { isPublic } from "./routing.ts";

/** RunInstances' network parameters (empty strings already dropped). */
export interface LaunchNetworkRequest {
  subnetId?: string;
  availabilityZone?: string;
  securityGroupIds?: string[];
  securityGroupNames?: string[];
  privateIpAddress?: string;
  associatePublicIpAddress?: boolean;
}

/** A validated launch: where its instances' interfaces go. */
export interface LaunchPlan {
  ownerId: string;
  vpcId: string;
  subnetId: string;
  availabilityZone: string;
  groupIds: string[];
  /** The requested PrivateIpAddress (count 1 only), else null: allocated from .4 up. */
  privateIp: string | null;
  /** Whether each interface gets an auto-assigned public address. */
  publicIp: boolean;
}

/** The public address an interface answers at: an Elastic IP's, else the auto-assigned one. */
export interface PublicAssociation {
  publicIp: string;
  allocationId: string | null;
  associationId: string | null;
  /** The Elastic IP's owner, or "amazon" for an auto-assigned address (as EC2 shows IpOwnerId). */
  ipOwnerId: string;
}

export interface InterfaceView extends NetworkInterfaceRecord {
  association: PublicAssociation | null;
}

/** What the data plane needs of a VPC (undefined vpc: it was deleted). */
export interface VpcState {
  vpc: VpcRecord | undefined;
  subnets: SubnetRecord[];
  interfaces: InterfaceView[];
}

export async function viewOf(t: NetworkTx, n: StoredInterface): Promise<InterfaceView> {
  const { autoPublic: _a, started: _s, ...record } = n;
  const eip = await t.addressOfInterface(n.id);
  const association: PublicAssociation | null = eip
    ? {
        publicIp: eip.publicIp,
        allocationId: eip.allocationId,
        associationId: eip.associationId,
        ipOwnerId: eip.ownerId,
      }
    : n.publicIp
      ? { publicIp: n.publicIp, allocationId: null, associationId: null, ipOwnerId: "amazon" }
      : null;
  return { ...record, association };
}

export class InterfaceService {
  readonly #region: string;
  readonly #store: NetworkStore;
  readonly #vpcs: VpcLookup;
  readonly #groups: () => SecurityGroupLookup;
  readonly #events: NetworkEvents;
  readonly #publicRange: PublicRange;

  constructor(
    region: string,
    store: NetworkStore,
    vpcs: VpcLookup,
    groups: () => SecurityGroupLookup,
    events: NetworkEvents,
    publicRange: PublicRange,
  ) {
    this.#region = region;
    this.#store = store;
    this.#vpcs = vpcs;
    this.#groups = groups;
    this.#events = events;
    this.#publicRange = publicRange;
  }

  /** Validates a launch of `count` instances; creates nothing. */
  async planLaunch(ownerId: string, request: LaunchNetworkRequest, count: number): Promise<LaunchPlan> {
    const r = dropEmpty(request);
    if (r.availabilityZone !== undefined) checkAvailabilityZone(this.#region, r.availabilityZone);
    let subnet: SubnetRecord;
    if (r.subnetId !== undefined) {
      subnet = await this.#store.tx(async (t) =>
        ownedOrNotFound("subnet", r.subnetId!, ownerId, (x) => t.subnet(x)),
      );
      if (r.availabilityZone !== undefined && r.availabilityZone !== subnet.availabilityZone) {
        throw new StrataError(
          "InvalidParameterValue",
          `The subnet '${subnet.id}' is in ${subnet.availabilityZone}, not in the requested zone ${r.availabilityZone}`,
        );
      }
    } else {
      const vpc = await this.#vpcs.defaultVpc(ownerId);
      const zone = r.availabilityZone ?? `${this.#region}a`;
      const found = await this.#store.tx(async (t) =>
        (await t.subnetsInVpc(vpc.id)).find((s) => s.defaultForAz && s.availabilityZone === zone),
      );
      if (!found)
        throw new StrataError("MissingInput", `No default subnet for availability zone: '${zone}'.`);
      subnet = found;
    }
    const groups = await this.#groups().resolveForLaunch(
      ownerId,
      subnet.vpcId,
      r.securityGroupIds,
      r.securityGroupNames,
    );
    const cidr = parseCidr(subnet.cidr)!;
    const plan: LaunchPlan = {
      ownerId,
      vpcId: subnet.vpcId,
      subnetId: subnet.id,
      availabilityZone: subnet.availabilityZone,
      groupIds: groups.map((g) => g.id),
      privateIp: null,
      publicIp: false,
    };
    await this.#store.tx(async (t) => {
      if (r.privateIpAddress !== undefined) {
        const ip = parseIp(r.privateIpAddress);
        if (count !== 1) {
          throw new StrataError(
            "InvalidParameterValue",
            "PrivateIpAddress can be given only for one instance (MaxCount 1)",
          );
        }
        if (ip === undefined || !containsIp(cidr, ip) || isReserved(cidr, ip)) {
          throw new StrataError(
            "InvalidParameterValue",
            `Address ${r.privateIpAddress} is not a usable address of subnet ${subnet.id} (${subnet.cidr})`,
          );
        }
        if ((await t.privateIpsInSubnet(subnet.id)).includes(r.privateIpAddress)) {
          throw new StrataError("InvalidIPAddress.InUse", `Address ${r.privateIpAddress} is in use.`);
        }
        plan.privateIp = r.privateIpAddress;
      }
      if (usableCount(cidr) - (await t.privateIpsInSubnet(subnet.id)).length < count) {
        throw new StrataError(
          "InsufficientFreeAddressesInSubnet",
          `There are not enough free addresses in subnet '${subnet.id}' to satisfy the requested number of instances.`,
        );
      }
      // A public address only where it means something: a subnet routed to an attached gateway.
      plan.publicIp =
        (r.associatePublicIpAddress ?? subnet.mapPublicIpOnLaunch) && (await isPublic(t, subnet));
      if (plan.publicIp && (await freePublicIps(t, this.#publicRange)) < count) {
        throw new StrataError(
          "InsufficientAddressCapacity",
          "There are not enough free public addresses in this region's pool.",
        );
      }
    });
    return plan;
  }

  /** Creates one primary interface per instance, all in one transaction. */
  async createForInstances(
    ownerId: string,
    plan: LaunchPlan,
    instanceIds: string[],
  ): Promise<InterfaceView[]> {
    const views = await this.#store.tx(async (t) => {
      const subnet = await ownedOrNotFound("subnet", plan.subnetId, ownerId, (x) => t.subnet(x));
      // The groups planned earlier, again in this unit: one deleted since fails the launch.
      await t.requireGroups(plan.groupIds);
      if (plan.privateIp && instanceIds.length !== 1) {
        throw new StrataError(
          "InvalidParameterValue",
          "PrivateIpAddress can be given only for one instance (MaxCount 1)",
        );
      }
      if (plan.privateIp && (await t.privateIpsInSubnet(subnet.id)).includes(plan.privateIp)) {
        throw new StrataError("InvalidIPAddress.InUse", `Address ${plan.privateIp} is in use.`);
      }
      // One after another: each allocation sees the interfaces written before it.
      return mapInOrder(instanceIds, async (instanceId) => {
        const n: StoredInterface = {
          id: newId("eni"),
          ownerId,
          vpcId: subnet.vpcId,
          subnetId: subnet.id,
          availabilityZone: subnet.availabilityZone,
          mac: await allocateMac(t),
          privateIp: plan.privateIp ?? (await allocatePrivateIp(t, subnet)),
          groupIds: plan.groupIds,
          publicIp: plan.publicIp ? await allocatePublicIp(t, this.#publicRange) : null,
          autoPublic: plan.publicIp,
          started: true,
          instanceId,
          attachmentId: newId("eni-attach"),
          deviceIndex: 0,
          deleteOnTermination: true,
          description: "",
        };
        await t.putInterface(n);
        return viewOf(t, n);
      });
    });
    this.#events.emit(plan.vpcId);
    return views;
  }

  async createForInstance(ownerId: string, plan: LaunchPlan, instanceId: string): Promise<InterfaceView> {
    return (await this.createForInstances(ownerId, plan, [instanceId]))[0];
  }

  /** Stop: EC2 releases an auto-assigned public address (an Elastic IP stays). */
  async releasePublicIp(instanceId: string): Promise<void> {
    await this.#changeInstance(instanceId, async (_t, n) => ({ ...n, started: false, publicIp: null }));
  }

  /** Start: a new auto-assigned public address for an interface launched with one (unless it has an Elastic IP). */
  async assignPublicIp(instanceId: string): Promise<void> {
    await this.#changeInstance(instanceId, async (t, n) => {
      const wants =
        n.autoPublic &&
        !n.publicIp &&
        !(await t.addressOfInterface(n.id)) &&
        (await isPublic(t, (await t.subnet(n.subnetId))!));
      return {
        ...n,
        started: true,
        publicIp: wants ? await allocatePublicIp(t, this.#publicRange) : n.publicIp,
      };
    });
  }

  /** Termination: interfaces go (DeleteOnTermination), their Elastic IPs are disassociated. */
  async deleteForInstance(instanceId: string): Promise<void> {
    const vpcIds = await this.#store.tx(async (t) => {
      const nics = await t.interfacesOfInstances([instanceId]);
      for (const n of nics) {
        const eip = await t.addressOfInterface(n.id);
        if (eip)
          await t.putAddress({
            ...eip,
            associationId: null,
            networkInterfaceId: null,
            instanceId: null,
            privateIp: null,
          });
        if (n.deleteOnTermination) {
          await t.deleteInterface(n.id);
          await t.deleteTags([n.id]);
        } else
          await t.putInterface({
            ...n,
            instanceId: null,
            attachmentId: null,
            publicIp: null,
            started: false,
          });
      }
      return [...new Set(nics.map((n) => n.vpcId))];
    });
    for (const v of vpcIds) this.#events.emit(v);
  }

  /** The instances' interfaces, by instance id (device index order). */
  async interfacesOf(instanceIds: string[]): Promise<Map<string, InterfaceView[]>> {
    // Made inside the unit: a unit run again (PostgreSQL's retry) starts from an empty map.
    return this.#store.tx(async (t) => {
      const out = new Map<string, InterfaceView[]>();
      for (const n of await t.interfacesOfInstances(instanceIds)) {
        const list = out.get(n.instanceId!) ?? [];
        list.push(await viewOf(t, n));
        out.set(n.instanceId!, list);
      }
      return out;
    });
  }

  /** ModifyInstanceAttribute GroupId.N: the groups must be the caller's and in the interface's VPC. */
  async setGroups(ownerId: string, instanceId: string, groupIds: string[]): Promise<void> {
    const primary = await this.#store.tx(async (t) =>
      (await t.interfacesOfInstances([instanceId])).find((n) => n.ownerId === ownerId && n.deviceIndex === 0),
    );
    if (!primary)
      throw new StrataError("InvalidInstanceID.NotFound", `The instance ID '${instanceId}' does not exist`);
    if (!groupIds.length)
      throw new StrataError("MissingParameter", "The request must contain the parameter groupId");
    const groups = await this.#groups().resolveForLaunch(ownerId, primary.vpcId, groupIds, undefined);
    const ids = groups.map((g) => g.id);
    await this.#changeInstance(instanceId, async (t, n) => {
      if (n.id !== primary.id) return n;
      await t.requireGroups(ids);
      return { ...n, groupIds: ids };
    });
  }

  /** DescribeNetworkInterfaces: the caller's interfaces (or the given ids: NotFound for any not theirs). */
  async list(ownerId: string, ids?: string[]): Promise<InterfaceView[]> {
    return this.#store.tx(async (t) => {
      const nics = ids?.length
        ? await mapInOrder(ids, (id) =>
            ownedOrNotFound("network-interface", id, ownerId, (x) => t.networkInterface(x)),
          )
        : await t.interfacesOf(ownerId);
      return mapInOrder(nics, (n) => viewOf(t, n));
    });
  }

  /** The owned lookup tags need. */
  async owned(ownerId: string, id: string): Promise<NetworkInterfaceRecord> {
    return (await this.list(ownerId, [id]))[0];
  }

  /** Everything the data plane needs to bring a VPC to its current state. */
  async vpcState(vpcId: string): Promise<VpcState> {
    return this.#store.tx(async (t) => ({
      vpc: await t.vpc(vpcId),
      subnets: await t.subnetsInVpc(vpcId),
      interfaces: await mapInOrder(await t.interfacesInVpc(vpcId), (n) => viewOf(t, n)),
    }));
  }

  async #changeInstance(
    instanceId: string,
    change: (t: NetworkTx, n: StoredInterface) => Promise<StoredInterface>,
  ): Promise<void> {
    const vpcIds = await this.#store.tx(async (t) => {
      const nics = await t.interfacesOfInstances([instanceId]);
      for (const n of nics) await t.putInterface(await change(t, n));
      return [...new Set(nics.map((n) => n.vpcId))];
    });
    for (const v of vpcIds) this.#events.emit(v);
  }
}

function dropEmpty(r: LaunchNetworkRequest): LaunchNetworkRequest {
  const s = (v: string | undefined) => (v === "" ? undefined : v);
  const list = (v: string[] | undefined) => {
    const kept = v?.filter((x) => x !== "");
    return kept?.length ? kept : undefined;
  };
  return {
    subnetId: s(r.subnetId),
    availabilityZone: s(r.availabilityZone),
    securityGroupIds: list(r.securityGroupIds),
    securityGroupNames: list(r.securityGroupNames),
    privateIpAddress: s(r.privateIpAddress),
    associatePublicIpAddress: r.associatePublicIpAddress,
  };
}
