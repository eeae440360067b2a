// Elastic IPs (Domain vpc): allocated from the region's share of the public pool, associated
// with one interface at a time.
import { StrataError } from "../../errors.ts";
import { newId } from "../../ids.ts";
import type { Tag } from "../../storage/metadata/catalog-store.ts";
import type { NetworkStore, NetworkTx, StoredInterface } from "../../storage/metadata/network-store.ts";
import { mapInOrder } from "../../util/concurrency.ts";
import { validateTags } from "../tags/tag-rules.ts";
import { allocatePublicIp } from "./address-allocation.ts";
import type { NetworkEvents } from "./network-events.ts";
import { ownedOrNotFound } from "./network-ids.ts";
import type { AddressRecord } from "./network-records.ts";
import type { PublicRange } from "./public-pool.ts";
import { isPublic } from "./routing.ts";

/** EC2's default quota: Elastic IP addresses per region. */
export const MAX_ADDRESSES = 5;

export interface AssociateAddressRequest {
  allocationId?: string;
  publicIp?: string;
  instanceId?: string;
  networkInterfaceId?: string;
  privateIpAddress?: string;
  allowReassociation?: boolean;
}

const blank = (v: string | undefined) => (v === "" ? undefined : v);

export class AddressService {
  readonly #store: NetworkStore;
  readonly #events: NetworkEvents;
  readonly #publicRange: PublicRange;

  constructor(store: NetworkStore, events: NetworkEvents, publicRange: PublicRange) {
    this.#store = store;
    this.#events = events;
    this.#publicRange = publicRange;
  }

