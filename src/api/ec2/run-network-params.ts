// RunInstances' network parameters in both of EC2's forms: instance-level (SubnetId,
// SecurityGroupIds, SecurityGroups, PrivateIpAddress) or one NetworkInterfaces entry with
// DeviceIndex 0 (where AssociatePublicIpAddress can be given). Strata gives an instance one
// interface, as most instance launches have.
import type * as EC2 from "@aws-sdk/client-ec2";
import { StrataError } from "../../errors.ts";
import type { LaunchNetworkRequest } from "../../services/network/interface-service.ts";

export function launchNetworkRequest(input: EC2.RunInstancesCommandInput): LaunchNetworkRequest {
  const nics = input.NetworkInterfaces ?? [];
  const groupIds = input.SecurityGroupIds?.length ? input.SecurityGroupIds : undefined;
  const groupNames = input.SecurityGroups?.length ? input.SecurityGroups : undefined;
  const az = input.Placement?.AvailabilityZone || undefined;
  if (nics.length === 0) {
    return {
      subnetId: input.SubnetId || undefined,
      availabilityZone: az,
      securityGroupIds: groupIds,
      securityGroupNames: groupNames,
      privateIpAddress: input.PrivateIpAddress || undefined,
    };
  }
  // EC2: "Network interfaces and an instance-level subnet ID / security groups / private IP
  // address may not be specified on the same request".
  if (input.SubnetId || groupIds || groupNames || input.PrivateIpAddress) {
    throw new StrataError(
      "InvalidParameterCombination",
      "Network interfaces and an instance-level subnet ID, security groups or private IP address may not be specified on the same request",
    );
  }
  if (nics.length > 1 || (nics[0].DeviceIndex ?? 0) !== 0) {
    throw new StrataError(
      "InvalidParameterValue",
      "Strata gives an instance one network interface: specify only DeviceIndex 0",
    );
  }
  const nic = nics[0];
  if (nic.NetworkInterfaceId) {
    throw new StrataError(
      "InvalidParameterValue",
      "Launching with an existing network interface is not supported: give SubnetId and Groups instead",
    );
  }
  const ips = (nic.PrivateIpAddresses ?? []).filter((p) => p.PrivateIpAddress);
  if (ips.length > 1 || (nic.SecondaryPrivateIpAddressCount ?? 0) > 0) {
    throw new StrataError("InvalidParameterValue", "Secondary private IP addresses are not supported");
  }
  return {
    subnetId: nic.SubnetId || undefined,
    availabilityZone: az,
    securityGroupIds: nic.Groups?.length ? nic.Groups : undefined,
    privateIpAddress: nic.PrivateIpAddress || ips[0]?.PrivateIpAddress || undefined,
    associatePublicIpAddress: nic.AssociatePublicIpAddress,
  };
}
