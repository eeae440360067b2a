// One region's internet gateways and route tables.
import { StrataError } from "../../errors.ts";
import { isId, newId } from "../../ids.ts";
import type { Tag } from "../../storage/metadata/catalog-store.ts";
import type { NetworkStore, NetworkTx, StoredInterface } from "../../storage/metadata/network-store.ts";
import { mapInOrder } from "../../util/concurrency.ts";
import { validateTags } from "../tags/tag-rules.ts";
import { cidrParameter, formatCidr } from "./cidr.ts";
import type { NetworkEvents } from "./network-events.ts";
import { dependencyViolation, ownedOrNotFound } from "./network-ids.ts";
import type { InternetGatewayRecord, RouteTableRecord, SubnetRecord } from "./network-records.ts";
import { isPublic } from "./routing.ts";

export class RouteService {
  readonly #store: NetworkStore;
  readonly #events: NetworkEvents;

  constructor(store: NetworkStore, events: NetworkEvents) {
    this.#store = store;
    this.#events = events;
  }

  /** Whether the subnet's route table sends 0.0.0.0/0 to an internet gateway attached to its VPC. */
  async isPublic(subnet: SubnetRecord): Promise<boolean> {
    return this.#store.tx(async (t) => isPublic(t, subnet));
  }

  async gateway(ownerId: string, id: string): Promise<InternetGatewayRecord> {
    return this.#store.tx(async (t) => ownedOrNotFound("internet-gateway", id, ownerId, (x) => t.gateway(x)));
  }

