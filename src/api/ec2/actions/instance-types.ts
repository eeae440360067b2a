import type * as EC2 from "@aws-sdk/client-ec2";
import {
  INSTANCE_TYPES,
  type InstanceTypeInfo,
  instanceType,
  launchable,
} from "../../../compute/instance-types.ts";
import { StrataError } from "../../../errors.ts";
import { dryRunCheck, type Out, type RequestContext } from "../context.ts";
import { applyFilters, type FilterFields } from "../filters.ts";
import { paginate } from "../pagination.ts";
import { availabilityZones } from "./regions.ts";

const typeFilters: FilterFields<InstanceTypeInfo> = {
  "instance-type": (t) => t.name,
  "current-generation": (t) => t.currentGeneration,
  "free-tier-eligible": (t) => t.freeTierEligible,
  "bare-metal": (t) => t.bareMetal,
  "burstable-performance-supported": (t) => t.burstable,
  "hibernation-supported": (t) => t.hibernation,
  "dedicated-hosts-supported": (t) => t.dedicatedHosts,
  "auto-recovery-supported": () => true,
  "instance-storage-supported": () => false,
  hypervisor: (t) => t.hypervisor,
  "processor-info.supported-architecture": (t) => t.architectures,
  "processor-info.sustained-clock-speed-in-ghz": (t) => String(t.clockGhz),
  "vcpu-info.default-vcpus": (t) => t.vcpus,
  "vcpu-info.default-cores": (t) => t.cores,
  "vcpu-info.default-threads-per-core": (t) => t.threadsPerCore,
  "memory-info.size-in-mib": (t) => t.memoryMiB,
  "network-info.network-performance": (t) => t.network.performance,
  "network-info.maximum-network-interfaces": (t) => t.network.maxInterfaces,
  "network-info.ipv4-addresses-per-interface": (t) => t.network.ipv4PerInterface,
  "network-info.ipv6-addresses-per-interface": (t) => t.network.ipv4PerInterface,
  "network-info.ipv6-supported": () => true,
  "network-info.ena-support": (t) => (t.network.ena ? "required" : "unsupported"),
  "network-info.efa-supported": (t) => t.network.efa,
  "network-info.encryption-in-transit-supported": (t) => t.network.encryptionInTransit,
  "ebs-info.ebs-optimized-support": (t) => (t.ebs.optimized ? "default" : "unsupported"),
  "ebs-info.nvme-support": (t) => (t.ebs.nvme ? "required" : "unsupported"),
  "ebs-info.encryption-support": () => "unsupported",
  "supported-boot-mode": (t) => t.bootModes,
  "supported-root-device-type": () => "ebs",
  "supported-usage-class": (t) => t.usageClasses,
  "supported-virtualization-type": () => "hvm",
};

