// Probes for the EC2 network actions: VPCs, subnets, internet gateways, route tables, Elastic IPs,
// network interfaces, and the instance calls that name them; each id in every parameter and filter
// that takes it, alone and beside B's own resource where the action pairs two. Security groups are
// in ec2-security-group-table.ts.
import {
  AssociateAddressCommand,
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  DeleteInternetGatewayCommand,
  DeleteRouteCommand,
  DeleteRouteTableCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  DetachInternetGatewayCommand,
  DisassociateAddressCommand,
  DisassociateRouteTableCommand,
  type Filter,
  ModifyInstanceAttributeCommand,
  ModifySubnetAttributeCommand,
  ReleaseAddressCommand,
  RunInstancesCommand,
  type RunInstancesCommandInput,
} from "@aws-sdk/client-ec2";
import { filterProbes, type Probe, probe, type World } from "./probes.ts";

function run(w: World, input: Partial<RunInstancesCommandInput>) {
  return w.b.ec2.send(
    new RunInstancesCommand({
      ImageId: w.bOwn.imageId,
      InstanceType: "t3.nano",
      MinCount: 1,
      MaxCount: 1,
      ...input,
    }),
  );
}

const describeVpcs = (w: World, f: Filter[]) => w.b.ec2.send(new DescribeVpcsCommand({ Filters: f }));
const describeSubnets = (w: World, f: Filter[]) => w.b.ec2.send(new DescribeSubnetsCommand({ Filters: f }));
const describeGateways = (w: World, f: Filter[]) =>
  w.b.ec2.send(new DescribeInternetGatewaysCommand({ Filters: f }));
const describeTables = (w: World, f: Filter[]) =>
  w.b.ec2.send(new DescribeRouteTablesCommand({ Filters: f }));
const describeAddresses = (w: World, f: Filter[]) =>
  w.b.ec2.send(new DescribeAddressesCommand({ Filters: f }));
const describeInstances = (w: World, f: Filter[]) =>
  w.b.ec2.send(new DescribeInstancesCommand({ Filters: f }));
const describeNics = (w: World, f: Filter[]) =>
  w.b.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: f }));

