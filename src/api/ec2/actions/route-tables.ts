import type * as EC2 from "@aws-sdk/client-ec2";
import { StrataError } from "../../../errors.ts";
import { idempotent } from "../../../services/access/idempotency.ts";
import type { RouteTableRecord } from "../../../services/network/network-records.ts";
import { dryRunCheck, type Out, type RequestContext, required } from "../context.ts";
import { applyFilters, type FilterFields } from "../filters.ts";
import { firstUse, given, toRouteTable } from "../network-shapes.ts";
import { noMaxResultsWithIds, paginate } from "../pagination.ts";
import { tagsFromSpecifications } from "../tagging.ts";

export async function CreateRouteTable(
  ctx: RequestContext,
  input: EC2.CreateRouteTableCommandInput,
): Promise<Out<EC2.CreateRouteTableCommandOutput>> {
  const vpc = await ctx.region.vpcs.vpc(ctx.accountId, required(input.VpcId, "VpcId"));
  const tags = tagsFromSpecifications(input.TagSpecifications, "route-table");
  dryRunCheck(input);
  // The SDK sends a ClientToken with every CreateRouteTable: its retries make one table.
  const r = await idempotent(
    {
      catalog: ctx.region.catalog,
      locks: ctx.region.locks,
      scope: ctx.regionName,
      ownerId: ctx.accountId,
      token: input.ClientToken,
      action: "CreateRouteTable",
      request: { ...input, ClientToken: undefined },
      mismatch: () =>
        new StrataError(
          "IdempotentParameterMismatch",
          `Client token '${input.ClientToken}' was already used with different parameters`,
        ),
    },
    (id) => ctx.region.routes.routeTable(ctx.accountId, id),
    async () => {
      const created = await ctx.region.routes.createRouteTable(ctx.accountId, vpc.id, tags);
      return { resourceId: created.id, result: created };
    },
  );
  const current = await ctx.region.catalog.tagsOf([r.id]);
  return {
    RouteTable: toRouteTable(r, await ctx.region.routes.routeStates(r), current.get(r.id)),
    ClientToken: given(input.ClientToken),
  };
}

export async function DescribeRouteTables(
  ctx: RequestContext,
  input: EC2.DescribeRouteTablesCommandInput,
): Promise<Out<EC2.DescribeRouteTablesCommandOutput>> {
  noMaxResultsWithIds(input.RouteTableIds, input.MaxResults, "routeTableIds");
  const states = new Map<string, Map<string, "active" | "blackhole">>();
  const fields: FilterFields<RouteTableRecord> = {
    "route-table-id": (r) => r.id,
    "vpc-id": (r) => r.vpcId,
    "owner-id": (r) => r.ownerId,
    "association.main": (r) => (r.main ? "true" : r.associations.length ? "false" : undefined),
    "association.subnet-id": (r) => r.associations.map((a) => a.subnetId ?? undefined),
    "association.route-table-association-id": (r) => r.associations.map((a) => a.id),
    "association.route-table-id": (r) => (r.associations.length ? r.id : undefined),
    "route.destination-cidr-block": (r) => r.routes.map((x) => x.destinationCidr),
    "route.gateway-id": (r) => r.routes.map((x) => x.gatewayId),
    "route.origin": (r) =>
      r.routes.map((x) => (x.gatewayId === "local" ? "CreateRouteTable" : "CreateRoute")),
    "route.state": (r) => [...states.get(r.id)!.values()],
  };
  await firstUse(ctx, input, input.RouteTableIds, fields);
  const tables = await ctx.region.routes.listRouteTables(ctx.accountId, input.RouteTableIds);
  const tags = await ctx.region.catalog.tagsOf(tables.map((r) => r.id));
  for (const r of tables) states.set(r.id, await ctx.region.routes.routeStates(r));
  const matched = applyFilters(tables, input.Filters, fields, (r) => tags.get(r.id) ?? []);
  const { page, nextToken } = paginate(matched, (r) => r.id, input);
  return {
    RouteTables: page.map((r) => toRouteTable(r, states.get(r.id)!, tags.get(r.id))),
    NextToken: nextToken,
  };
}

