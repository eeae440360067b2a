import assert from "node:assert/strict";
import { test } from "node:test";
import { launchNetworkRequest } from "./run-network-params.ts";

const base = { ImageId: "ami-1", MinCount: 1, MaxCount: 1 };

test("instance-level parameters, with Packer's empty strings counted as absent", () => {
  assert.deepEqual(
    launchNetworkRequest({
      ...base,
      SubnetId: "",
      SecurityGroupIds: ["sg-1"],
      PrivateIpAddress: "",
      Placement: { AvailabilityZone: "" },
    }),
    {
      subnetId: undefined,
      availabilityZone: undefined,
      securityGroupIds: ["sg-1"],
      securityGroupNames: undefined,
      privateIpAddress: undefined,
    },
  );
});

test("a NetworkInterfaces entry with DeviceIndex 0 carries subnet, groups and the public address choice", () => {
  assert.deepEqual(
    launchNetworkRequest({
      ...base,
      NetworkInterfaces: [
        { DeviceIndex: 0, SubnetId: "subnet-1", Groups: ["sg-2"], AssociatePublicIpAddress: false },
      ],
    }),
    {
      subnetId: "subnet-1",
      availabilityZone: undefined,
      securityGroupIds: ["sg-2"],
      privateIpAddress: undefined,
      associatePublicIpAddress: false,
    },
  );
});

test("both forms at once, a second interface or an existing interface are refused", () => {
  const nic = { DeviceIndex: 0, SubnetId: "subnet-1" };
  assert.throws(() => launchNetworkRequest({ ...base, SubnetId: "subnet-2", NetworkInterfaces: [nic] }), {
    code: "InvalidParameterCombination",
  });
  assert.throws(
    () => launchNetworkRequest({ ...base, NetworkInterfaces: [nic, { ...nic, DeviceIndex: 1 }] }),
    {
      code: "InvalidParameterValue",
    },
  );
  assert.throws(
    () =>
      launchNetworkRequest({ ...base, NetworkInterfaces: [{ DeviceIndex: 0, NetworkInterfaceId: "eni-1" }] }),
    { code: "InvalidParameterValue" },
  );
});
