// The instance types Strata knows: EC2's names and sizes, and the sizes are real (QEMU gets exactly
// these vCPUs and this memory). The x86_64 ones launch; arm64 ones are known (DescribeInstanceTypes
// answers for them) but refused at launch until arm64 images are supported.
import { INSTANCE_FAMILIES } from "./instance-type-data.ts";

export type Architecture = "i386" | "x86_64" | "arm64";

const FLAGS = [
  "metal",
  "burstable",
  "current",
  "free-tier",
  "hibernation",
  "dedicated-hosts",
  "spot",
  "cluster",
  "i386",
  "bios",
  "uefi",
  "xen",
  "ena",
  "efa",
  "in-transit",
  "nvme",
  "ebs-optimized",
] as const;
type Flag = (typeof FLAGS)[number];

/**
 * One size of a family: size, vCPUs, cores, threads per core, memory MiB, sustained GHz, network
 * performance, network interfaces, IPv4 addresses per interface, EBS baseline and maximum Mbps,
 * EBS baseline and maximum IOPS (0 where EC2 gives none), then the flags this size adds (+flag) to
 * or removes (-flag) from its family's.
 */
export type SizeRow = [
  string,
  number,
  number,
  number,
  number,
  number,
  string,
  number,
  number,
  number,
  number,
  number,
  number,
  string,
];

export interface FamilyRows {
  family: string;
  architecture: "x86_64" | "arm64";
  /** Space-separated flags most of the family's sizes have. */
  flags: string;
  sizes: SizeRow[];
}

export interface InstanceTypeInfo {
  name: string;
  family: string;
  vcpus: number;
  cores: number;
  threadsPerCore: number;
  memoryMiB: number;
  clockGhz: number;
  /** What EC2 lists (t2's smaller sizes take i386 images too). */
  architectures: Architecture[];
  /** x86_64 or arm64: what the type's processor is. */
  architecture: "x86_64" | "arm64";
  /** Absent for bare metal, as on EC2. */
  hypervisor?: "nitro" | "xen";
  bareMetal: boolean;
  burstable: boolean;
  currentGeneration: boolean;
  freeTierEligible: boolean;
  hibernation: boolean;
  dedicatedHosts: boolean;
  usageClasses: ("on-demand" | "spot")[];
  placementStrategies: ("cluster" | "partition" | "spread")[];
  bootModes: ("legacy-bios" | "uefi")[];
  network: {
    performance: string;
    maxInterfaces: number;
    ipv4PerInterface: number;
    ena: boolean;
    efa: boolean;
    encryptionInTransit: boolean;
  };
  ebs: {
    optimized: boolean;
    nvme: boolean;
    baselineMbps: number;
    maximumMbps: number;
    baselineIops: number;
    maximumIops: number;
  };
}

function flagsOf(family: string, row: SizeRow): Set<Flag> {
  const flags = new Set(family.split(" ").filter(Boolean) as Flag[]);
  for (const change of row[13].split(" ").filter(Boolean)) {
    const flag = change.slice(1) as Flag;
    if (!FLAGS.includes(flag)) throw new Error(`instance type data: unknown flag ${change}`);
    if (change[0] === "+") flags.add(flag);
    else flags.delete(flag);
  }
  return flags;
}

function expand(f: FamilyRows, row: SizeRow): InstanceTypeInfo {
  const [size, vcpus, cores, threadsPerCore, memoryMiB, clockGhz, performance, maxInterfaces, ipv4] = row;
  const [baselineMbps, maximumMbps, baselineIops, maximumIops] = row.slice(9, 13) as number[];
  const flags = flagsOf(f.flags, row);
  const has = (flag: Flag) => flags.has(flag);
  return {
    name: `${f.family}.${size}`,
    family: f.family,
    vcpus,
    cores,
    threadsPerCore,
    memoryMiB,
    clockGhz,
    architectures: has("i386") ? ["i386", f.architecture] : [f.architecture],
    architecture: f.architecture,
    hypervisor: has("metal") ? undefined : has("xen") ? "xen" : "nitro",
    bareMetal: has("metal"),
    burstable: has("burstable"),
    currentGeneration: has("current"),
    freeTierEligible: has("free-tier"),
    hibernation: has("hibernation"),
    dedicatedHosts: has("dedicated-hosts"),
    usageClasses: has("spot") ? ["on-demand", "spot"] : ["on-demand"],
    placementStrategies: has("cluster") ? ["cluster", "partition", "spread"] : ["partition", "spread"],
    bootModes: [...(has("bios") ? ["legacy-bios" as const] : []), ...(has("uefi") ? ["uefi" as const] : [])],
    network: {
      performance,
      maxInterfaces,
      ipv4PerInterface: ipv4,
      ena: has("ena"),
      efa: has("efa"),
      encryptionInTransit: has("in-transit"),
    },
    ebs: {
      optimized: has("ebs-optimized"),
      nvme: has("nvme"),
      baselineMbps,
      maximumMbps,
      baselineIops,
      maximumIops,
    },
  };
}

export const INSTANCE_TYPES: readonly InstanceTypeInfo[] = INSTANCE_FAMILIES.flatMap((f) =>
  f.sizes.map((row) => expand(f, row)),
);

const byName = new Map(INSTANCE_TYPES.map((t) => [t.name, t]));

export function instanceType(name: string): InstanceTypeInfo | undefined {
  return byName.get(name);
}

/** Strata's guests are x86_64 (QEMU's x86 machine); an arm64 type is known but cannot run yet. */
export function launchable(type: InstanceTypeInfo): boolean {
  return type.architecture === "x86_64";
}
