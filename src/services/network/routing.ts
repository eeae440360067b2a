// Which route table a subnet follows, and whether that makes it public.
import type { NetworkTx } from "../../storage/metadata/network-store.ts";
import type { RouteTableRecord, SubnetRecord } from "./network-records.ts";

/** The subnet's explicitly associated table, else its VPC's main table. */
export async function routeTableOf(
  t: NetworkTx,
  subnet: SubnetRecord,
): Promise<RouteTableRecord | undefined> {
  const tables = await t.routeTablesInVpc(subnet.vpcId);
  return (
    tables.find((r) => r.associations.some((a) => a.subnetId === subnet.id)) ?? tables.find((r) => r.main)
  );
}

/** AWS: a subnet is public when its route table sends 0.0.0.0/0 to an internet gateway attached to the VPC. */
export async function isPublic(t: NetworkTx, subnet: SubnetRecord): Promise<boolean> {
  const table = await routeTableOf(t, subnet);
  const igw = await t.gatewayOfVpc(subnet.vpcId);
  return (
    !!table && !!igw && table.routes.some((r) => r.destinationCidr === "0.0.0.0/0" && r.gatewayId === igw.id)
  );
}
