// What the Launch instance wizard reads and its one write: the images the caller may launch,
// instance types, VPCs, subnets and security groups, then RunInstances. Query keys:
// ["launch", region, ...]; a launch invalidates ["instances", region].
import {
  DescribeImagesCommand,
  type DescribeImagesCommandInput,
  type EC2Client,
  type Image,
  type InstanceTypeInfo,
  paginateDescribeImages,
  paginateDescribeInstanceTypes,
  paginateDescribeSecurityGroups,
  paginateDescribeSubnets,
  paginateDescribeVpcs,
  RunInstancesCommand,
  type RunInstancesCommandInput,
  type SecurityGroup,
  type Subnet,
  type Vpc,
} from "@aws-sdk/client-ec2";

export const launchKeys = {
  images: (region: string) => ["launch", region, "images"] as const,
  image: (region: string, id: string) => ["launch", region, "image", id] as const,
  instanceTypes: (region: string) => ["launch", region, "instance-types"] as const,
  vpcs: (region: string) => ["launch", region, "vpcs"] as const,
  subnets: (region: string, vpcId: string) => ["launch", region, "subnets", vpcId] as const,
  securityGroups: (region: string, vpcId: string) => ["launch", region, "security-groups", vpcId] as const,
};

export type ImageSource = "owned" | "shared" | "public";

export interface LaunchableImage {
  image: Image;
  source: ImageSource;
}

const AVAILABLE = [{ Name: "state", Values: ["available"] }];

async function allImages(ec2: EC2Client, input: DescribeImagesCommandInput) {
  const out: Image[] = [];
  for await (const page of paginateDescribeImages({ client: ec2, pageSize: 1000 }, input)) {
    out.push(...(page.Images ?? []));
  }
  return out;
}

/**
 * Every available image the caller may launch, as the EC2 console's AMI picker groups them: its
 * own (Owners=self), those shared with it (ExecutableUsers=self: explicit launch permission), and
 * public ones (is-public=true). An image in more than one group shows once, in the first.
 */
export async function listLaunchableImages(ec2: EC2Client): Promise<LaunchableImage[]> {
  const [owned, shared, pub] = await Promise.all([
    allImages(ec2, { Owners: ["self"], Filters: AVAILABLE }),
    allImages(ec2, { ExecutableUsers: ["self"], Filters: AVAILABLE }),
    allImages(ec2, { Filters: [...AVAILABLE, { Name: "is-public", Values: ["true"] }] }),
  ]);
  const seen = new Set<string>();
  const out: LaunchableImage[] = [];
  for (const [source, images] of [
    ["owned", owned],
    ["shared", shared],
    ["public", pub],
  ] as const) {
    const sorted = [...images].sort((a, b) => (a.Name ?? "").localeCompare(b.Name ?? ""));
    for (const image of sorted) {
      if (!image.ImageId || seen.has(image.ImageId)) continue;
      seen.add(image.ImageId);
      out.push({ image, source });
    }
  }
  return out;
}

/** One image by id (`?imageId=`): found even when no list above has it (e.g. deprecated). */
export async function getImage(ec2: EC2Client, imageId: string): Promise<Image | undefined> {
  const out = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
  return out.Images?.[0];
}

/** The image's root volume size: the smallest root volume it can launch with. */
export function rootVolumeOf(image: Image | undefined): { sizeGiB: number; type: string } | undefined {
  const root = image?.BlockDeviceMappings?.find((m) => m.DeviceName === image.RootDeviceName);
  if (!root?.Ebs) return undefined;
  return { sizeGiB: root.Ebs.VolumeSize ?? 1, type: root.Ebs.VolumeType ?? "gp3" };
}

export async function listInstanceTypes(ec2: EC2Client): Promise<InstanceTypeInfo[]> {
  const out: InstanceTypeInfo[] = [];
  for await (const page of paginateDescribeInstanceTypes({ client: ec2, pageSize: 100 }, {})) {
    out.push(...(page.InstanceTypes ?? []));
  }
  // By family, then by size within it (t3.nano, t3.micro, ... rather than alphabetically).
  const family = (t: InstanceTypeInfo) => (t.InstanceType ?? "").split(".")[0];
  return out.sort(
    (a, b) =>
      family(a).localeCompare(family(b)) ||
      (a.VCpuInfo?.DefaultVCpus ?? 0) - (b.VCpuInfo?.DefaultVCpus ?? 0) ||
      (a.MemoryInfo?.SizeInMiB ?? 0) - (b.MemoryInfo?.SizeInMiB ?? 0) ||
      (a.InstanceType ?? "").localeCompare(b.InstanceType ?? ""),
  );
}

/** VPCs, the default one first (the EC2 console preselects it). */
export async function listVpcs(ec2: EC2Client): Promise<Vpc[]> {
  const out: Vpc[] = [];
  for await (const page of paginateDescribeVpcs({ client: ec2, pageSize: 100 }, {}))
    out.push(...(page.Vpcs ?? []));
  return out.sort((a, b) => Number(b.IsDefault ?? false) - Number(a.IsDefault ?? false));
}

export async function listSubnets(ec2: EC2Client, vpcId: string): Promise<Subnet[]> {
  const out: Subnet[] = [];
  const input = { Filters: [{ Name: "vpc-id", Values: [vpcId] }] };
  for await (const page of paginateDescribeSubnets({ client: ec2, pageSize: 100 }, input)) {
    out.push(...(page.Subnets ?? []));
  }
  return out.sort((a, b) => (a.AvailabilityZone ?? "").localeCompare(b.AvailabilityZone ?? ""));
}

export async function listSecurityGroups(ec2: EC2Client, vpcId: string): Promise<SecurityGroup[]> {
  const out: SecurityGroup[] = [];
  const input = { Filters: [{ Name: "vpc-id", Values: [vpcId] }] };
  for await (const page of paginateDescribeSecurityGroups({ client: ec2, pageSize: 100 }, input)) {
    out.push(...(page.SecurityGroups ?? []));
  }
  return out.sort((a, b) => (a.GroupName ?? "").localeCompare(b.GroupName ?? ""));
}

/** RunInstances; the new instances' ids. */
export async function runInstances(ec2: EC2Client, input: RunInstancesCommandInput): Promise<string[]> {
  const out = await ec2.send(new RunInstancesCommand(input));
  return (out.Instances ?? []).map((i) => i.InstanceId ?? "").filter(Boolean);
}
