// The instance page's Details, Networking and Security tabs: what DescribeInstances says, laid out
// as the EC2 console's tabs lay it out.
import type { Instance } from "@aws-sdk/client-ec2";
import Box from "@cloudscape-design/components/box";
import KeyValuePairs from "@cloudscape-design/components/key-value-pairs";
import Link from "@cloudscape-design/components/link";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import { href, useFollow } from "../../app/navigation.ts";
import { formatDate } from "../shared/format.ts";
import { StateIndicator } from "../shared/StateIndicator.tsx";

const dash = (s: string | number | undefined) => (s === undefined || s === "" ? "-" : String(s));

export function DetailsTab({ instance: i }: { instance: Instance }) {
  const follow = useFollow();
  return (
    <KeyValuePairs
      columns={3}
      ariaLabel="Instance details"
      items={[
        { label: "Instance ID", value: i.InstanceId },
        { label: "Instance state", value: <StateIndicator state={i.State?.Name} /> },
        { label: "Instance type", value: dash(i.InstanceType) },
        {
          label: "AMI ID",
          value: i.ImageId ? (
            <Link href={href(`/images/${i.ImageId}`)} onFollow={follow}>
              {i.ImageId}
            </Link>
          ) : (
            "-"
          ),
        },
        { label: "Launch time", value: formatDate(i.LaunchTime) },
        { label: "Key pair name", value: dash(i.KeyName) },
        { label: "Availability Zone", value: dash(i.Placement?.AvailabilityZone) },
        // EC2 leaves Platform out for Linux and names it in PlatformDetails.
        { label: "Platform", value: dash(i.PlatformDetails ?? i.Platform ?? "Linux/UNIX") },
        { label: "Architecture", value: dash(i.Architecture) },
        { label: "Root device name", value: dash(i.RootDeviceName) },
        { label: "Root device type", value: dash(i.RootDeviceType) },
        { label: "Virtualization type", value: dash(i.VirtualizationType) },
        { label: "State transition reason", value: dash(i.StateTransitionReason) },
        { label: "State reason", value: dash(i.StateReason?.Message) },
        { label: "Owner", value: dash(ownerOf(i)) },
      ]}
    />
  );
}

/** DescribeInstances gives the owner per reservation; the primary interface carries it too. */
function ownerOf(i: Instance): string | undefined {
  return i.NetworkInterfaces?.[0]?.OwnerId;
}

export function NetworkingTab({ instance: i }: { instance: Instance }) {
  const primary =
    i.NetworkInterfaces?.find((n) => n.Attachment?.DeviceIndex === 0) ?? i.NetworkInterfaces?.[0];
  return (
    <SpaceBetween size="l">
      <KeyValuePairs
        columns={3}
        ariaLabel="Networking details"
        items={[
          { label: "VPC ID", value: dash(i.VpcId) },
          { label: "Subnet ID", value: dash(i.SubnetId) },
          { label: "Public IPv4 address", value: dash(i.PublicIpAddress) },
          { label: "Private IPv4 address", value: dash(i.PrivateIpAddress) },
          { label: "Public DNS", value: dash(i.PublicDnsName) },
          { label: "Private DNS", value: dash(i.PrivateDnsName) },
          { label: "MAC address", value: dash(primary?.MacAddress) },
        ]}
      />
      <Table
        variant="embedded"
        header={
          <Box variant="h3" padding={{ top: "s" }}>
            Network interfaces
          </Box>
        }
        ariaLabels={{ tableLabel: "Network interfaces" }}
        trackBy="NetworkInterfaceId"
        items={i.NetworkInterfaces ?? []}
        empty={<Box textAlign="center">No network interfaces</Box>}
        columnDefinitions={[
          { id: "id", header: "Interface ID", cell: (n) => dash(n.NetworkInterfaceId) },
          { id: "index", header: "Device index", cell: (n) => dash(n.Attachment?.DeviceIndex) },
          { id: "subnet", header: "Subnet ID", cell: (n) => dash(n.SubnetId) },
          { id: "private", header: "Private IPv4 address", cell: (n) => dash(n.PrivateIpAddress) },
          { id: "public", header: "Public IPv4 address", cell: (n) => dash(n.Association?.PublicIp) },
          { id: "mac", header: "MAC address", cell: (n) => dash(n.MacAddress) },
          { id: "status", header: "Status", cell: (n) => <StateIndicator state={n.Status} /> },
        ]}
      />
    </SpaceBetween>
  );
}

export function SecurityTab({ instance: i }: { instance: Instance }) {
  const follow = useFollow();
  return (
    <Table
      variant="embedded"
      header={
        <Box variant="h3" padding={{ top: "s" }}>
          Security groups
        </Box>
      }
      ariaLabels={{ tableLabel: "Security groups" }}
      trackBy="GroupId"
      items={i.SecurityGroups ?? []}
      empty={<Box textAlign="center">No security groups</Box>}
      columnDefinitions={[
        {
          id: "id",
          header: "Security group ID",
          cell: (g) => (
            <Link href={href(`/security-groups/${g.GroupId}`)} onFollow={follow}>
              {g.GroupId}
            </Link>
          ),
        },
        { id: "name", header: "Security group name", cell: (g) => dash(g.GroupName) },
      ]}
    />
  );
}
