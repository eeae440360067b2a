// Helpers for tests that boot real VMs: wait for the base image, read the serial console, SSH in.
import { execFile } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  type EC2Client,
  GetConsoleOutputCommand,
  type Instance,
} from "@aws-sdk/client-ec2";

const run = promisify(execFile);

/** The public base image, once the daemon has published it in the client's region. */
export async function baseImageId(client: EC2Client, timeoutMs = 600_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Images } = await client.send(
      new DescribeImagesCommand({
        Owners: ["strata"],
        Filters: [{ Name: "name", Values: ["strata-minimal-*-x86_64"] }],
      }),
    );
    const ready = Images?.find((i) => i.State === "available");
    if (ready) return ready.ImageId!;
    if (Date.now() > deadline) throw new Error("the base image was not published in time");
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function consoleText(client: EC2Client, instanceId: string): Promise<string> {
  const { Output } = await client.send(new GetConsoleOutputCommand({ InstanceId: instanceId, Latest: true }));
  return Output ? Buffer.from(Output, "base64").toString("utf8") : "";
}

/** Polls GetConsoleOutput until `pattern` occurs `times` times; returns the console text. */
export async function waitForConsole(
  client: EC2Client,
  instanceId: string,
  pattern: string,
  { times = 1, timeoutMs = 420_000 } = {},
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await consoleText(client, instanceId);
    if (text.split(pattern).length - 1 >= times) return text;
    if (Date.now() > deadline) {
      throw new Error(
        `console of ${instanceId} never showed "${pattern}" x${times}; it shows:\n${text.slice(-3000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function describeInstance(client: EC2Client, instanceId: string): Promise<Instance> {
  const { Reservations } = await client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return Reservations![0].Instances![0];
}

/**
 * Runs a command in the guest over SSH: port 22 of its public address (VPC networking), or under
 * user-mode networking the host port its strata:ssh-port tag names.
 */
export async function ssh(instance: Instance, keyFile: string, command: string): Promise<string> {
  const port = instance.Tags?.find((t) => t.Key === "strata:ssh-port")?.Value ?? "22";
  if (!instance.PublicIpAddress) throw new Error(`instance ${instance.InstanceId} has no public address`);
  const { stdout } = await run(
    "ssh",
    [
      "-i",
      keyFile,
      "-p",
      port,
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "LogLevel=ERROR",
      "-o",
      "ConnectTimeout=20",
      "-o",
      "BatchMode=yes",
      `root@${instance.PublicIpAddress}`,
      command,
    ],
    { timeout: 60_000 },
  );
  return stdout;
}

/** Writes a private key where ssh accepts it (mode 0600). */
export function writeKey(dir: string, name: string, material: string): string {
  const path = join(dir, name);
  writeFileSync(path, material);
  chmodSync(path, 0o600);
  return path;
}
