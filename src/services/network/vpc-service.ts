// One region's VPCs and subnets, and each account's default VPC (created on first use, as AWS
// does for new accounts). The rules live here; every change is one transaction of the store.
import { StrataError } from "../../errors.ts";
import { newId } from "../../ids.ts";
import type { Tag } from "../../storage/metadata/catalog-store.ts";
import type { NetworkStore, NetworkTx } from "../../storage/metadata/network-store.ts";
import { LocalRegionLocks, type RegionLocks } from "../../storage/metadata/region-locks.ts";
import { mapInOrder } from "../../util/concurrency.ts";
import { validateTags } from "../tags/tag-rules.ts";
import { checkAvailabilityZone } from "../volumes/volume-service.ts";
import { cidrParameter, containsCidr, formatCidr, overlaps, parseCidr, usableCount } from "./cidr.ts";
import { type SecurityGroupLookup, type VpcLookup, vpcLockName } from "./contracts.ts";
import type { NetworkEvents } from "./network-events.ts";
import { dependencyViolation, ownedOrNotFound } from "./network-ids.ts";
import type { RouteTableRecord, SubnetRecord, VpcRecord } from "./network-records.ts";

export const DEFAULT_VPC_CIDR = "172.31.0.0/16";
/** EC2's default quota: VPCs per region (the default VPC counts). */
export const MAX_VPCS = 5;
const ZONES = ["a", "b", "c"];

/** A VPC's main route table as CreateVpc makes it: only the local route. */
export function mainRouteTable(vpc: VpcRecord): RouteTableRecord {
  return {
    id: newId("rtb"),
    ownerId: vpc.ownerId,
    vpcId: vpc.id,
    main: true,
    routes: [{ destinationCidr: vpc.cidr, gatewayId: "local" }],
    associations: [{ id: newId("rtbassoc"), subnetId: null, main: true }],
  };
}

function checkPrefix(cidr: string, parameter: string, kind: "vpc" | "subnet"): string {
  const c = cidrParameter(cidr, parameter);
  // EC2: VPC and subnet blocks are /16 to /28.
  if (c.prefix < 16 || c.prefix > 28) {
    throw kind === "vpc"
      ? new StrataError("InvalidVpc.Range", `The CIDR '${cidr}' is invalid (a VPC's block is /16 to /28).`)
      : new StrataError(
          "InvalidSubnet.Range",
          `The CIDR '${cidr}' is invalid (a subnet's block is /16 to /28).`,
        );
  }
  return formatCidr(c);
}

export class VpcService implements VpcLookup {
  readonly #region: string;
  readonly #store: NetworkStore;
  readonly #groups: () => SecurityGroupLookup;
  readonly #events: NetworkEvents;
  readonly #locks: RegionLocks;
  /** Owners known to have a default VPC, so describe calls skip the check. */
  readonly #withDefault = new Set<string>();
  /** Default-group creation in flight per VPC (two first calls create one group). */
  readonly #ensuring = new Map<string, Promise<void>>();

  constructor(
    region: string,
    store: NetworkStore,
    groups: () => SecurityGroupLookup,
    events: NetworkEvents,
    locks: RegionLocks = new LocalRegionLocks(),
  ) {
    this.#region = region;
    this.#locks = locks;
    this.#store = store;
    this.#groups = groups;
    this.#events = events;
  }

  async vpc(ownerId: string, vpcId: string): Promise<VpcRecord> {
    return this.#store.tx(async (t) => ownedOrNotFound("vpc", vpcId, ownerId, (id) => t.vpc(id)));
  }

