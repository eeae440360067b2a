// DescribeStorageUsage, Strata's EC2 extension (README "EC2 API"), as an SDK v3 command: built the
// way @aws-sdk/client-ec2 3.1169 builds its own (dist-es/commandBuilder.js: makeBuilder over
// static schemas), so the EC2Client's query protocol signs, serializes and parses it, and API
// errors arrive as the usual ServiceExceptions. No browser-only code: tests import it from Node.
import type { ServiceInputTypes, ServiceOutputTypes } from "@aws-sdk/client-ec2";
import { makeBuilder } from "@smithy/core/client";
import { getEndpointPlugin } from "@smithy/core/endpoints";
import type { MetadataBearer, StaticOperationSchema } from "@smithy/types";

export interface DescribeStorageUsageCommandInput {
  SnapshotIds?: string[];
  ImageIds?: string[];
  DryRun?: boolean;
}

export interface StorageUsage {
  ResourceId?: string;
  ResourceType?: "snapshot" | "image";
  /** What a restore presents: the volume sizes. */
  LogicalBytes?: number;
  /** Non-zero blocks x 512 KiB. */
  DataBytes?: number;
  /** Encoded bytes of the distinct chunks referenced. */
  StoredBytes?: number;
  /** Stored bytes no other snapshot of the same account references. */
  UniqueBytes?: number;
  /** Stored bytes shared with the account's other snapshots. */
  SharedBytes?: number;
}

export interface DescribeStorageUsageCommandOutput extends MetadataBearer {
  StorageUsages?: StorageUsage[];
}

// Schema codes of @smithy/core/schema: 0 string, 1 number, 2 boolean, 64|0 list of strings;
// [3, ns, name, traits, members, schemas] a structure, [1, ...] a list, [9, ...] an operation.
const ns = "com.amazonaws.ec2";
const idList = (name: string, member: string) => [1, ns, name, 0, [0, { xmlName: member }]];
const Input = [
  3,
  ns,
  "DescribeStorageUsageRequest",
  0,
  ["SnapshotIds", "ImageIds", "DryRun"],
  [
    [() => idList("SnapshotIdStringList", "SnapshotId"), { xmlName: "SnapshotId" }],
    [() => idList("ImageIdStringList", "ImageId"), { xmlName: "ImageId" }],
    [2, { ec2QueryName: "DryRun", xmlName: "dryRun" }],
  ],
];
const Usage = [
  3,
  ns,
  "StorageUsage",
  0,
  ["ResourceId", "ResourceType", "LogicalBytes", "DataBytes", "StoredBytes", "UniqueBytes", "SharedBytes"],
  [
    [0, { ec2QueryName: "ResourceId", xmlName: "resourceId" }],
    [0, { ec2QueryName: "ResourceType", xmlName: "resourceType" }],
    [1, { ec2QueryName: "LogicalBytes", xmlName: "logicalBytes" }],
    [1, { ec2QueryName: "DataBytes", xmlName: "dataBytes" }],
    [1, { ec2QueryName: "StoredBytes", xmlName: "storedBytes" }],
    [1, { ec2QueryName: "UniqueBytes", xmlName: "uniqueBytes" }],
    [1, { ec2QueryName: "SharedBytes", xmlName: "sharedBytes" }],
  ],
];
const Output = [
  3,
  ns,
  "DescribeStorageUsageResult",
  0,
  ["StorageUsages"],
  [
    [
      () => [1, ns, "StorageUsageList", 0, [() => Usage, { xmlName: "item" }]],
      { ec2QueryName: "StorageUsageSet", xmlName: "storageUsageSet" },
    ],
  ],
];
const Operation = [
  9,
  ns,
  "DescribeStorageUsage",
  0,
  () => Input,
  () => Output,
] as unknown as StaticOperationSchema;

// The EC2Client's endpoint parameters (client-ec2's endpoint/EndpointParameters.js commonParams).
const commonParams = {
  UseFIPS: { type: "builtInParams", name: "useFipsEndpoint" },
  Endpoint: { type: "builtInParams", name: "endpoint" },
  Region: { type: "builtInParams", name: "region" },
  UseDualStack: { type: "builtInParams", name: "useDualstackEndpoint" },
} as const;

const command = makeBuilder<
  // biome-ignore lint/suspicious/noExplicitAny: the client's resolved config, as client-ec2 types it
  any,
  ServiceInputTypes,
  ServiceOutputTypes
>(commonParams, "AmazonEC2", "EC2Client", getEndpointPlugin);

/** `ec2.send(new DescribeStorageUsageCommand({ SnapshotIds: ["snap-..."] }))` */
export class DescribeStorageUsageCommand extends command<
  DescribeStorageUsageCommandInput & ServiceInputTypes,
  DescribeStorageUsageCommandOutput & ServiceOutputTypes
>({}, () => [], "DescribeStorageUsage", Operation) {}
