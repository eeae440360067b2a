// Account A's network (a VPC with a subnet, an attached internet gateway, a route table associated
// with the subnet and routing 0.0.0.0/0 to the gateway, a security group with a rule, an Elastic
// IP, and a deleted VPC), B's own network that probes pass beside A's ids, and the targets.
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteInternetGatewayCommand,
  DeleteRouteTableCommand,
  DeleteSecurityGroupCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupRulesCommand,
  DetachInternetGatewayCommand,
  DisassociateRouteTableCommand,
  ReleaseAddressCommand,
  RevokeSecurityGroupIngressCommand,
  type Tag,
} from "@aws-sdk/client-ec2";
import type { BNetwork, Party, Target } from "./probes.ts";

const SSH_FROM_DOCS = {
  IpProtocol: "tcp",
  FromPort: 22,
  ToPort: 22,
  IpRanges: [{ CidrIp: "203.0.113.0/24" }],
};

const tagged = (ResourceType: "vpc" | "subnet" | "security-group", Tags: Tag[]) =>
  Tags.length ? [{ ResourceType, Tags }] : undefined;

/** B's own VPC, subnet, gateway (detached), route table, group and Elastic IP. */
export async function bNetwork(b: Party): Promise<BNetwork> {
  const vpc = (await b.ec2.send(new CreateVpcCommand({ CidrBlock: "10.20.0.0/16" }))).Vpc!.VpcId!;
  const subnet = (await b.ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: "10.20.1.0/24" })))
    .Subnet!.SubnetId!;
  const gateway = (await b.ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!
    .InternetGatewayId!;
  const routeTable = (await b.ec2.send(new CreateRouteTableCommand({ VpcId: vpc }))).RouteTable!
    .RouteTableId!;
  const group = await b.ec2.send(
    new CreateSecurityGroupCommand({ GroupName: "b-group", Description: "b own group", VpcId: vpc }),
  );
  const address = await b.ec2.send(new AllocateAddressCommand({ Domain: "vpc" }));
  const rules = await b.ec2.send(
    new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [group.GroupId!] }] }),
  );
  return {
    ruleId: rules.SecurityGroupRules![0].SecurityGroupRuleId!,
    vpcId: vpc,
    subnetId: subnet,
    gatewayId: gateway,
    routeTableId: routeTable,
    groupId: group.GroupId!,
    allocationId: address.AllocationId!,
  };
}

/** A's network, tagged; its ids as targets. */
export async function aNetwork(a: Party, tags: Tag[]): Promise<Target[]> {
  const vpc = (
    await a.ec2.send(
      new CreateVpcCommand({ CidrBlock: "10.10.0.0/16", TagSpecifications: tagged("vpc", tags) }),
    )
  ).Vpc!.VpcId!;
  const subnet = (
    await a.ec2.send(
      new CreateSubnetCommand({
        VpcId: vpc,
        CidrBlock: "10.10.1.0/24",
        TagSpecifications: tagged("subnet", tags),
      }),
    )
  ).Subnet!.SubnetId!;
  const gateway = (await a.ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!
    .InternetGatewayId!;
  await a.ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: gateway, VpcId: vpc }));
  const routeTable = (await a.ec2.send(new CreateRouteTableCommand({ VpcId: vpc }))).RouteTable!
    .RouteTableId!;
  const association = await a.ec2.send(
    new AssociateRouteTableCommand({ RouteTableId: routeTable, SubnetId: subnet }),
  );
  await a.ec2.send(
    new CreateRouteCommand({
      RouteTableId: routeTable,
      DestinationCidrBlock: "0.0.0.0/0",
      GatewayId: gateway,
    }),
  );
  const group = await a.ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: "a-group",
      Description: "a private group",
      VpcId: vpc,
      TagSpecifications: tagged("security-group", tags),
    }),
  );
  const rule = await a.ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: group.GroupId,
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "203.0.113.0/24" }] },
      ],
    }),
  );
  const address = await a.ec2.send(new AllocateAddressCommand({ Domain: "vpc" }));
  return [
    ...(await aDeletedNetwork(a)),
    { kind: "vpc", state: "private", id: vpc },
    { kind: "subnet", state: "private", id: subnet },
    { kind: "internetGateway", state: "attached to A's VPC", id: gateway },
    { kind: "routeTable", state: "associated, with a route to A's gateway", id: routeTable },
    { kind: "routeTableAssociation", state: "of A's subnet", id: association.AssociationId! },
    { kind: "securityGroup", state: "private, with a rule", id: group.GroupId! },
    // The group's name is A's own: B may use the same name for a group of its own.
    { kind: "securityGroupName", state: "private", id: "a-group" },
    { kind: "securityGroupRule", state: "private", id: rule.SecurityGroupRules![0].SecurityGroupRuleId! },
    { kind: "allocation", state: "allocated", id: address.AllocationId! },
    { kind: "publicIp", state: "allocated", id: address.PublicIp! },
  ];
}