  async allocate(ownerId: string, tags: Tag[] = []): Promise<AddressRecord> {
    validateTags(tags);
    return this.#store.tx(async (t) => {
      if ((await t.addressesOf(ownerId)).length >= MAX_ADDRESSES) {
        throw new StrataError(
          "AddressLimitExceeded",
          `The maximum number of addresses (${MAX_ADDRESSES}) has been reached.`,
        );
      }
      const a: AddressRecord = {
        allocationId: newId("eipalloc"),
        ownerId,
        publicIp: await allocatePublicIp(t, this.#publicRange),
        associationId: null,
        networkInterfaceId: null,
        instanceId: null,
        privateIp: null,
      };
      await t.putAddress(a);
      await t.insertTags([a.allocationId], tags);
      return a;
    });
  }

  /** The caller's addresses (or those with the given allocation ids / public IPs). */
  async list(
    ownerId: string,
    by: { allocationIds?: string[]; publicIps?: string[] } = {},
  ): Promise<AddressRecord[]> {
    return this.#store.tx(async (t) => {
      const wanted = [
        ...(await mapInOrder(by.allocationIds ?? [], (id) => this.#byAllocation(t, ownerId, id))),
        ...(await mapInOrder(by.publicIps ?? [], (ip) => this.#byIp(t, ownerId, ip))),
      ];
      return by.allocationIds?.length || by.publicIps?.length ? wanted : await t.addressesOf(ownerId);
    });
  }

  async owned(ownerId: string, allocationId: string): Promise<AddressRecord> {
    return this.#store.tx(async (t) => this.#byAllocation(t, ownerId, allocationId));
  }

  async #byAllocation(t: NetworkTx, ownerId: string, id: string): Promise<AddressRecord> {
    return await ownedOrNotFound("allocation", id, ownerId, (x) => t.address(x));
  }

  async #byIp(t: NetworkTx, ownerId: string, ip: string): Promise<AddressRecord> {
    const a = await t.addressByIp(ip);
    if (!a || a.ownerId !== ownerId) {
      throw new StrataError("InvalidAddress.NotFound", `Address '${ip}' not found.`);
    }
    return a;
  }

  async #find(
    t: NetworkTx,
    ownerId: string,
    allocationId?: string,
    publicIp?: string,
  ): Promise<AddressRecord> {
    if (allocationId !== undefined) return await this.#byAllocation(t, ownerId, allocationId);
    if (publicIp !== undefined) return await this.#byIp(t, ownerId, publicIp);
    throw new StrataError("MissingParameter", "The request must contain the parameter AllocationId");
  }

  /** AssociateAddress: returns the association id. */
  async associate(ownerId: string, request: AssociateAddressRequest): Promise<string> {
    const instanceId = blank(request.instanceId);
    const nicId = blank(request.networkInterfaceId);
    if (instanceId !== undefined && nicId !== undefined) {
      throw new StrataError(
        "InvalidParameterCombination",
        "Specify either InstanceId or NetworkInterfaceId, not both",
      );
    }
    const { associationId, vpcIds } = await this.#store.tx(async (t) => {
      const address = await this.#find(t, ownerId, blank(request.allocationId), blank(request.publicIp));
      let nic: StoredInterface | undefined;
      if (nicId !== undefined)
        nic = await ownedOrNotFound("network-interface", nicId, ownerId, (x) => t.networkInterface(x));
      else if (instanceId !== undefined) {
        nic = (await t.interfacesOfInstances([instanceId])).find(
          (n) => n.ownerId === ownerId && n.deviceIndex === 0,
        );
        if (!nic)
          throw new StrataError(
            "InvalidInstanceID.NotFound",
            `The instance ID '${instanceId}' does not exist`,
          );
      } else
        throw new StrataError(
          "MissingParameter",
          "The request must contain the parameter InstanceId or NetworkInterfaceId",
        );
      const privateIp = blank(request.privateIpAddress);
      if (privateIp !== undefined && privateIp !== nic.privateIp) {
        throw new StrataError("InvalidParameterValue", `${privateIp} is not a private address of ${nic.id}`);
      }
      if (!(await t.gatewayOfVpc(nic.vpcId))) {
        throw new StrataError(
          "Gateway.NotAttached",
          `Network ${nic.vpcId} is not attached to any internet gateway`,
        );
      }
      if (address.networkInterfaceId === nic.id)
        return { associationId: address.associationId!, vpcIds: [nic.vpcId] };
      const vpcIds = [nic.vpcId];
      if (address.networkInterfaceId) {
        if (!request.allowReassociation) {
          throw new StrataError(
            "Resource.AlreadyAssociated",
            `resource ${address.allocationId} is already associated with associate-id ${address.associationId}`,
          );
        }
        const previous = await t.networkInterface(address.networkInterfaceId);
        if (previous) vpcIds.push(...(await this.#afterDisassociation(t, previous)));
      }
      // An interface has one Elastic IP: one it had is disassociated (it stays allocated).
      const current = await t.addressOfInterface(nic.id);
      if (current) await t.putAddress(detached(current));
      const association = newId("eipassoc");
      await t.putAddress({
        ...address,
        associationId: association,
        networkInterfaceId: nic.id,
        instanceId: nic.instanceId,
        privateIp: nic.privateIp,
      });
      // The Elastic IP takes the place of the auto-assigned public address, as on EC2.
      if (nic.publicIp) await t.putInterface({ ...nic, publicIp: null });
      return { associationId: association, vpcIds };
    });
    for (const v of new Set(vpcIds)) this.#events.emit(v);
    return associationId;
  }

  /** An interface that loses its Elastic IP gets a new auto-assigned address if it was launched with one. */
  async #afterDisassociation(t: NetworkTx, nic: StoredInterface): Promise<string[]> {
    const subnet = await t.subnet(nic.subnetId);
    if (nic.autoPublic && nic.started && !nic.publicIp && subnet && (await isPublic(t, subnet))) {
      await t.putInterface({ ...nic, publicIp: await allocatePublicIp(t, this.#publicRange) });
    }
    return [nic.vpcId];
  }

  async disassociate(ownerId: string, by: { associationId?: string; publicIp?: string }): Promise<void> {
    const vpcIds = await this.#store.tx(async (t) => {
      let address: AddressRecord | undefined;
      const associationId = blank(by.associationId);
      if (associationId !== undefined) {
        address = await t.addressByAssociation(associationId);
        if (!address || address.ownerId !== ownerId) {
          throw new StrataError(
            "InvalidAssociationID.NotFound",
            `The association ID '${associationId}' does not exist`,
          );
        }
      } else {
        address = await this.#find(t, ownerId, undefined, blank(by.publicIp));
        if (!address.associationId) return [];
      }
      await t.putAddress(detached(address));
      const nic = address.networkInterfaceId
        ? await t.networkInterface(address.networkInterfaceId)
        : undefined;
      return nic ? await this.#afterDisassociation(t, nic) : [];
    });
    for (const v of vpcIds) this.#events.emit(v);
  }

  async release(ownerId: string, by: { allocationId?: string; publicIp?: string }): Promise<void> {
    await this.#store.tx(async (t) => {
      const address = await this.#find(t, ownerId, blank(by.allocationId), blank(by.publicIp));
      if (address.associationId) {
        throw new StrataError(
          "InvalidIPAddress.InUse",
          `Address ${address.publicIp} is in use (${address.associationId}).`,
        );
      }
      await t.deleteAddress(address.allocationId);
      await t.deleteTags([address.allocationId]);
    });
  }
}

function detached(a: AddressRecord): AddressRecord {
  return { ...a, associationId: null, networkInterfaceId: null, instanceId: null, privateIp: null };
}
