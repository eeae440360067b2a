import type * as EC2 from "@aws-sdk/client-ec2";
import { StrataError } from "../../../errors.ts";
import { dryRunCheck, type Out, type RequestContext } from "../context.ts";
import { applyFilters } from "../filters.ts";
import { given, toAddress } from "../network-shapes.ts";
import { tagsFromSpecifications } from "../tagging.ts";

export async function AllocateAddress(
  ctx: RequestContext,
  input: EC2.AllocateAddressCommandInput,
): Promise<Out<EC2.AllocateAddressCommandOutput>> {
  const domain = given(input.Domain) ?? "vpc";
  if (domain !== "vpc") {
    throw new StrataError(
      "InvalidParameterValue",
      `Invalid value '${domain}' for Domain (only vpc: there is no EC2-Classic)`,
    );
  }
  if (given(input.Address) !== undefined || (given(input.PublicIpv4Pool) ?? "amazon") !== "amazon") {
    throw new StrataError(
      "InvalidParameterValue",
      "Strata allocates from its own pool only (no Address or PublicIpv4Pool)",
    );
  }
  const tags = tagsFromSpecifications(input.TagSpecifications, "elastic-ip");
  dryRunCheck(input);
  const a = await ctx.region.addresses.allocate(ctx.accountId, tags);
  return {
    AllocationId: a.allocationId,
    PublicIp: a.publicIp,
    Domain: "vpc",
    PublicIpv4Pool: "amazon",
    NetworkBorderGroup: ctx.regionName,
  };
}

export async function AssociateAddress(
  ctx: RequestContext,
  input: EC2.AssociateAddressCommandInput,
): Promise<Out<EC2.AssociateAddressCommandOutput>> {
  if (input.DryRun) {
    await ctx.region.addresses.list(ctx.accountId, listBy(input));
    dryRunCheck(input);
  }
  const id = await ctx.region.addresses.associate(ctx.accountId, {
    allocationId: input.AllocationId,
    publicIp: input.PublicIp,
    instanceId: input.InstanceId,
    networkInterfaceId: input.NetworkInterfaceId,
    privateIpAddress: input.PrivateIpAddress,
    allowReassociation: input.AllowReassociation,
  });
  return { AssociationId: id };
}

function listBy(input: { AllocationId?: string; PublicIp?: string }) {
  const allocationId = given(input.AllocationId);
  const publicIp = given(input.PublicIp);
  if (allocationId === undefined && publicIp === undefined) {
    throw new StrataError("MissingParameter", "The request must contain the parameter AllocationId");
  }
  return {
    allocationIds: allocationId ? [allocationId] : undefined,
    publicIps: publicIp ? [publicIp] : undefined,
  };
}

export async function DisassociateAddress(
  ctx: RequestContext,
  input: EC2.DisassociateAddressCommandInput,
): Promise<Out<EC2.DisassociateAddressCommandOutput>> {
  const associationId = given(input.AssociationId);
  const publicIp = given(input.PublicIp);
  if (associationId === undefined && publicIp === undefined) {
    throw new StrataError("MissingParameter", "The request must contain the parameter AssociationId");
  }
  if (input.DryRun) {
    const mine = await ctx.region.addresses.list(ctx.accountId);
    if (associationId !== undefined && !mine.some((a) => a.associationId === associationId)) {
      throw new StrataError(
        "InvalidAssociationID.NotFound",
        `The association ID '${associationId}' does not exist`,
      );
    }
    if (publicIp !== undefined) await ctx.region.addresses.list(ctx.accountId, { publicIps: [publicIp] });
    dryRunCheck(input);
  }
  await ctx.region.addresses.disassociate(ctx.accountId, { associationId, publicIp });
  return {};
}

export async function ReleaseAddress(
  ctx: RequestContext,
  input: EC2.ReleaseAddressCommandInput,
): Promise<Out<EC2.ReleaseAddressCommandOutput>> {
  const by = listBy(input);
  await ctx.region.addresses.list(ctx.accountId, by);
  dryRunCheck(input);
  await ctx.region.addresses.release(ctx.accountId, {
    allocationId: input.AllocationId,
    publicIp: input.PublicIp,
  });
  return {};
}

export async function DescribeAddresses(
  ctx: RequestContext,
  input: EC2.DescribeAddressesCommandInput,
): Promise<Out<EC2.DescribeAddressesCommandOutput>> {
  const addresses = await ctx.region.addresses.list(ctx.accountId, {
    allocationIds: input.AllocationIds,
    publicIps: input.PublicIps,
  });
  const tags = await ctx.region.catalog.tagsOf(addresses.map((a) => a.allocationId));
  const matched = applyFilters(
    addresses,
    input.Filters,
    {
      "allocation-id": (a) => a.allocationId,
      "association-id": (a) => a.associationId ?? undefined,
      domain: () => "vpc",
      "instance-id": (a) => a.instanceId ?? undefined,
      "network-interface-id": (a) => a.networkInterfaceId ?? undefined,
      "network-interface-owner-id": (a) => (a.networkInterfaceId ? a.ownerId : undefined),
      "private-ip-address": (a) => a.privateIp ?? undefined,
      "public-ip": (a) => a.publicIp,
      "network-border-group": () => ctx.regionName,
    },
    (a) => tags.get(a.allocationId) ?? [],
  );
  dryRunCheck(input);
  return { Addresses: matched.map((a) => toAddress(ctx.regionName, a, tags.get(a.allocationId))) };
}