/**
 * A's network as B may have known it before A deleted it: a VPC with a subnet, a gateway attached
 * then detached, a route table associated then disassociated, a group whose rule was revoked, an
 * Elastic IP released; all deleted. (The released address itself is not a target: the pool hands
 * it to the next allocation, B's own.)
 */
async function aDeletedNetwork(a: Party): Promise<Target[]> {
  const vpc = (await a.ec2.send(new CreateVpcCommand({ CidrBlock: "10.11.0.0/16" }))).Vpc!.VpcId!;
  const subnet = (await a.ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: "10.11.1.0/24" })))
    .Subnet!.SubnetId!;
  const gateway = (await a.ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!
    .InternetGatewayId!;
  await a.ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: gateway, VpcId: vpc }));
  const routeTable = (await a.ec2.send(new CreateRouteTableCommand({ VpcId: vpc }))).RouteTable!
    .RouteTableId!;
  const association = (
    await a.ec2.send(new AssociateRouteTableCommand({ RouteTableId: routeTable, SubnetId: subnet }))
  ).AssociationId!;
  const group = (
    await a.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "a-old-group", Description: "a old group", VpcId: vpc }),
    )
  ).GroupId!;
  const rule = (
    await a.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: group, IpPermissions: [SSH_FROM_DOCS] }),
    )
  ).SecurityGroupRules![0].SecurityGroupRuleId!;
  const allocation = (await a.ec2.send(new AllocateAddressCommand({ Domain: "vpc" }))).AllocationId!;

  await a.ec2.send(new ReleaseAddressCommand({ AllocationId: allocation }));
  await a.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: group, SecurityGroupRuleIds: [rule] }));
  await a.ec2.send(new DeleteSecurityGroupCommand({ GroupId: group }));
  await a.ec2.send(new DisassociateRouteTableCommand({ AssociationId: association }));
  await a.ec2.send(new DeleteRouteTableCommand({ RouteTableId: routeTable }));
  await a.ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: gateway, VpcId: vpc }));
  await a.ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: gateway }));
  await a.ec2.send(new DeleteSubnetCommand({ SubnetId: subnet }));
  await a.ec2.send(new DeleteVpcCommand({ VpcId: vpc }));
  return [
    { kind: "vpc", state: "deleted", id: vpc },
    { kind: "subnet", state: "deleted", id: subnet },
    { kind: "internetGateway", state: "detached and deleted", id: gateway },
    { kind: "routeTable", state: "deleted", id: routeTable },
    { kind: "routeTableAssociation", state: "disassociated", id: association },
    { kind: "securityGroup", state: "deleted", id: group },
    { kind: "securityGroupName", state: "deleted", id: "a-old-group" },
    { kind: "securityGroupRule", state: "revoked", id: rule },
    { kind: "allocation", state: "released", id: allocation },
  ];
}

/**
 * A's Elastic IP associated with A's instance: the instance's interface and the association as
 * targets, beside the allocation and the public address in that state.
 */
export async function aInstanceNetwork(a: Party, instanceId: string): Promise<Target[]> {
  const address = await a.ec2.send(new AllocateAddressCommand({ Domain: "vpc" }));
  const association = await a.ec2.send(
    new AssociateAddressCommand({ AllocationId: address.AllocationId, InstanceId: instanceId }),
  );
  const nics = await a.ec2.send(
    new DescribeNetworkInterfacesCommand({
      Filters: [{ Name: "attachment.instance-id", Values: [instanceId] }],
    }),
  );
  return [
    {
      kind: "networkInterface",
      state: "of a running instance",
      id: nics.NetworkInterfaces![0].NetworkInterfaceId!,
    },
    { kind: "eipAssociation", state: "with a running instance", id: association.AssociationId! },
    { kind: "allocation", state: "associated with a running instance", id: address.AllocationId! },
    { kind: "publicIp", state: "associated with a running instance", id: address.PublicIp! },
  ];
}
