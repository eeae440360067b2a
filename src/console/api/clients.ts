// The console's one client layer: the AWS SDK v3 clients, signing with SigV4 in the browser,
// pointed at the origin that served the console (the daemon's own API). There is no other channel
// to the daemon: everything the console shows or changes goes through the public API.
import { EC2Client } from "@aws-sdk/client-ec2";
import { IAMClient } from "@aws-sdk/client-iam";
import { STSClient } from "@aws-sdk/client-sts";
import type { Credentials } from "./session.ts";

const cache = new Map<string, unknown>();

function cached<T>(kind: string, credentials: Credentials, region: string, make: () => T): T {
  const key = `${kind}\n${credentials.accessKeyId}\n${region}`;
  let c = cache.get(key) as T | undefined;
  if (!c) {
    c = make();
    cache.set(key, c);
  }
  return c;
}

function config(credentials: Credentials, region: string) {
  return {
    region,
    endpoint: window.location.origin,
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
  };
}

export function ec2Client(credentials: Credentials, region: string): EC2Client {
  return cached("ec2", credentials, region, () => new EC2Client(config(credentials, region)));
}

export function stsClient(credentials: Credentials, region: string): STSClient {
  return cached("sts", credentials, region, () => new STSClient(config(credentials, region)));
}

export function iamClient(credentials: Credentials): IAMClient {
  // IAM is global: AWS signs it for us-east-1 whatever region the console shows.
  return cached("iam", credentials, "us-east-1", () => new IAMClient(config(credentials, "us-east-1")));
}

/** Forget the clients of a key (sign out). */
export function dropClients(): void {
  for (const c of cache.values()) (c as { destroy(): void }).destroy();
  cache.clear();
}
