// The network model's records as the EC2 shapes the SDK v3 types describe.
import type {
  Address,
  AttachmentStatus,
  Filter,
  InternetGateway,
  NetworkInterface,
  RouteTable,
  Subnet,
  Vpc,
} from "@aws-sdk/client-ec2";
import { privateDnsName } from "../../services/instances/instance-runtime.ts";
import type { InterfaceView } from "../../services/network/interface-service.ts";
import type {
  AddressRecord,
  InternetGatewayRecord,
  RouteTableRecord,
  SecurityGroupRecord,
  SubnetRecord,
  VpcRecord,
} from "../../services/network/network-records.ts";
import type { Tag } from "../../storage/metadata/catalog-store.ts";
import { zoneIdPrefix } from "./actions/regions.ts";
import { dryRunCheck, type RequestContext } from "./context.ts";
import { applyFilters, type FilterFields } from "./filters.ts";
import { pageWindow } from "./pagination.ts";
import { toSdkTags } from "./tagging.ts";

/**
 * A describe call of the network model: the request is checked (filter names, page token, DryRun)
 * before the account's default VPC is made on first use, so a refused request changes nothing.
 * With explicit ids there is nothing to make: ids of the default VPC's parts exist only once it does.
 */
export async function firstUse<T>(
  ctx: RequestContext,
  input: { Filters?: Filter[]; DryRun?: boolean; MaxResults?: number; NextToken?: string },
  ids: string[] | undefined,
  fields: FilterFields<T>,
): Promise<void> {
  applyFilters([], input.Filters, fields);
  pageWindow(input);
  dryRunCheck(input);
  if (!ids?.length) await ctx.region.vpcs.ensureDefault(ctx.accountId);
}

/** Packer and others send empty strings for parameters they leave out: EC2 reads them as absent. */
export function given(value: string | undefined): string | undefined {
  return value === "" ? undefined : value;
}

export function zoneId(region: string, zone: string): string {
  return `${zoneIdPrefix(region)}-az${"abc".indexOf(zone.slice(-1)) + 1}`;
}

export function toVpc(v: VpcRecord, tags?: Tag[]): Vpc {
  return {
    VpcId: v.id,
    CidrBlock: v.cidr,
    State: "available",
    DhcpOptionsId: "default",
    InstanceTenancy: "default",
    IsDefault: v.isDefault,
    OwnerId: v.ownerId,
    CidrBlockAssociationSet: [
      {
        AssociationId: `vpc-cidr-assoc-${v.id.slice(4)}`,
        CidrBlock: v.cidr,
        CidrBlockState: { State: "associated" },
      },
    ],
    Tags: toSdkTags(tags),
  };
}

export function toSubnet(region: string, s: SubnetRecord, available: number, tags?: Tag[]): Subnet {
  return {
    SubnetId: s.id,
    VpcId: s.vpcId,
    CidrBlock: s.cidr,
    AvailabilityZone: s.availabilityZone,
    AvailabilityZoneId: zoneId(region, s.availabilityZone),
    AvailableIpAddressCount: available,
    DefaultForAz: s.defaultForAz,
    MapPublicIpOnLaunch: s.mapPublicIpOnLaunch,
    MapCustomerOwnedIpOnLaunch: false,
    AssignIpv6AddressOnCreation: false,
    State: "available",
    OwnerId: s.ownerId,
    SubnetArn: `arn:aws:ec2:${region}:${s.ownerId}:subnet/${s.id}`,
    Ipv6CidrBlockAssociationSet: [],
    Tags: toSdkTags(tags),
  };
}

export function toInternetGateway(g: InternetGatewayRecord, tags?: Tag[]): InternetGateway {
  return {
    InternetGatewayId: g.id,
    OwnerId: g.ownerId,
    // EC2 shows an attached internet gateway's attachment as "available".
    Attachments: g.vpcId ? [{ VpcId: g.vpcId, State: "available" as AttachmentStatus }] : [],
    Tags: toSdkTags(tags),
  };
}

export function toRouteTable(
  r: RouteTableRecord,
  states: Map<string, "active" | "blackhole">,
  tags?: Tag[],
): RouteTable {
  return {
    RouteTableId: r.id,
    VpcId: r.vpcId,
    OwnerId: r.ownerId,
    Routes: r.routes.map((route) => ({
      DestinationCidrBlock: route.destinationCidr,
      GatewayId: route.gatewayId,
      Origin: route.gatewayId === "local" ? "CreateRouteTable" : "CreateRoute",
      State: states.get(route.destinationCidr) ?? "active",
    })),
    Associations: r.associations.map((a) => ({
      Main: a.main,
      RouteTableAssociationId: a.id,
      RouteTableId: r.id,
      SubnetId: a.subnetId ?? undefined,
      AssociationState: { State: "associated" },
    })),
    PropagatingVgws: [],
    Tags: toSdkTags(tags),
  };
}

export function toAddress(region: string, a: AddressRecord, tags?: Tag[]): Address {
  return {
    AllocationId: a.allocationId,
    PublicIp: a.publicIp,
    Domain: "vpc",
    AssociationId: a.associationId ?? undefined,
    InstanceId: a.instanceId ?? undefined,
    NetworkInterfaceId: a.networkInterfaceId ?? undefined,
    NetworkInterfaceOwnerId: a.networkInterfaceId ? a.ownerId : undefined,
    PrivateIpAddress: a.privateIp ?? undefined,
    PublicIpv4Pool: "amazon",
    NetworkBorderGroup: region,
    Tags: toSdkTags(tags),
  };
}

export function toNetworkInterface(
  region: string,
  n: InterfaceView,
  groups: Map<string, SecurityGroupRecord>,
  tags?: Tag[],
): NetworkInterface {
  const dns = privateDnsName(n.privateIp, region);
  const association = n.association
    ? {
        PublicIp: n.association.publicIp,
        IpOwnerId: n.association.ipOwnerId,
        AllocationId: n.association.allocationId ?? undefined,
        AssociationId: n.association.associationId ?? undefined,
      }
    : undefined;
  return {
    NetworkInterfaceId: n.id,
    SubnetId: n.subnetId,
    VpcId: n.vpcId,
    AvailabilityZone: n.availabilityZone,
    Description: n.description,
    OwnerId: n.ownerId,
    RequesterManaged: false,
    Status: n.instanceId ? "in-use" : "available",
    MacAddress: n.mac,
    PrivateIpAddress: n.privateIp,
    PrivateDnsName: dns,
    SourceDestCheck: true,
    InterfaceType: "interface",
    Groups: n.groupIds.map((id) => ({ GroupId: id, GroupName: groups.get(id)?.name })),
    Attachment: n.instanceId
      ? {
          AttachmentId: n.attachmentId ?? undefined,
          DeviceIndex: n.deviceIndex,
          NetworkCardIndex: 0,
          InstanceId: n.instanceId,
          InstanceOwnerId: n.ownerId,
          Status: "attached",
          DeleteOnTermination: n.deleteOnTermination,
        }
      : undefined,
    Association: association,
    PrivateIpAddresses: [
      { Primary: true, PrivateIpAddress: n.privateIp, PrivateDnsName: dns, Association: association },
    ],
    Ipv6Addresses: [],
    TagSet: toSdkTags(tags),
  };
}
