// EC2's answers for the network model's ids: a malformed id is refused by its form; an id the
// caller may not see (another account's) is answered as one that never existed.
import { StrataError } from "../../errors.ts";
import { isId } from "../../ids.ts";

export type NetworkKind =
  | "vpc"
  | "subnet"
  | "internet-gateway"
  | "route-table"
  | "network-interface"
  | "allocation";

const PREFIX: Record<NetworkKind, "vpc" | "subnet" | "igw" | "rtb" | "eni" | "eipalloc"> = {
  vpc: "vpc",
  subnet: "subnet",
  "internet-gateway": "igw",
  "route-table": "rtb",
  "network-interface": "eni",
  allocation: "eipalloc",
};

export function malformed(kind: NetworkKind, id: string): StrataError {
  const message = `Invalid id: "${id}" (expecting "${PREFIX[kind]}-...")`;
  switch (kind) {
    case "vpc":
      return new StrataError("InvalidVpcID.Malformed", message);
    case "subnet":
      return new StrataError("InvalidSubnetID.Malformed", message);
    case "internet-gateway":
      return new StrataError("InvalidInternetGatewayID.Malformed", message);
    case "route-table":
      return new StrataError("InvalidRouteTableID.Malformed", message);
    case "network-interface":
      return new StrataError("InvalidNetworkInterfaceID.Malformed", message);
    case "allocation":
      return new StrataError("InvalidAllocationID.Malformed", message);
  }
}

export function notFound(kind: NetworkKind, id: string): StrataError {
  switch (kind) {
    case "vpc":
      return new StrataError("InvalidVpcID.NotFound", `The vpc ID '${id}' does not exist`);
    case "subnet":
      return new StrataError("InvalidSubnetID.NotFound", `The subnet ID '${id}' does not exist`);
    case "internet-gateway":
      return new StrataError(
        "InvalidInternetGatewayID.NotFound",
        `The internetGateway ID '${id}' does not exist`,
      );
    case "route-table":
      return new StrataError("InvalidRouteTableID.NotFound", `The routeTable ID '${id}' does not exist`);
    case "network-interface":
      return new StrataError(
        "InvalidNetworkInterfaceID.NotFound",
        `The networkInterface ID '${id}' does not exist`,
      );
    case "allocation":
      return new StrataError("InvalidAllocationID.NotFound", `The allocation ID '${id}' does not exist`);
  }
}

/** The caller's record, or the kind's Malformed / NotFound (the same for another account's). */
export async function ownedOrNotFound<T extends { ownerId: string }>(
  kind: NetworkKind,
  id: string,
  ownerId: string,
  find: (id: string) => Promise<T | undefined>,
): Promise<T> {
  if (!isId(PREFIX[kind], id)) throw malformed(kind, id);
  const record = await find(id);
  if (!record || record.ownerId !== ownerId) throw notFound(kind, id);
  return record;
}

export function dependencyViolation(message: string): StrataError {
  return new StrataError("DependencyViolation", message);
}
