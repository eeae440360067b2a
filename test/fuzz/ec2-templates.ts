// Well-formed requests for every implemented action (wire names, pool references): the fuzzer
// mutates them one member at a time, so most mutated requests reach the handlers' own checks.
import { ref } from "./ec2-values.ts";

type Template = Record<string, string>;

const tag = (prefix: string, type: string, key = "Name", value = "fuzz"): Template => ({
  [`${prefix}.1.ResourceType`]: type,
  [`${prefix}.1.Tag.1.Key`]: key,
  [`${prefix}.1.Tag.1.Value`]: value,
});
const bdm = (snapshot: string, extra: Template = {}): Template => ({
  "BlockDeviceMapping.1.DeviceName": "/dev/xvda",
  "BlockDeviceMapping.1.Ebs.SnapshotId": ref(snapshot),
  ...extra,
});
const future = () => new Date(Date.now() + 86_400_000).toISOString();

export const TEMPLATES: Record<string, (() => Template)[]> = {
  CreateVolume: [
    () => ({ AvailabilityZone: "us-east-1a", Size: "1" }),
    () => ({
      AvailabilityZone: "us-east-1b",
      SnapshotId: ref("snap.a.1"),
      ...tag("TagSpecification", "volume"),
    }),
    () => ({ AvailabilityZone: "us-east-1a", SnapshotId: ref("snap.b.1"), VolumeType: "gp3", Size: "2" }),
    () => ({ AvailabilityZone: "us-east-1c", SnapshotId: ref("dsnap.a.1"), Size: "16384" }),
  ],
  DescribeVolumes: [
    () => ({}),
    () => ({ "VolumeId.1": ref("vol.a.0"), "VolumeId.2": ref("vol.a.1") }),
    () => ({ "Filter.1.Name": "status", "Filter.1.Value.1": "available", MaxResults: "5" }),
  ],
  DescribeVolumeStatus: [
    () => ({}),
    () => ({ "VolumeId.1": ref("vol.a.0"), "VolumeId.2": ref("vol.b.0") }),
    () => ({ "Filter.1.Name": "volume-status.status", "Filter.1.Value.1": "ok", MaxResults: "5" }),
    () => ({ "Filter.1.Name": "availability-zone", "Filter.1.Value.1": "us-east-1*" }),
  ],
  DescribeStorageUsage: [
    () => ({ "SnapshotId.1": ref("snap.a.0"), "SnapshotId.2": ref("snap.a.1") }),
    () => ({ "SnapshotId.1": ref("snap.b.1"), "ImageId.1": ref("ami.a.0") }),
    () => ({ "ImageId.1": ref("ami.b.1"), DryRun: "true" }),
    () => ({ "SnapshotId.1": ref("dsnap.a.0") }),
  ],
  DeleteVolume: [() => ({ VolumeId: ref("vol.a.1"), DryRun: "true" }), () => ({ VolumeId: ref("vol.b.0") })],
  ModifyVolume: [
    () => ({ VolumeId: ref("vol.a.1"), Size: "2" }),
    () => ({ VolumeId: ref("vol.a.1"), VolumeType: "gp3" }),
  ],
  AttachVolume: [() => ({ VolumeId: ref("vol.a.1"), InstanceId: "i-0123456789abcdef0", Device: "/dev/sdf" })],
  DetachVolume: [() => ({ VolumeId: ref("vol.a.1") }), () => ({ VolumeId: ref("vol.a.0"), Force: "true" })],
  CreateSnapshot: [
    () => ({ VolumeId: ref("vol.a.0"), Description: "fuzz" }),
    () => ({ VolumeId: ref("vol.a.1"), ...tag("TagSpecification", "snapshot") }),
  ],
  DescribeSnapshots: [
    () => ({ "Owner.1": "self" }),
    () => ({ "SnapshotId.1": ref("snap.a.0"), "SnapshotId.2": ref("snap.b.1") }),
    () => ({ "RestorableBy.1": ref("acct.a"), "Filter.1.Name": "tag-key", "Filter.1.Value.1": "*" }),
    () => ({ MaxResults: "5", "Filter.1.Name": "status", "Filter.1.Value.1": "completed" }),
  ],
  DeleteSnapshot: [
    () => ({ SnapshotId: ref("snap.a.1"), DryRun: "true" }),
    () => ({ SnapshotId: ref("snap.a.0") }),
    () => ({ SnapshotId: ref("dsnap.a.0") }),
  ],
  CopySnapshot: [
    () => ({ SourceRegion: "us-east-1", SourceSnapshotId: ref("snap.a.1") }),
    () => ({ SourceRegion: "eu-west-1", SourceSnapshotId: ref("snap.e.0"), Description: "copy" }),
    () => ({
      SourceRegion: "us-east-1",
      SourceSnapshotId: ref("snap.b.1"),
      ...tag("TagSpecification", "snapshot"),
    }),
  ],
  ModifySnapshotAttribute: [
    () => ({
      SnapshotId: ref("snap.a.1"),
      Attribute: "createVolumePermission",
      "CreateVolumePermission.Add.1.UserId": ref("acct.b"),
    }),
    () => ({ SnapshotId: ref("snap.a.1"), OperationType: "remove", "UserId.1": ref("acct.b") }),
  ],
  DescribeSnapshotAttribute: [() => ({ SnapshotId: ref("snap.a.1"), Attribute: "createVolumePermission" })],
  ResetSnapshotAttribute: [() => ({ SnapshotId: ref("snap.a.1"), Attribute: "createVolumePermission" })],
  CreateSnapshots: [() => ({ "InstanceSpecification.InstanceId": "i-0123456789abcdef0" })],
  RegisterImage: [
    () => ({ Name: "fuzz-image", RootDeviceName: "/dev/xvda", ...bdm("snap.a.1") }),
    () => ({ Name: "fuzz-image-2", ...bdm("snap.a.0", { "BlockDeviceMapping.1.Ebs.VolumeSize": "2" }) }),
    () => ({
      Name: "fuzz-shared",
      RootDeviceName: "/dev/xvda",
      ...bdm("snap.b.1"),
      ...tag("TagSpecification", "image"),
    }),
    () => ({ Name: "fuzz-pending", ...bdm("dsnap.a.0") }),
    () => ({
      Name: "fuzz-multi",
      RootDeviceName: "/dev/xvda",
      ...bdm("dsnap.a.1"),
      "BlockDeviceMapping.2.DeviceName": "/dev/sdb",
      "BlockDeviceMapping.2.Ebs.SnapshotId": ref("snap.b.1"),
      "BlockDeviceMapping.2.Ebs.DeleteOnTermination": "false",
      "BlockDeviceMapping.3.DeviceName": "/dev/sdc",
      "BlockDeviceMapping.3.VirtualName": "ephemeral0",
      "BlockDeviceMapping.4.DeviceName": "/dev/sdd",
      "BlockDeviceMapping.4.NoDevice": "",
    }),
  ],
  DescribeImages: [
    () => ({ "Owner.1": "self" }),
    () => ({ "ImageId.1": ref("ami.a.0"), "ImageId.2": ref("ami.b.1") }),
    () => ({ "ExecutableBy.1": "self", IncludeDeprecated: "true" }),
    () => ({ "Filter.1.Name": "name", "Filter.1.Value.1": "img-*", MaxResults: "5" }),
  ],
  CopyImage: [
    () => ({ SourceRegion: "us-east-1", SourceImageId: ref("ami.a.0"), Name: "fuzz-copy" }),
    () => ({
      SourceRegion: "eu-west-1",
      SourceImageId: ref("ami.e.0"),
      Name: "fuzz-copy-eu",
      ClientToken: "tok-1",
    }),
    () => ({
      SourceRegion: "us-east-1",
      SourceImageId: ref("ami.b.1"),
      Name: "fuzz-copy-b",
      CopyImageTags: "true",
    }),
  ],
  DeregisterImage: [
    () => ({ ImageId: ref("ami.a.0"), DryRun: "true" }),
    () => ({ ImageId: ref("ami.a.1"), DeleteAssociatedSnapshots: "true" }),
  ],
  ModifyImageAttribute: [
    () => ({ ImageId: ref("ami.a.0"), "LaunchPermission.Add.1.UserId": ref("acct.b") }),
    () => ({ ImageId: ref("ami.a.0"), "LaunchPermission.Remove.1.Group": "all" }),
    () => ({ ImageId: ref("ami.a.0"), "Description.Value": "described" }),
    () => ({
      ImageId: ref("ami.a.0"),
      Attribute: "launchPermission",
      OperationType: "add",
      "UserGroup.1": "all",
    }),
  ],
  DescribeImageAttribute: [
    () => ({ ImageId: ref("ami.a.0"), Attribute: "launchPermission" }),
    () => ({ ImageId: ref("ami.a.1"), Attribute: "blockDeviceMapping" }),
  ],
  ResetImageAttribute: [() => ({ ImageId: ref("ami.a.0"), Attribute: "launchPermission" })],
  EnableImageDeprecation: [() => ({ ImageId: ref("ami.a.0"), DeprecateAt: future() })],
  DisableImageDeprecation: [() => ({ ImageId: ref("ami.a.0") })],
  EnableImageDeregistrationProtection: [() => ({ ImageId: ref("ami.a.0"), WithCooldown: "false" })],
  DisableImageDeregistrationProtection: [() => ({ ImageId: ref("ami.a.1") })],
  CreateTags: [
    () => ({ "ResourceId.1": ref("vol.a.0"), "Tag.1.Key": "k", "Tag.1.Value": "v" }),
    () => ({
      "ResourceId.1": ref("ami.a.0"),
      "ResourceId.2": ref("snap.a.0"),
      "Tag.1.Key": "Name",
      "Tag.1.Value": "",
    }),
    () => ({ "ResourceId.1": ref("keyid.a.0"), "Tag.1.Key": "owner", "Tag.1.Value": "fuzz" }),
  ],
  DeleteTags: [
    () => ({ "ResourceId.1": ref("vol.a.0"), "Tag.1.Key": "k" }),
    () => ({ "ResourceId.1": ref("snap.a.0") }),
  ],
  DescribeTags: [
    () => ({}),
    () => ({ "Filter.1.Name": "resource-type", "Filter.1.Value.1": "volume", MaxResults: "5" }),
  ],
  DescribeRegions: [() => ({}), () => ({ "RegionName.1": "eu-west-1" })],
  DescribeAvailabilityZones: [() => ({}), () => ({ "ZoneName.1": "us-east-1b" })],
  RunInstances: [
    () => ({ ImageId: ref("ami.a.0"), MinCount: "1", MaxCount: "1", InstanceType: "t3.nano" }),
    () => ({
      ImageId: ref("ami.b.1"),
      MinCount: "1",
      MaxCount: "2",
      KeyName: ref("key.a.0"),
      UserData: Buffer.from("#!/bin/sh\ntrue\n").toString("base64"),
      ...tag("TagSpecification", "instance"),
    }),
  ],
  DescribeInstances: [
    () => ({}),
    () => ({ "Filter.1.Name": "instance-state-name", "Filter.1.Value.1": "running" }),
  ],
  DescribeInstanceStatus: [() => ({ IncludeAllInstances: "true" })],
  StartInstances: [() => ({ "InstanceId.1": "i-0123456789abcdef0" })],
  StopInstances: [() => ({ "InstanceId.1": "i-0123456789abcdef0", Force: "true" })],
  TerminateInstances: [() => ({ "InstanceId.1": "i-0123456789abcdef0" })],
  RebootInstances: [() => ({ "InstanceId.1": "i-0123456789abcdef0" })],
  GetConsoleOutput: [() => ({ InstanceId: "i-0123456789abcdef0", Latest: "true" })],
  CreateImage: [() => ({ InstanceId: "i-0123456789abcdef0", Name: "fuzz-from-instance", NoReboot: "true" })],
  DescribeInstanceTypes: [
    () => ({}),
    () => ({ "InstanceType.1": "t2.micro" }),
    () => ({
      "Filter.1.Name": "processor-info.supported-architecture",
      "Filter.1.Value.1": "arm64",
      MaxResults: "5",
    }),
  ],
  DescribeInstanceTypeOfferings: [
    () => ({}),
    () => ({
      LocationType: "availability-zone",
      "Filter.1.Name": "location",
      "Filter.1.Value.1": "us-east-1a",
    }),
  ],
  ModifyInstanceAttribute: [() => ({ InstanceId: "i-0123456789abcdef0", "InstanceType.Value": "t3.small" })],
  DescribeInstanceAttribute: [() => ({ InstanceId: "i-0123456789abcdef0", Attribute: "instanceType" })],
  CreateKeyPair: [() => ({ KeyName: "fuzz-key", KeyType: "ed25519" })],
  ImportKeyPair: [
    () => ({ KeyName: "fuzz-imported", PublicKeyMaterial: ref("pubkey") }),
    () => ({
      KeyName: ref("key.a.0"),
      PublicKeyMaterial: ref("pubkey"),
      ...tag("TagSpecification", "key-pair"),
    }),
  ],
  DescribeKeyPairs: [() => ({}), () => ({ "KeyName.1": ref("key.a.0"), IncludePublicKey: "true" })],
  DeleteKeyPair: [() => ({ KeyName: "fuzz-key" }), () => ({ KeyPairId: ref("keyid.b.0") })],
  CreateSecurityGroup: [
    () => ({ GroupName: "fuzz-sg", GroupDescription: "fuzz" }),
    () => ({
      GroupName: "fuzz-sg-2",
      GroupDescription: "fuzz",
      VpcId: "",
      ...tag("TagSpecification", "security-group"),
    }),
  ],
  DescribeSecurityGroups: [
    () => ({}),
    () => ({ "GroupId.1": ref("sg.a.0"), "GroupId.2": ref("sgd.a") }),
    () => ({ "GroupName.1": "default" }),
    () => ({ "Filter.1.Name": "ip-permission.from-port", "Filter.1.Value.1": "22", MaxResults: "5" }),
  ],
  DeleteSecurityGroup: [
    () => ({ GroupId: ref("sg.a.0"), DryRun: "true" }),
    () => ({ GroupId: ref("sg.b.0") }),
    () => ({ GroupName: "default" }),
  ],
  AuthorizeSecurityGroupIngress: [
    () => ({
      GroupId: ref("sg.a.0"),
      "IpPermissions.1.IpProtocol": "tcp",
      "IpPermissions.1.FromPort": "22",
      "IpPermissions.1.ToPort": "22",
      "IpPermissions.1.IpRanges.1.CidrIp": "10.0.0.0/8",
    }),
    () => ({ GroupId: ref("sg.a.0"), IpProtocol: "tcp", FromPort: "80", ToPort: "80", CidrIp: "0.0.0.0/0" }),
    () => ({
      GroupId: ref("sg.a.0"),
      "IpPermissions.1.IpProtocol": "-1",
      "IpPermissions.1.Groups.1.GroupId": ref("sgd.a"),
      ...tag("TagSpecification", "security-group-rule"),
    }),
  ],
  AuthorizeSecurityGroupEgress: [
    () => ({
      GroupId: ref("sg.a.0"),
      "IpPermissions.1.IpProtocol": "udp",
      "IpPermissions.1.FromPort": "53",
      "IpPermissions.1.ToPort": "53",
      "IpPermissions.1.IpRanges.1.CidrIp": "10.0.0.2/32",
    }),
  ],
  RevokeSecurityGroupIngress: [
    () => ({
      GroupId: ref("sg.a.0"),
      "IpPermissions.1.IpProtocol": "tcp",
      "IpPermissions.1.FromPort": "22",
      "IpPermissions.1.ToPort": "22",
      "IpPermissions.1.IpRanges.1.CidrIp": "10.0.0.0/8",
    }),
    () => ({ GroupId: ref("sg.a.0"), "SecurityGroupRuleId.1": "sgr-0123456789abcdef0" }),
  ],
  RevokeSecurityGroupEgress: [
    () => ({
      GroupId: ref("sg.a.0"),
      "IpPermissions.1.IpProtocol": "-1",
      "IpPermissions.1.IpRanges.1.CidrIp": "0.0.0.0/0",
    }),
  ],
  DescribeSecurityGroupRules: [
    () => ({}),
    () => ({ "Filter.1.Name": "group-id", "Filter.1.Value.1": ref("sg.a.0") }),
  ],
  ModifySecurityGroupRules: [
    () => ({
      GroupId: ref("sg.a.0"),
      "SecurityGroupRule.1.SecurityGroupRuleId": "sgr-0123456789abcdef0",
      "SecurityGroupRule.1.SecurityGroupRule.IpProtocol": "tcp",
      "SecurityGroupRule.1.SecurityGroupRule.FromPort": "443",
      "SecurityGroupRule.1.SecurityGroupRule.ToPort": "443",
      "SecurityGroupRule.1.SecurityGroupRule.CidrIpv4": "10.0.0.0/8",
    }),
  ],
  // The network model: no pool slots (VPCs have a quota of five), so ids are absent ones and
  // creations are what the account's quota allows.
  CreateVpc: [
    () => ({ CidrBlock: "10.0.0.0/16" }),
    () => ({ CidrBlock: "172.16.0.0/28", ...tag("TagSpecification", "vpc") }),
  ],
  DescribeVpcs: [
    () => ({}),
    () => ({ "Filter.1.Name": "is-default", "Filter.1.Value.1": "true", MaxResults: "5" }),
    () => ({ "VpcId.1": "vpc-0123456789abcdef0" }),
  ],
  DeleteVpc: [() => ({ VpcId: "vpc-0123456789abcdef0" })],
  DescribeVpcAttribute: [() => ({ VpcId: "vpc-0123456789abcdef0", Attribute: "enableDnsSupport" })],
  DescribeAccountAttributes: [() => ({}), () => ({ "AttributeName.1": "default-vpc" })],
  CreateSubnet: [
    () => ({ VpcId: "vpc-0123456789abcdef0", CidrBlock: "10.0.1.0/24", AvailabilityZone: "us-east-1a" }),
  ],
  DescribeSubnets: [
    () => ({}),
    () => ({ "Filter.1.Name": "default-for-az", "Filter.1.Value.1": "true" }),
    () => ({ "SubnetId.1": "subnet-0123456789abcdef0" }),
  ],
  DeleteSubnet: [() => ({ SubnetId: "subnet-0123456789abcdef0" })],
  ModifySubnetAttribute: [
    () => ({ SubnetId: "subnet-0123456789abcdef0", "MapPublicIpOnLaunch.Value": "true" }),
  ],
  CreateInternetGateway: [() => ({}), () => tag("TagSpecification", "internet-gateway")],
  DescribeInternetGateways: [
    () => ({}),
    () => ({ "Filter.1.Name": "attachment.state", "Filter.1.Value.1": "available" }),
  ],
  AttachInternetGateway: [
    () => ({ InternetGatewayId: "igw-0123456789abcdef0", VpcId: "vpc-0123456789abcdef0" }),
  ],
  DetachInternetGateway: [
    () => ({ InternetGatewayId: "igw-0123456789abcdef0", VpcId: "vpc-0123456789abcdef0" }),
  ],
  DeleteInternetGateway: [() => ({ InternetGatewayId: "igw-0123456789abcdef0" })],
  CreateRouteTable: [() => ({ VpcId: "vpc-0123456789abcdef0" })],
  DescribeRouteTables: [
    () => ({}),
    () => ({ "Filter.1.Name": "association.main", "Filter.1.Value.1": "true" }),
  ],
  CreateRoute: [
    () => ({
      RouteTableId: "rtb-0123456789abcdef0",
      DestinationCidrBlock: "0.0.0.0/0",
      GatewayId: "igw-0123456789abcdef0",
    }),
  ],
  DeleteRoute: [() => ({ RouteTableId: "rtb-0123456789abcdef0", DestinationCidrBlock: "0.0.0.0/0" })],
  AssociateRouteTable: [
    () => ({ RouteTableId: "rtb-0123456789abcdef0", SubnetId: "subnet-0123456789abcdef0" }),
  ],
  DisassociateRouteTable: [() => ({ AssociationId: "rtbassoc-0123456789abcdef0" })],
  DeleteRouteTable: [() => ({ RouteTableId: "rtb-0123456789abcdef0" })],
  AllocateAddress: [() => ({ Domain: "vpc" }), () => tag("TagSpecification", "elastic-ip")],
  DescribeAddresses: [() => ({}), () => ({ "Filter.1.Name": "domain", "Filter.1.Value.1": "vpc" })],
  AssociateAddress: [
    () => ({ AllocationId: "eipalloc-0123456789abcdef0", InstanceId: "i-0123456789abcdef0" }),
  ],
  DisassociateAddress: [() => ({ AssociationId: "eipassoc-0123456789abcdef0" })],
  ReleaseAddress: [() => ({ AllocationId: "eipalloc-0123456789abcdef0" })],
  DescribeNetworkInterfaces: [
    () => ({}),
    () => ({ "Filter.1.Name": "attachment.instance-id", "Filter.1.Value.1": "i-0123456789abcdef0" }),
  ],
};
