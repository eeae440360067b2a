// Where a VM's files live on the host (its directory and console log) and the name its guest
// has: shared by the QEMU driver, the metadata and GetConsoleOutput.
import { join } from "node:path";
import type { ComputeHost } from "./compute-host.ts";

export function instanceDir(host: ComputeHost, id: string): string {
  return join(host.instancesDir, id);
}

export function consoleLogPath(host: ComputeHost, id: string): string {
  return join(instanceDir(host, id), "console.log");
}

/** EC2's private DNS name form: ip-169-254-0-15.ec2.internal (us-east-1) or .<region>.compute.internal. */
export function privateDnsName(ip: string, region: string): string {
  const host = `ip-${ip.replaceAll(".", "-")}`;
  return region === "us-east-1" ? `${host}.ec2.internal` : `${host}.${region}.compute.internal`;
}