/** Routes to an internet gateway are what Strata's VPC router has (no NAT gateways, peering, ...). */
function gatewayOnly(input: EC2.CreateRouteCommandInput | EC2.DeleteRouteCommandInput): void {
  const other = Object.entries(input).find(
    ([k, v]) =>
      v !== undefined &&
      v !== "" &&
      !["RouteTableId", "DestinationCidrBlock", "GatewayId", "DryRun"].includes(k),
  );
  if (other) {
    throw new StrataError(
      "InvalidParameterValue",
      `Strata's routes go to internet gateways only, not ${other[0]}`,
    );
  }
}

export async function CreateRoute(
  ctx: RequestContext,
  input: EC2.CreateRouteCommandInput,
): Promise<Out<EC2.CreateRouteCommandOutput>> {
  gatewayOnly(input);
  const table = await ctx.region.routes.routeTable(
    ctx.accountId,
    required(input.RouteTableId, "RouteTableId"),
  );
  const destination = required(input.DestinationCidrBlock, "DestinationCidrBlock");
  const gateway = required(given(input.GatewayId), "GatewayId");
  dryRunCheck(input);
  await ctx.region.routes.createRoute(ctx.accountId, table.id, destination, gateway);
  return { Return: true };
}

export async function DeleteRoute(
  ctx: RequestContext,
  input: EC2.DeleteRouteCommandInput,
): Promise<Out<EC2.DeleteRouteCommandOutput>> {
  gatewayOnly(input);
  const table = await ctx.region.routes.routeTable(
    ctx.accountId,
    required(input.RouteTableId, "RouteTableId"),
  );
  const destination = required(input.DestinationCidrBlock, "DestinationCidrBlock");
  dryRunCheck(input);
  await ctx.region.routes.deleteRoute(ctx.accountId, table.id, destination);
  return {};
}

export async function AssociateRouteTable(
  ctx: RequestContext,
  input: EC2.AssociateRouteTableCommandInput,
): Promise<Out<EC2.AssociateRouteTableCommandOutput>> {
  if (given(input.GatewayId) !== undefined) {
    throw new StrataError(
      "InvalidParameterValue",
      "Strata associates route tables with subnets only (not gateways)",
    );
  }
  const table = await ctx.region.routes.routeTable(
    ctx.accountId,
    required(input.RouteTableId, "RouteTableId"),
  );
  const subnet = await ctx.region.vpcs.subnet(ctx.accountId, required(input.SubnetId, "SubnetId"));
  dryRunCheck(input);
  const id = await ctx.region.routes.associate(ctx.accountId, table.id, subnet.id);
  return { AssociationId: id, AssociationState: { State: "associated" } };
}

export async function DisassociateRouteTable(
  ctx: RequestContext,
  input: EC2.DisassociateRouteTableCommandInput,
): Promise<Out<EC2.DisassociateRouteTableCommandOutput>> {
  const id = required(input.AssociationId, "AssociationId");
  if (input.DryRun) {
    await ctx.region.routes.checkAssociation(ctx.accountId, id);
    dryRunCheck(input);
  }
  await ctx.region.routes.disassociate(ctx.accountId, id);
  return {};
}

export async function DeleteRouteTable(
  ctx: RequestContext,
  input: EC2.DeleteRouteTableCommandInput,
): Promise<Out<EC2.DeleteRouteTableCommandOutput>> {
  const table = await ctx.region.routes.routeTable(
    ctx.accountId,
    required(input.RouteTableId, "RouteTableId"),
  );
  dryRunCheck(input);
  await ctx.region.routes.deleteRouteTable(ctx.accountId, table.id);
  return {};
}
