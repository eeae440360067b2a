// An instance's place in the network as DescribeInstances shows it: VPC, subnet, addresses,
// security groups and its primary network interface (with the attachment and public association).
import type * as EC2 from "@aws-sdk/client-ec2";
import { privateDnsName } from "../../services/instances/instance-runtime.ts";
import type { InterfaceView } from "../../services/network/interface-service.ts";
import type { SecurityGroupRecord } from "../../services/network/network-records.ts";
import type { InstanceRecord } from "../../storage/metadata/instance-store.ts";

export interface InstanceNetwork {
  /** The primary interface, with its public association (an Elastic IP, else the one assigned at start). */
  eni: InterfaceView;
  groups: SecurityGroupRecord[];
}

export function networkFields(
  i: InstanceRecord,
  region: string,
  net: InstanceNetwork,
): Partial<EC2.Instance> {
  if (i.state === "terminated") {
    return {
      VpcId: undefined,
      SubnetId: undefined,
      PrivateDnsName: "",
      PublicDnsName: "",
      NetworkInterfaces: [],
    };
  }
  const { eni } = net;
  const publicIp = eni.association?.publicIp;
  const dns = privateDnsName(eni.privateIp, region);
  const groups = net.groups.map((g) => ({ GroupId: g.id, GroupName: g.name }));
  // EC2 names public addresses ec2-a-b-c-d.<region>.compute.amazonaws.com; those names would not
  // resolve here, so the public DNS name stays empty, as in a VPC without DNS hostnames.
  const association = publicIp
    ? { PublicIp: publicIp, PublicDnsName: "", IpOwnerId: eni.association?.ipOwnerId }
    : undefined;
  return {
    VpcId: eni.vpcId,
    SubnetId: eni.subnetId,
    PrivateIpAddress: eni.privateIp,
    PrivateDnsName: dns,
    PublicIpAddress: publicIp,
    PublicDnsName: "",
    SecurityGroups: groups,
    SourceDestCheck: true,
    NetworkInterfaces: [
      {
        NetworkInterfaceId: eni.id,
        SubnetId: eni.subnetId,
        VpcId: eni.vpcId,
        Description: eni.description,
        OwnerId: eni.ownerId,
        Status: "in-use",
        MacAddress: eni.mac,
        PrivateIpAddress: eni.privateIp,
        PrivateDnsName: dns,
        SourceDestCheck: true,
        InterfaceType: "interface",
        Groups: groups,
        Attachment: {
          AttachmentId: eni.attachmentId ?? undefined,
          DeviceIndex: eni.deviceIndex,
          NetworkCardIndex: 0,
          Status: "attached",
          AttachTime: new Date(i.launchedAt),
          DeleteOnTermination: eni.deleteOnTermination,
        },
        Association: association,
        PrivateIpAddresses: [
          { Primary: true, PrivateIpAddress: eni.privateIp, PrivateDnsName: dns, Association: association },
        ],
        Ipv6Addresses: [],
      },
    ],
  };
}