  async createGateway(ownerId: string, tags: Tag[] = []): Promise<InternetGatewayRecord> {
    validateTags(tags);
    return this.#store.tx(async (t) => {
      const g = { id: newId("igw"), ownerId, vpcId: null };
      await t.insertGateway(g);
      await t.insertTags([g.id], tags);
      return g;
    });
  }

  async listGateways(ownerId: string, ids?: string[]): Promise<InternetGatewayRecord[]> {
    return this.#store.tx(async (t) =>
      ids?.length
        ? await mapInOrder(ids, (id) => ownedOrNotFound("internet-gateway", id, ownerId, (x) => t.gateway(x)))
        : await t.gatewaysOf(ownerId),
    );
  }

  async attachGateway(ownerId: string, gatewayId: string, vpcId: string): Promise<void> {
    await this.#store.tx(async (t) => {
      const g = await ownedOrNotFound("internet-gateway", gatewayId, ownerId, (x) => t.gateway(x));
      const vpc = await ownedOrNotFound("vpc", vpcId, ownerId, (x) => t.vpc(x));
      if (g.vpcId) {
        throw new StrataError(
          "Resource.AlreadyAssociated",
          `resource ${g.id} is already attached to network ${g.vpcId}`,
        );
      }
      const other = await t.gatewayOfVpc(vpc.id);
      if (other) {
        throw new StrataError(
          "Resource.AlreadyAssociated",
          `network ${vpc.id} already has an internet gateway attached (${other.id})`,
        );
      }
      await t.updateGateway({ ...g, vpcId: vpc.id });
    });
    this.#events.emit(vpcId);
  }

  async detachGateway(ownerId: string, gatewayId: string, vpcId: string): Promise<void> {
    await this.#store.tx(async (t) => {
      const g = await ownedOrNotFound("internet-gateway", gatewayId, ownerId, (x) => t.gateway(x));
      const vpc = await ownedOrNotFound("vpc", vpcId, ownerId, (x) => t.vpc(x));
      if (g.vpcId !== vpc.id) {
        throw new StrataError("Gateway.NotAttached", `resource ${g.id} is not attached to network ${vpc.id}`);
      }
      // EC2 refuses while the VPC has instances with public addresses (auto-assigned or Elastic).
      const mapped: StoredInterface[] = [];
      for (const n of await t.interfacesInVpc(vpc.id)) {
        if (n.publicIp || (await t.addressOfInterface(n.id))) mapped.push(n);
      }
      if (mapped.length) {
        throw dependencyViolation(
          `Network ${vpc.id} has some mapped public address(es) (${mapped.map((n) => n.id).join(", ")}). Please unmap those public address(es) before detaching the gateway.`,
        );
      }
      await t.updateGateway({ ...g, vpcId: null });
    });
    this.#events.emit(vpcId);
  }

  async deleteGateway(ownerId: string, gatewayId: string): Promise<void> {
    await this.#store.tx(async (t) => {
      const g = await ownedOrNotFound("internet-gateway", gatewayId, ownerId, (x) => t.gateway(x));
      if (g.vpcId)
        throw dependencyViolation(`The internetGateway '${g.id}' has dependencies and cannot be deleted.`);
      await t.deleteGateway(g.id);
      await t.deleteTags([g.id]);
    });
  }

  async routeTable(ownerId: string, id: string): Promise<RouteTableRecord> {
    return this.#store.tx(async (t) => ownedOrNotFound("route-table", id, ownerId, (x) => t.routeTable(x)));
  }

  async createRouteTable(ownerId: string, vpcId: string, tags: Tag[] = []): Promise<RouteTableRecord> {
    validateTags(tags);
    return this.#store.tx(async (t) => {
      const vpc = await ownedOrNotFound("vpc", vpcId, ownerId, (x) => t.vpc(x));
      const r: RouteTableRecord = {
        id: newId("rtb"),
        ownerId,
        vpcId: vpc.id,
        main: false,
        routes: [{ destinationCidr: vpc.cidr, gatewayId: "local" }],
        associations: [],
      };
      await t.putRouteTable(r);
      await t.insertTags([r.id], tags);
      return r;
    });
  }

  async listRouteTables(ownerId: string, ids?: string[]): Promise<RouteTableRecord[]> {
    return this.#store.tx(async (t) =>
      ids?.length
        ? await mapInOrder(ids, (id) => ownedOrNotFound("route-table", id, ownerId, (x) => t.routeTable(x)))
        : await t.routeTablesOf(ownerId),
    );
  }

  /** Whether a gateway route is active (its gateway still attached to the table's VPC) or a blackhole. */
  async routeStates(table: RouteTableRecord): Promise<Map<string, "active" | "blackhole">> {
    const igw = await this.#store.tx(async (t) => t.gatewayOfVpc(table.vpcId));
    return new Map(
      table.routes.map((r) => [
        r.destinationCidr,
        r.gatewayId === "local" || r.gatewayId === igw?.id ? "active" : "blackhole",
      ]),
    );
  }

  async createRoute(ownerId: string, tableId: string, destination: string, gatewayId: string): Promise<void> {
    const cidr = formatCidr(cidrParameter(destination, "destinationCidrBlock"));
    const vpcId = await this.#store.tx(async (t) => {
      const table = await ownedOrNotFound("route-table", tableId, ownerId, (x) => t.routeTable(x));
      const g = isId("igw", gatewayId) ? await t.gateway(gatewayId) : undefined;
      if (!g || g.ownerId !== ownerId) {
        throw new StrataError("InvalidGatewayID.NotFound", `The gateway ID '${gatewayId}' does not exist`);
      }
      if (g.vpcId !== table.vpcId) {
        throw new StrataError(
          "InvalidParameterValue",
          `route table ${table.id} and network gateway ${g.id} belong to different networks`,
        );
      }
      if (table.routes.some((r) => r.destinationCidr === cidr)) {
        throw new StrataError("RouteAlreadyExists", `The route identified by ${cidr} already exists.`);
      }
      await t.putRouteTable({
        ...table,
        routes: [...table.routes, { destinationCidr: cidr, gatewayId: g.id }],
      });
      return table.vpcId;
    });
    this.#events.emit(vpcId);
  }

  async deleteRoute(ownerId: string, tableId: string, destination: string): Promise<void> {
    const vpcId = await this.#store.tx(async (t) => {
      const table = await ownedOrNotFound("route-table", tableId, ownerId, (x) => t.routeTable(x));
      const route = table.routes.find((r) => r.destinationCidr === destination);
      if (!route) {
        throw new StrataError(
          "InvalidRoute.NotFound",
          `no route with destination-cidr-block ${destination} in route table ${table.id}`,
        );
      }
      if (route.gatewayId === "local") {
        throw new StrataError(
          "InvalidParameterValue",
          `cannot remove local route ${destination} in route table ${table.id}`,
        );
      }
      await t.putRouteTable({ ...table, routes: table.routes.filter((r) => r !== route) });
      return table.vpcId;
    });
    this.#events.emit(vpcId);
  }

  async associate(ownerId: string, tableId: string, subnetId: string): Promise<string> {
    const { id, vpcId } = await this.#store.tx(async (t) => {
      const table = await ownedOrNotFound("route-table", tableId, ownerId, (x) => t.routeTable(x));
      const subnet = await ownedOrNotFound("subnet", subnetId, ownerId, (x) => t.subnet(x));
      if (subnet.vpcId !== table.vpcId) {
        throw new StrataError(
          "InvalidParameterValue",
          `Route table ${table.id} and subnet ${subnet.id} belong to different networks`,
        );
      }
      const current = (await t.routeTablesInVpc(table.vpcId)).find((r) =>
        r.associations.some((a) => a.subnetId === subnet.id),
      );
      if (current) {
        throw new StrataError(
          "Resource.AlreadyAssociated",
          `the specified association for route table ${current.id} conflicts with an existing association`,
        );
      }
      const assoc = { id: newId("rtbassoc"), subnetId: subnet.id, main: false };
      await t.putRouteTable({ ...table, associations: [...table.associations, assoc] });
      return { id: assoc.id, vpcId: table.vpcId };
    });
    this.#events.emit(vpcId);
    return id;
  }

  async disassociate(ownerId: string, associationId: string): Promise<void> {
    const vpcId = await this.#store.tx(async (t) => {
      const table = await this.#tableOfAssociation(t, ownerId, associationId);
      const assoc = table.associations.find((a) => a.id === associationId)!;
      if (assoc.main) {
        throw new StrataError(
          "InvalidParameterValue",
          `cannot disassociate the main route table association ${assoc.id}`,
        );
      }
      await t.putRouteTable({ ...table, associations: table.associations.filter((a) => a !== assoc) });
      return table.vpcId;
    });
    this.#events.emit(vpcId);
  }

  /** InvalidAssociationID.NotFound unless the association is one of the caller's tables'. */
  async checkAssociation(ownerId: string, associationId: string): Promise<void> {
    await this.#store.tx(async (t) => this.#tableOfAssociation(t, ownerId, associationId));
  }

  async #tableOfAssociation(t: NetworkTx, ownerId: string, associationId: string): Promise<RouteTableRecord> {
    const table = isId("rtbassoc", associationId)
      ? await t.routeTableOfAssociation(associationId)
      : undefined;
    if (!table || table.ownerId !== ownerId) {
      throw new StrataError(
        "InvalidAssociationID.NotFound",
        `The association ID '${associationId}' does not exist`,
      );
    }
    return table;
  }

  async deleteRouteTable(ownerId: string, tableId: string): Promise<void> {
    await this.#store.tx(async (t) => {
      const table = await ownedOrNotFound("route-table", tableId, ownerId, (x) => t.routeTable(x));
      if (table.main || table.associations.length) {
        throw dependencyViolation(`The routeTable '${table.id}' has dependencies and cannot be deleted.`);
      }
      await t.deleteRouteTable(table.id);
      await t.deleteTags([table.id]);
    });
  }
}