  async defaultVpc(ownerId: string): Promise<VpcRecord> {
    const { vpc, created } = await this.#store.tx(async (t) => {
      const found = await t.defaultVpcOf(ownerId);
      return found
        ? { vpc: found, created: false }
        : { vpc: await this.#createDefault(t, ownerId), created: true };
    });
    await this.#ensureDefaultGroup(vpc);
    this.#withDefault.add(ownerId);
    if (created) this.#events.emit(vpc.id);
    return vpc;
  }

  /**
   * Creates the account's default VPC unless it has one. Describe calls are its first use: they
   * call this once the request is known to succeed, so a refused request changes nothing.
   */
  async ensureDefault(ownerId: string): Promise<void> {
    if (!this.#withDefault.has(ownerId)) await this.defaultVpc(ownerId);
  }

  // The default VPC of the design: 172.31.0.0/16, a /20 per zone, an attached internet gateway,
  // the main route table sending 0.0.0.0/0 to it.
  async #createDefault(t: NetworkTx, ownerId: string): Promise<VpcRecord> {
    const vpc: VpcRecord = {
      id: newId("vpc"),
      ownerId,
      cidr: DEFAULT_VPC_CIDR,
      isDefault: true,
      createdAt: new Date().toISOString(),
    };
    await t.insertVpc(vpc);
    for (const [i, z] of ZONES.entries()) {
      await t.insertSubnet({
        id: newId("subnet"),
        ownerId,
        vpcId: vpc.id,
        cidr: `172.31.${i * 16}.0/20`,
        availabilityZone: `${this.#region}${z}`,
        mapPublicIpOnLaunch: true,
        defaultForAz: true,
      });
    }
    const igw = { id: newId("igw"), ownerId, vpcId: vpc.id };
    await t.insertGateway(igw);
    const main = mainRouteTable(vpc);
    main.routes.push({ destinationCidr: "0.0.0.0/0", gatewayId: igw.id });
    await t.putRouteTable(main);
    return vpc;
  }

  async #ensureDefaultGroup(vpc: VpcRecord): Promise<void> {
    if (await this.#store.tx(async (t) => t.groupReady(vpc.id))) return;
    let pending = this.#ensuring.get(vpc.id);
    if (!pending) {
      pending = (async () => {
        // A crash after the group's commit but before the mark leaves the group: it is kept.
        const groups = await this.#groups().groupsInVpc(vpc.id);
        if (!groups.some((g) => g.name === "default"))
          await this.#groups().createDefaultGroup(vpc.ownerId, vpc.id);
        await this.#store.tx(async (t) => t.markGroupReady(vpc.id));
      })().finally(() => this.#ensuring.delete(vpc.id));
      this.#ensuring.set(vpc.id, pending);
    }
    await pending;
  }

  /** Start-up: a crash between a VPC's commit and its default group's is completed. */
  async recover(): Promise<void> {
    for (const vpc of await this.#store.tx(async (t) => t.vpcsWithoutGroup())) {
      try {
        await this.#ensureDefaultGroup(vpc);
      } catch (e) {
        // Not fatal to the start: the next start (or, for a default VPC, its next use) completes it.
        console.error(`${this.#region}: the default security group of ${vpc.id} could not be made:`, e);
      }
    }
  }

  /** Checks a CreateVpc request (DryRun stops after this). */
  checkCreateVpc(cidr: string, tags: Tag[]): string {
    validateTags(tags);
    return checkPrefix(cidr, "cidrBlock", "vpc");
  }

  async createVpc(ownerId: string, input: { cidr: string; tags?: Tag[] }): Promise<VpcRecord> {
    const cidr = this.checkCreateVpc(input.cidr, input.tags ?? []);
    await this.ensureDefault(ownerId);
    const vpc = await this.#store.tx(async (t) => {
      if ((await t.vpcsOf(ownerId)).length >= MAX_VPCS) {
        throw new StrataError(
          "VpcLimitExceeded",
          `The maximum number of VPCs (${MAX_VPCS}) has been reached.`,
        );
      }
      const v: VpcRecord = {
        id: newId("vpc"),
        ownerId,
        cidr,
        isDefault: false,
        createdAt: new Date().toISOString(),
      };
      await t.insertVpc(v);
      await t.putRouteTable(mainRouteTable(v));
      await t.insertTags([v.id], input.tags ?? []);
      return v;
    });
    try {
      await this.#ensureDefaultGroup(vpc);
    } catch (e) {
      // Nothing half-made stays: without its default group the VPC is undone.
      await this.#store.tx(async (t) => this.#deleteVpcRows(t, vpc.id));
      throw e;
    }
    this.#events.emit(vpc.id);
    return vpc;
  }

  /** The caller's VPCs (all, or the given ids: InvalidVpcID.NotFound for any not theirs). */
  async listVpcs(ownerId: string, ids?: string[]): Promise<VpcRecord[]> {
    return this.#store.tx(async (t) =>
      ids?.length
        ? await mapInOrder(ids, (id) => ownedOrNotFound("vpc", id, ownerId, (x) => t.vpc(x)))
        : await t.vpcsOf(ownerId),
    );
  }

  async deleteVpc(ownerId: string, vpcId: string): Promise<void> {
    const vpc = await this.vpc(ownerId, vpcId);
    // From the groups' check to their delete: no group is created in the VPC meanwhile.
    await this.#locks.withLocks([vpcLockName(this.#region, vpc.id)], () => this.#deleteVpc(vpc));
    if (vpc.isDefault) this.#withDefault.delete(ownerId);
    this.#events.emit(vpc.id);
  }

  async #deleteVpc(vpc: VpcRecord): Promise<void> {
    const others = (await this.#groups().groupsInVpc(vpc.id)).filter((g) => g.name !== "default");
    await this.#store.tx(async (t) => {
      const busy = (what: string) =>
        dependencyViolation(`The vpc '${vpc.id}' has dependencies and cannot be deleted (${what}).`);
      if ((await t.subnetsInVpc(vpc.id)).length) throw busy("subnets");
      if (await t.gatewayOfVpc(vpc.id)) throw busy("an attached internet gateway");
      if ((await t.routeTablesInVpc(vpc.id)).some((r) => !r.main)) throw busy("route tables");
      if ((await t.interfacesInVpc(vpc.id)).length) throw busy("network interfaces");
      if (others.length) throw busy(`security groups: ${others.map((g) => g.id).join(", ")}`);
      await this.#deleteVpcRows(t, vpc.id);
    });
    await this.#groups().deleteGroupsOfVpc(vpc.id);
  }

  async #deleteVpcRows(t: NetworkTx, vpcId: string): Promise<void> {
    for (const r of await t.routeTablesInVpc(vpcId)) {
      await t.deleteRouteTable(r.id);
      await t.deleteTags([r.id]);
    }
    await t.deleteVpc(vpcId);
    await t.deleteTags([vpcId]);
  }

  async subnet(ownerId: string, subnetId: string): Promise<SubnetRecord> {
    return this.#store.tx(async (t) => ownedOrNotFound("subnet", subnetId, ownerId, (id) => t.subnet(id)));
  }

  /** Checks a CreateSubnet request's own values (DryRun stops after this and the VPC check). */
  checkCreateSubnet(input: { cidr: string; availabilityZone?: string; tags?: Tag[] }): string {
    validateTags(input.tags ?? []);
    if (input.availabilityZone !== undefined) checkAvailabilityZone(this.#region, input.availabilityZone);
    return checkPrefix(input.cidr, "cidrBlock", "subnet");
  }

  async createSubnet(
    ownerId: string,
    input: { vpcId: string; cidr: string; availabilityZone?: string; tags?: Tag[] },
  ): Promise<SubnetRecord> {
    const cidr = this.checkCreateSubnet(input);
    const subnet = await this.#store.tx(async (t) => {
      const vpc = await ownedOrNotFound("vpc", input.vpcId, ownerId, (id) => t.vpc(id));
      const c = parseCidr(cidr)!;
      if (!containsCidr(parseCidr(vpc.cidr)!, c)) {
        throw new StrataError(
          "InvalidSubnet.Range",
          `The CIDR '${cidr}' is invalid (outside ${vpc.cidr} of ${vpc.id}).`,
        );
      }
      const clash = (await t.subnetsInVpc(vpc.id)).find((s) => overlaps(parseCidr(s.cidr)!, c));
      if (clash) {
        throw new StrataError(
          "InvalidSubnet.Conflict",
          `The CIDR '${cidr}' conflicts with another subnet (${clash.id}).`,
        );
      }
      const s: SubnetRecord = {
        id: newId("subnet"),
        ownerId,
        vpcId: vpc.id,
        cidr,
        availabilityZone: input.availabilityZone ?? `${this.#region}a`,
        // EC2: only default subnets map public addresses unless ModifySubnetAttribute says so.
        mapPublicIpOnLaunch: false,
        defaultForAz: false,
      };
      await t.insertSubnet(s);
      await t.insertTags([s.id], input.tags ?? []);
      return s;
    });
    this.#events.emit(subnet.vpcId);
    return subnet;
  }

  async listSubnets(ownerId: string, ids?: string[]): Promise<SubnetRecord[]> {
    return this.#store.tx(async (t) =>
      ids?.length
        ? await mapInOrder(ids, (id) => ownedOrNotFound("subnet", id, ownerId, (x) => t.subnet(x)))
        : await t.subnetsOf(ownerId),
    );
  }

  /** AvailableIpAddressCount: the usable addresses less those interfaces hold. */
  async availableIpCount(subnet: SubnetRecord): Promise<number> {
    const used = await this.#store.tx(async (t) => (await t.privateIpsInSubnet(subnet.id)).length);
    return usableCount(parseCidr(subnet.cidr)!) - used;
  }

  async deleteSubnet(ownerId: string, subnetId: string): Promise<void> {
    const subnet = await this.#store.tx(async (t) => {
      const s = await ownedOrNotFound("subnet", subnetId, ownerId, (id) => t.subnet(id));
      if ((await t.interfacesInSubnet(s.id)).length) {
        throw dependencyViolation(`The subnet '${s.id}' has dependencies and cannot be deleted.`);
      }
      // Its explicit route table association goes with it, as on EC2.
      for (const r of await t.routeTablesInVpc(s.vpcId)) {
        if (r.associations.some((a) => a.subnetId === s.id)) {
          await t.putRouteTable({ ...r, associations: r.associations.filter((a) => a.subnetId !== s.id) });
        }
      }
      await t.deleteSubnet(s.id);
      await t.deleteTags([s.id]);
      return s;
    });
    this.#events.emit(subnet.vpcId);
  }

  async setMapPublicIpOnLaunch(ownerId: string, subnetId: string, value: boolean): Promise<void> {
    await this.#store.tx(async (t) => {
      const s = await ownedOrNotFound("subnet", subnetId, ownerId, (id) => t.subnet(id));
      await t.updateSubnet({ ...s, mapPublicIpOnLaunch: value });
    });
  }
}
