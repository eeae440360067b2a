// The instance types Strata offers: EC2's names and sizes, and the sizes are real (QEMU gets
// exactly these vCPUs and this memory).

export interface InstanceTypeInfo {
  name: string;
  vcpus: number;
  memoryMiB: number;
  /** EC2 reports burstable t3 types as such. */
  burstable: boolean;
}

export const INSTANCE_TYPES: InstanceTypeInfo[] = [
  { name: "t3.nano", vcpus: 2, memoryMiB: 512, burstable: true },
  { name: "t3.micro", vcpus: 2, memoryMiB: 1024, burstable: true },
  { name: "t3.small", vcpus: 2, memoryMiB: 2048, burstable: true },
  { name: "t3.medium", vcpus: 2, memoryMiB: 4096, burstable: true },
  { name: "t3.large", vcpus: 2, memoryMiB: 8192, burstable: true },
  { name: "m5.large", vcpus: 2, memoryMiB: 8192, burstable: false },
  { name: "m5.xlarge", vcpus: 4, memoryMiB: 16384, burstable: false },
  { name: "m5.2xlarge", vcpus: 8, memoryMiB: 32768, burstable: false },
];

export function instanceType(name: string): InstanceTypeInfo | undefined {
  return INSTANCE_TYPES.find((t) => t.name === name);
}
