// The instances area's calls: typed functions over the SDK v3 EC2 commands, and the query keys
// the pages cache them under (["instances", region, ...]; invalidate ["instances", region] after
// a change).
import {
  CreateImageCommand,
  DescribeInstancesCommand,
  type EC2Client,
  GetConsoleOutputCommand,
  type Instance,
  paginateDescribeInstances,
  paginateDescribeVolumes,
  RebootInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  type Tag,
  TerminateInstancesCommand,
  type Volume,
} from "@aws-sdk/client-ec2";

export const instanceKeys = {
  all: (region: string) => ["instances", region] as const,
  list: (region: string) => ["instances", region, "list"] as const,
  one: (region: string, id: string) => ["instances", region, "one", id] as const,
  volumes: (region: string, id: string) => ["instances", region, "volumes", id] as const,
  console: (region: string, id: string) => ["instances", region, "console", id] as const,
};

/** Every instance of the account in the region, terminated ones too while EC2 still lists them. */
export async function listInstances(ec2: EC2Client): Promise<Instance[]> {
  const out: Instance[] = [];
  for await (const page of paginateDescribeInstances({ client: ec2, pageSize: 1000 }, {})) {
    for (const r of page.Reservations ?? []) out.push(...(r.Instances ?? []));
  }
  return out;
}

export async function getInstance(ec2: EC2Client, id: string): Promise<Instance> {
  // With InstanceIds, DescribeInstances refuses MaxResults: no paginator here.
  const res = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  const found = res.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === id);
  if (!found)
    throw Object.assign(new Error(`The instance ID '${id}' does not exist`), {
      name: "InvalidInstanceID.NotFound",
    });
  return found;
}

/** The EBS volumes the instance's block device mappings name (sizes, states). */
export async function instanceVolumes(ec2: EC2Client, instance: Instance): Promise<Volume[]> {
  const ids = (instance.BlockDeviceMappings ?? [])
    .map((m) => m.Ebs?.VolumeId)
    .filter((v): v is string => !!v);
  if (ids.length === 0) return [];
  const out: Volume[] = [];
  for await (const page of paginateDescribeVolumes(
    { client: ec2 },
    // A filter, not VolumeIds: a volume deleted meanwhile is left out instead of failing the call.
    { Filters: [{ Name: "volume-id", Values: ids }] },
  )) {
    out.push(...(page.Volumes ?? []));
  }
  return out;
}

/** The serial console's text (the SDK hands it over base64-encoded), as it is now. */
export async function consoleOutput(ec2: EC2Client, id: string): Promise<{ text: string; timestamp?: Date }> {
  const res = await ec2.send(new GetConsoleOutputCommand({ InstanceId: id, Latest: true }));
  return { text: res.Output ? decodeBase64(res.Output) : "", timestamp: res.Timestamp };
}

function decodeBase64(b64: string): string {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

export type StateAction = "stop" | "start" | "reboot" | "terminate";

export async function changeState(ec2: EC2Client, action: StateAction, ids: string[]): Promise<void> {
  const input = { InstanceIds: ids };
  if (action === "stop") await ec2.send(new StopInstancesCommand(input));
  else if (action === "start") await ec2.send(new StartInstancesCommand(input));
  else if (action === "reboot") await ec2.send(new RebootInstancesCommand(input));
  else await ec2.send(new TerminateInstancesCommand(input));
}

export interface CreateImageInput {
  instanceId: string;
  name: string;
  description?: string;
  noReboot: boolean;
  tags: Tag[];
}

/** CreateImage; the tags go on the image and its snapshots, as the EC2 console's default does. */
export async function createImage(ec2: EC2Client, input: CreateImageInput): Promise<string> {
  const res = await ec2.send(
    new CreateImageCommand({
      InstanceId: input.instanceId,
      Name: input.name,
      Description: input.description || undefined,
      NoReboot: input.noReboot,
      TagSpecifications: input.tags.length
        ? [
            { ResourceType: "image", Tags: input.tags },
            { ResourceType: "snapshot", Tags: input.tags },
          ]
        : undefined,
    }),
  );
  return res.ImageId ?? "";
}
