// A sample instance's metadata for the compute layer's unit tests.
import type { InstanceMetadata } from "./metadata-service.ts";

export function sampleMetadata(overrides: Partial<InstanceMetadata> = {}): InstanceMetadata {
  return {
    instanceId: "i-0123456789abcdef0",
    imageId: "ami-0fedcba9876543210",
    instanceType: "t3.micro",
    region: "us-east-1",
    availabilityZone: "us-east-1a",
    accountId: "123456789012",
    hostname: "ip-169-254-0-15.ec2.internal",
    localIpv4: "169.254.0.15",
    mac: "02:ab:cd:ef:01:23",
    amiLaunchIndex: 0,
    reservationId: "r-0123456789abcdef0",
    launchedAt: new Date("2026-11-22T07:00:00.123Z"),
    publicKeys: [],
    blockDevices: { root: "/dev/xvda", ebs: [] },
    ...overrides,
  };
}