export const networkProbes: Record<string, Probe[]> = {
  // Where capacity is zero, a launch that passes every check answers InsufficientInstanceCapacity.
  RunInstances: [
    probe("subnet", "SubnetId", (w, id) => run(w, { SubnetId: id })),
    probe("securityGroup", "SecurityGroupIds", (w, id) => run(w, { SecurityGroupIds: [id] })),
    probe("securityGroup", "SecurityGroupIds (B's subnet)", (w, id) =>
      run(w, { SubnetId: w.bNet.subnetId, SecurityGroupIds: [id] }),
    ),
    probe("securityGroupName", "SecurityGroups", (w, name) => run(w, { SecurityGroups: [name] })),
    probe("subnet", "NetworkInterfaces[0].SubnetId", (w, id) =>
      run(w, { NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: id }] }),
    ),
    probe("securityGroup", "NetworkInterfaces[0].Groups (B's subnet)", (w, id) =>
      run(w, { NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: w.bNet.subnetId, Groups: [id] }] }),
    ),
  ],
  // B's instance into A's group: only where B has an instance (the world with VMs).
  ModifyInstanceAttribute: [
    {
      ...probe("securityGroup", "Groups (B's instance)", (w, id) =>
        w.b.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: w.bInstanceId, Groups: [id] })),
      ),
      appliesTo: (_, w) => w.bInstanceId !== undefined,
    },
  ],
  // The instance filters on its network (the instance-id ones are in the compute table).
  DescribeInstances: [
    ...filterProbes("vpc", ["vpc-id", "network-interface.vpc-id"], describeInstances),
    ...filterProbes("subnet", ["subnet-id", "network-interface.subnet-id"], describeInstances),
    ...filterProbes("securityGroup", ["instance.group-id", "network-interface.group-id"], describeInstances),
    ...filterProbes("securityGroupName", ["instance.group-name"], describeInstances),
    ...filterProbes("networkInterface", ["network-interface.network-interface-id"], describeInstances),
    ...filterProbes(
      "publicIp",
      ["ip-address", "network-interface.addresses.association.public-ip"],
      describeInstances,
    ),
  ],
  DescribeVpcs: [
    probe("vpc", "VpcIds", (w, id) => w.b.ec2.send(new DescribeVpcsCommand({ VpcIds: [id] }))),
    probe("vpc", "VpcIds (after B's own)", (w, id) =>
      w.b.ec2.send(new DescribeVpcsCommand({ VpcIds: [w.bNet.vpcId, id] })),
    ),
    ...filterProbes("vpc", ["vpc-id"], describeVpcs),
  ],
  DescribeVpcAttribute: ["enableDnsSupport", "enableDnsHostnames"].map((attribute) =>
    probe("vpc", `VpcId (${attribute})`, (w, id) =>
      w.b.ec2.send(
        new DescribeVpcAttributeCommand({ VpcId: id, Attribute: attribute as "enableDnsSupport" }),
      ),
    ),
  ),
  DeleteVpc: [probe("vpc", "VpcId", (w, id) => w.b.ec2.send(new DeleteVpcCommand({ VpcId: id })))],
  CreateSubnet: [
    probe("vpc", "VpcId", (w, id) =>
      w.b.ec2.send(new CreateSubnetCommand({ VpcId: id, CidrBlock: "10.10.2.0/24" })),
    ),
  ],
  DescribeSubnets: [
    probe("subnet", "SubnetIds", (w, id) => w.b.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [id] }))),
    probe("subnet", "SubnetIds (after B's own)", (w, id) =>
      w.b.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [w.bNet.subnetId, id] })),
    ),
    ...filterProbes("subnet", ["subnet-id"], describeSubnets),
    ...filterProbes("vpc", ["vpc-id"], describeSubnets),
  ],
  ModifySubnetAttribute: [
    probe("subnet", "SubnetId", (w, id) =>
      w.b.ec2.send(new ModifySubnetAttributeCommand({ SubnetId: id, MapPublicIpOnLaunch: { Value: true } })),
    ),
  ],
  DeleteSubnet: [
    probe("subnet", "SubnetId", (w, id) => w.b.ec2.send(new DeleteSubnetCommand({ SubnetId: id }))),
  ],
  DescribeInternetGateways: [
    probe("internetGateway", "InternetGatewayIds", (w, id) =>
      w.b.ec2.send(new DescribeInternetGatewaysCommand({ InternetGatewayIds: [id] })),
    ),
    probe("internetGateway", "InternetGatewayIds (after B's own)", (w, id) =>
      w.b.ec2.send(new DescribeInternetGatewaysCommand({ InternetGatewayIds: [w.bNet.gatewayId, id] })),
    ),
    ...filterProbes("internetGateway", ["internet-gateway-id"], describeGateways),
    ...filterProbes("vpc", ["attachment.vpc-id"], describeGateways),
  ],
  AttachInternetGateway: [
    probe("internetGateway", "InternetGatewayId (B's VPC)", (w, id) =>
      w.b.ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: id, VpcId: w.bNet.vpcId })),
    ),
    probe("vpc", "VpcId (B's gateway)", (w, id) =>
      w.b.ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: w.bNet.gatewayId, VpcId: id })),
    ),
  ],
  DetachInternetGateway: [
    probe("internetGateway", "InternetGatewayId (B's VPC)", (w, id) =>
      w.b.ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: id, VpcId: w.bNet.vpcId })),
    ),
    probe("vpc", "VpcId (B's gateway)", (w, id) =>
      w.b.ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: w.bNet.gatewayId, VpcId: id })),
    ),
  ],
  DeleteInternetGateway: [
    probe("internetGateway", "InternetGatewayId", (w, id) =>
      w.b.ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: id })),
    ),
  ],
  CreateRouteTable: [
    probe("vpc", "VpcId", (w, id) => w.b.ec2.send(new CreateRouteTableCommand({ VpcId: id }))),
  ],
  DescribeRouteTables: [
    probe("routeTable", "RouteTableIds", (w, id) =>
      w.b.ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [id] })),
    ),
    probe("routeTable", "RouteTableIds (after B's own)", (w, id) =>
      w.b.ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [w.bNet.routeTableId, id] })),
    ),
    ...filterProbes("routeTable", ["route-table-id", "association.route-table-id"], describeTables),
    ...filterProbes("vpc", ["vpc-id"], describeTables),
    ...filterProbes("subnet", ["association.subnet-id"], describeTables),
    ...filterProbes("routeTableAssociation", ["association.route-table-association-id"], describeTables),
    ...filterProbes("internetGateway", ["route.gateway-id"], describeTables),
  ],
  CreateRoute: [
    probe("routeTable", "RouteTableId (B's gateway)", (w, id) =>
      w.b.ec2.send(
        new CreateRouteCommand({
          RouteTableId: id,
          DestinationCidrBlock: "198.51.100.0/24",
          GatewayId: w.bNet.gatewayId,
        }),
      ),
    ),
    probe("internetGateway", "GatewayId (B's table)", (w, id) =>
      w.b.ec2.send(
        new CreateRouteCommand({
          RouteTableId: w.bNet.routeTableId,
          DestinationCidrBlock: "0.0.0.0/0",
          GatewayId: id,
        }),
      ),
    ),
  ],
  DeleteRoute: [
    probe("routeTable", "RouteTableId (A's route)", (w, id) =>
      w.b.ec2.send(new DeleteRouteCommand({ RouteTableId: id, DestinationCidrBlock: "0.0.0.0/0" })),
    ),
  ],
  AssociateRouteTable: [
    probe("routeTable", "RouteTableId (B's subnet)", (w, id) =>
      w.b.ec2.send(new AssociateRouteTableCommand({ RouteTableId: id, SubnetId: w.bNet.subnetId })),
    ),
    probe("subnet", "SubnetId (B's table)", (w, id) =>
      w.b.ec2.send(new AssociateRouteTableCommand({ RouteTableId: w.bNet.routeTableId, SubnetId: id })),
    ),
  ],
  DisassociateRouteTable: [
    probe("routeTableAssociation", "AssociationId", (w, id) =>
      w.b.ec2.send(new DisassociateRouteTableCommand({ AssociationId: id })),
    ),
    probe("routeTableAssociation", "AssociationId, DryRun", (w, id) =>
      w.b.ec2.send(new DisassociateRouteTableCommand({ AssociationId: id, DryRun: true })),
    ),
  ],
  DeleteRouteTable: [
    probe("routeTable", "RouteTableId", (w, id) =>
      w.b.ec2.send(new DeleteRouteTableCommand({ RouteTableId: id })),
    ),
  ],
  AssociateAddress: [
    probe("allocation", "AllocationId (an instance)", (w, id) =>
      w.b.ec2.send(new AssociateAddressCommand({ AllocationId: id, InstanceId: "i-0000000000000000f" })),
    ),
    probe("publicIp", "PublicIp (an instance)", (w, ip) =>
      w.b.ec2.send(new AssociateAddressCommand({ PublicIp: ip, InstanceId: "i-0000000000000000f" })),
    ),
    probe("allocation", "AllocationId, DryRun", (w, id) =>
      w.b.ec2.send(
        new AssociateAddressCommand({ AllocationId: id, InstanceId: "i-0000000000000000f", DryRun: true }),
      ),
    ),
    probe("networkInterface", "NetworkInterfaceId (B's address)", (w, id) =>
      w.b.ec2.send(
        new AssociateAddressCommand({ AllocationId: w.bNet.allocationId, NetworkInterfaceId: id }),
      ),
    ),
    probe("instance", "InstanceId (B's address)", (w, id) =>
      w.b.ec2.send(new AssociateAddressCommand({ AllocationId: w.bNet.allocationId, InstanceId: id })),
    ),
  ],
  DisassociateAddress: [
    probe("eipAssociation", "AssociationId", (w, id) =>
      w.b.ec2.send(new DisassociateAddressCommand({ AssociationId: id })),
    ),
    probe("eipAssociation", "AssociationId, DryRun", (w, id) =>
      w.b.ec2.send(new DisassociateAddressCommand({ AssociationId: id, DryRun: true })),
    ),
    probe("publicIp", "PublicIp", (w, ip) => w.b.ec2.send(new DisassociateAddressCommand({ PublicIp: ip }))),
    probe("publicIp", "PublicIp, DryRun", (w, ip) =>
      w.b.ec2.send(new DisassociateAddressCommand({ PublicIp: ip, DryRun: true })),
    ),
  ],
  ReleaseAddress: [
    probe("allocation", "AllocationId", (w, id) =>
      w.b.ec2.send(new ReleaseAddressCommand({ AllocationId: id })),
    ),
    probe("publicIp", "PublicIp", (w, ip) => w.b.ec2.send(new ReleaseAddressCommand({ PublicIp: ip }))),
  ],
  DescribeAddresses: [
    probe("allocation", "AllocationIds", (w, id) =>
      w.b.ec2.send(new DescribeAddressesCommand({ AllocationIds: [id] })),
    ),
    probe("allocation", "AllocationIds (after B's own)", (w, id) =>
      w.b.ec2.send(new DescribeAddressesCommand({ AllocationIds: [w.bNet.allocationId, id] })),
    ),
    probe("publicIp", "PublicIps", (w, ip) =>
      w.b.ec2.send(new DescribeAddressesCommand({ PublicIps: [ip] })),
    ),
    ...filterProbes("allocation", ["allocation-id"], describeAddresses),
    ...filterProbes("publicIp", ["public-ip"], describeAddresses),
    ...filterProbes("eipAssociation", ["association-id"], describeAddresses),
    ...filterProbes("networkInterface", ["network-interface-id"], describeAddresses),
    ...filterProbes("instance", ["instance-id"], describeAddresses),
  ],
  DescribeNetworkInterfaces: [
    probe("networkInterface", "NetworkInterfaceIds", (w, id) =>
      w.b.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] })),
    ),
    ...filterProbes("networkInterface", ["network-interface-id"], describeNics),
    ...filterProbes("subnet", ["subnet-id"], describeNics),
    ...filterProbes("vpc", ["vpc-id"], describeNics),
    ...filterProbes("securityGroup", ["group-id"], describeNics),
    ...filterProbes("securityGroupName", ["group-name"], describeNics),
    ...filterProbes("instance", ["attachment.instance-id"], describeNics),
    ...filterProbes("publicIp", ["association.public-ip"], describeNics),
    ...filterProbes("allocation", ["association.allocation-id"], describeNics),
    ...filterProbes("eipAssociation", ["association.association-id"], describeNics),
  ],
};

/** Network actions that take no resource id. */
export const networkExempt: Record<string, string> = {
  CreateVpc: "takes a CIDR block and tags only; VPCs (and their address ranges) are per account",
  CreateInternetGateway: "takes tags only; a new gateway is attached by AttachInternetGateway, probed",
  AllocateAddress:
    "Strata allocates from its own pool only and refuses Address (recovering a released address) whatever its value, so no address is ever looked up",
  DescribeAccountAttributes:
    "takes attribute names only; its one id (default-vpc) is the caller's own default VPC",
  DescribeInstanceTypeOfferings:
    "takes instance type and location names only; the offerings are the same for every account",
};