function toInstanceTypeInfo(t: InstanceTypeInfo): EC2.InstanceTypeInfo {
  return {
    InstanceType: t.name as EC2._InstanceType,
    CurrentGeneration: t.currentGeneration,
    FreeTierEligible: t.freeTierEligible,
    SupportedUsageClasses: t.usageClasses,
    SupportedRootDeviceTypes: ["ebs"],
    SupportedVirtualizationTypes: ["hvm"],
    BareMetal: t.bareMetal,
    Hypervisor: t.hypervisor,
    ProcessorInfo: { SupportedArchitectures: t.architectures, SustainedClockSpeedInGhz: t.clockGhz },
    // No ValidCores/ValidThreadsPerCore: Strata does not take CpuOptions.
    VCpuInfo: { DefaultVCpus: t.vcpus, DefaultCores: t.cores, DefaultThreadsPerCore: t.threadsPerCore },
    MemoryInfo: { SizeInMiB: t.memoryMiB },
    InstanceStorageSupported: false,
    EbsInfo: {
      EbsOptimizedSupport: t.ebs.optimized ? "default" : "unsupported",
      EbsOptimizedInfo: t.ebs.optimized
        ? {
            BaselineBandwidthInMbps: t.ebs.baselineMbps,
            BaselineThroughputInMBps: t.ebs.baselineMbps / 8,
            BaselineIops: t.ebs.baselineIops,
            MaximumBandwidthInMbps: t.ebs.maximumMbps,
            MaximumThroughputInMBps: t.ebs.maximumMbps / 8,
            MaximumIops: t.ebs.maximumIops,
          }
        : undefined,
      // EC2 encrypts EBS on every one of these types; Strata's volumes are never encrypted.
      EncryptionSupport: "unsupported",
      NvmeSupport: t.ebs.nvme ? "required" : "unsupported",
    },
    NetworkInfo: {
      NetworkPerformance: t.network.performance,
      MaximumNetworkInterfaces: t.network.maxInterfaces,
      MaximumNetworkCards: 1,
      DefaultNetworkCardIndex: 0,
      NetworkCards: [
        {
          NetworkCardIndex: 0,
          NetworkPerformance: t.network.performance,
          MaximumNetworkInterfaces: t.network.maxInterfaces,
        },
      ],
      Ipv4AddressesPerInterface: t.network.ipv4PerInterface,
      Ipv6AddressesPerInterface: t.network.ipv4PerInterface,
      Ipv6Supported: true,
      EnaSupport: t.network.ena ? "required" : "unsupported",
      EfaSupported: t.network.efa,
      EncryptionInTransitSupported: t.network.encryptionInTransit,
    },
    PlacementGroupInfo: { SupportedStrategies: t.placementStrategies },
    HibernationSupported: t.hibernation,
    BurstablePerformanceSupported: t.burstable,
    DedicatedHostsSupported: t.dedicatedHosts,
    AutoRecoverySupported: true,
    SupportedBootModes: t.bootModes,
  };
}

export async function DescribeInstanceTypes(
  _ctx: RequestContext,
  input: EC2.DescribeInstanceTypesCommandInput,
): Promise<Out<EC2.DescribeInstanceTypesCommandOutput>> {
  let types = [...INSTANCE_TYPES];
  if (input.InstanceTypes?.length) {
    const unknown = input.InstanceTypes.filter((name) => !instanceType(name));
    if (unknown.length) {
      throw new StrataError(
        "InvalidInstanceType",
        `The following supplied instance types do not exist: [${unknown.join(", ")}]`,
      );
    }
    types = types.filter((t) => input.InstanceTypes!.includes(t.name as EC2._InstanceType));
  }
  const matched = applyFilters(types, input.Filters, typeFilters);
  dryRunCheck(input);
  const { page, nextToken } = paginate(matched, (t) => t.name, input, { min: 5, max: 100 });
  return { InstanceTypes: page.map(toInstanceTypeInfo), NextToken: nextToken };
}

/**
 * Every type Strata can run is offered in every region and zone (one host serves them all); arm64
 * types are described but not offered, since they cannot be launched yet.
 */
export async function DescribeInstanceTypeOfferings(
  ctx: RequestContext,
  input: EC2.DescribeInstanceTypeOfferingsCommandInput,
): Promise<Out<EC2.DescribeInstanceTypeOfferingsCommandOutput>> {
  const locationType = input.LocationType ?? "region";
  const zones = availabilityZones(ctx.regionName);
  const locations =
    locationType === "region"
      ? [ctx.regionName]
      : zones.map((z) => (locationType === "availability-zone" ? z.name : z.id));
  const offerings = locations.flatMap((location) =>
    INSTANCE_TYPES.filter(launchable).map((t) => ({ location, type: t.name })),
  );
  const matched = applyFilters(offerings, input.Filters, {
    location: (o) => o.location,
    "instance-type": (o) => o.type,
  });
  dryRunCheck(input);
  const { page, nextToken } = paginate(matched, (o) => `${o.location}/${o.type}`, input, {
    min: 5,
    max: 1000,
  });
  return {
    InstanceTypeOfferings: page.map((o) => ({
      InstanceType: o.type as EC2._InstanceType,
      LocationType: locationType,
      Location: o.location,
    })),
    NextToken: nextToken,
  };
}
