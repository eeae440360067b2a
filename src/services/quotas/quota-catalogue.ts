// Every per-account quota Strata enforces: its name (for `strata accounts set-quota`), what it
// limits, its default and the EC2 error it answers with. Defaults are a new AWS account's
// (Service Quotas defaults, as of 2024-2025):
// - EC2, "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances": 5 vCPUs (L-1216C47A),
//   https://docs.aws.amazon.com/general/latest/gr/ec2-service.html
// - EBS, "Storage for <type> volumes, in TiB": 50 each, io2 20; "IOPS for Provisioned IOPS SSD
//   (io1) volumes" 300,000, io2 100,000; "Snapshots per Region" 100,000,
//   https://docs.aws.amazon.com/ebs/latest/userguide/ebs-resource-quotas.html
// - AMIs: 50,000 per Region; public AMIs: 5,
//   https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ami-quotas.html
// - Key pairs: 5,000 per Region (not adjustable on AWS),
//   https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-key-pairs.html
// Error codes from https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html;
// for AMIs that page lists none, and EC2 answers the public-AMI quota with ResourceLimitExceeded
// ("You have reached your quota of 5 for the number of public images allowed in this Region"),
// so both AMI quotas use that code.
import type { ErrorCode } from "../../errors.ts";

export interface QuotaInfo {
  name: QuotaName;
  description: string;
  /** How the value reads (the CLI shows and takes it in this unit). */
  unit: "vCPUs" | "TiB" | "IOPS" | "count" | "fraction";
  default: number;
  /** The provider and admin accounts' default, where it differs. */
  operatorDefault?: number;
  error: ErrorCode;
  /** Whole numbers only (counts); TiB and the host share take fractions. */
  integer: boolean;
  max?: number;
}

export const QUOTA_VOLUME_TYPES = ["gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"] as const;
export type VolumeType = (typeof QUOTA_VOLUME_TYPES)[number];
/** Volume types with provisioned IOPS counted against an IOPS quota. */
export const PROVISIONED_IOPS_TYPES = ["io1", "io2"] as const;

const VOLUME_TYPE_NAMES: Record<VolumeType, string> = {
  gp2: "General Purpose SSD (gp2)",
  gp3: "General Purpose SSD (gp3)",
  io1: "Provisioned IOPS SSD (io1)",
  io2: "Provisioned IOPS SSD (io2)",
  st1: "Throughput Optimized HDD (st1)",
  sc1: "Cold HDD (sc1)",
  standard: "Magnetic (standard)",
};

export type QuotaName =
  | "vcpus"
  | "host-share"
  | `volume-storage-${VolumeType}`
  | "iops-io1"
  | "iops-io2"
  | "snapshots"
  | "images"
  | "public-images"
  | "key-pairs";

export const QUOTAS: QuotaInfo[] = [
  {
    name: "vcpus",
    description: "vCPUs of running On-Demand Standard instances, per region",
    unit: "vCPUs",
    default: 5,
    error: "VcpuLimitExceeded",
    integer: true,
  },
  {
    // Not an AWS quota: the fraction of this host's instance capacity (vCPUs x allocation ratio,
    // and memory) the account's running instances may hold, all regions together. Below 1, no
    // one account can fill the host; the operator's own accounts may.
    name: "host-share",
    description: "fraction of this host's instance vCPUs and memory, all regions together",
    unit: "fraction",
    default: 0.5,
    operatorDefault: 1,
    error: "InsufficientInstanceCapacity",
    integer: false,
    max: 1,
  },
  ...QUOTA_VOLUME_TYPES.map(
    (t): QuotaInfo => ({
      name: `volume-storage-${t}`,
      description: `storage for ${VOLUME_TYPE_NAMES[t]} volumes, per region`,
      unit: "TiB",
      default: t === "io2" ? 20 : 50,
      error: "VolumeLimitExceeded",
      integer: false,
    }),
  ),
  {
    name: "iops-io1",
    description: "provisioned IOPS of io1 volumes, per region",
    unit: "IOPS",
    default: 300_000,
    error: "MaxIOPSLimitExceeded",
    integer: true,
  },
  {
    name: "iops-io2",
    description: "provisioned IOPS of io2 volumes, per region",
    unit: "IOPS",
    default: 100_000,
    error: "MaxIOPSLimitExceeded",
    integer: true,
  },
  {
    name: "snapshots",
    description: "EBS snapshots, per region",
    unit: "count",
    default: 100_000,
    error: "SnapshotLimitExceeded",
    integer: true,
  },
  {
    name: "images",
    description: "AMIs (public and private, any state), per region",
    unit: "count",
    default: 50_000,
    error: "ResourceLimitExceeded",
    integer: true,
  },
  {
    name: "public-images",
    description: "public AMIs, per region",
    unit: "count",
    default: 5,
    error: "ResourceLimitExceeded",
    integer: true,
  },
  {
    name: "key-pairs",
    description: "key pairs, per region",
    unit: "count",
    default: 5_000,
    error: "KeyPairLimitExceeded",
    integer: true,
  },
  // Elastic IPs, when Strata has them: "elastic-ips", AWS default 5 per Region
  // ("EC2-VPC Elastic IPs"), answered with AddressLimitExceeded.
];

export function quotaInfo(name: string): QuotaInfo | undefined {
  return QUOTAS.find((q) => q.name === name);
}

/** The operator's overrides for one account, and whether it is the admin or provider account. */
export interface AccountQuotaSettings {
  overrides: Record<string, number>;
  operator: boolean;
}

/** The account's limit for the quota: the override, else the (operator) default. */
export function limitOf(name: QuotaName, settings: AccountQuotaSettings): number {
  const info = quotaInfo(name)!;
  const override = settings.overrides[name];
  if (override !== undefined) return override;
  return settings.operator ? (info.operatorDefault ?? info.default) : info.default;
}

/** A value given to `set-quota`, checked against the quota's unit; throws a plain Error if invalid. */
export function parseQuotaValue(name: string, text: string): number {
  const info = quotaInfo(name);
  if (!info) {
    throw new Error(`Unknown quota '${name}'. Quotas: ${QUOTAS.map((q) => q.name).join(", ")}`);
  }
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < 0) {
    throw new Error(`Invalid value '${text}' for ${name}: a number >= 0 (${info.unit})`);
  }
  if (info.integer && !Number.isInteger(value)) {
    throw new Error(`Invalid value '${text}' for ${name}: a whole number (${info.unit})`);
  }
  if (info.max !== undefined && value > info.max) {
    throw new Error(`Invalid value '${text}' for ${name}: at most ${info.max}`);
  }
  return value;
}
