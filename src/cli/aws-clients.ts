// SDK clients for the CLI's import/export commands: Strata's endpoint, the region, and credentials
// found the way the other client tools find them.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { EBSClient } from "@aws-sdk/client-ebs";
import { EC2Client } from "@aws-sdk/client-ec2";

export interface ClientOptions {
  endpoint: string;
  region: string;
  /** An explicit `--data-dir`: its `credentials` file wins over everything else. */
  dataDir?: string;
  /** Concurrent requests the HTTP agent must allow without queueing. */
  maxSockets?: number;
}

export interface Clients {
  ebs: EBSClient;
  ec2: EC2Client;
}

interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const STANDARD_ENV = ["AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE"];

/**
 * Credentials, in order: `--data-dir`'s credentials file; the standard AWS environment (keys,
 * profile or credentials file, resolved by the SDK); `~/.strata/credentials`; the SDK's chain.
 */
export function resolveCredentials(dataDir?: string): StaticCredentials | undefined {
  if (dataDir) return readCredentialsFile(join(dataDir, "credentials"), "default");
  if (STANDARD_ENV.some((k) => process.env[k])) return undefined;
  const strataFile = join(homedir(), ".strata", "credentials");
  return existsSync(strataFile) ? readCredentialsFile(strataFile, "default") : undefined;
}

/** One profile of an AWS shared-credentials (INI) file. */
export function readCredentialsFile(path: string, profile: string): StaticCredentials {
  let section = "";
  const values: Record<string, string> = {};
  for (const raw of readFileSync(path, "utf8").split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (header) section = header[1];
    else if (section === profile) {
      const eq = line.indexOf("=");
      if (eq > 0) values[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    }
  }
  const accessKeyId = values.aws_access_key_id;
  const secretAccessKey = values.aws_secret_access_key;
  if (!accessKeyId || !secretAccessKey) throw new Error(`no [${profile}] access key in ${path}`);
  return { accessKeyId, secretAccessKey, sessionToken: values.aws_session_token };
}

export function createClients(o: ClientOptions): Clients {
  const credentials = resolveCredentials(o.dataDir);
  const common = {
    endpoint: o.endpoint,
    region: o.region,
    ...(credentials ? { credentials } : {}),
    // https: a server started with --tls-cert (NODE_EXTRA_CA_CERTS trusts a private CA).
    requestHandler: {
      httpAgent: { keepAlive: true, maxSockets: o.maxSockets ?? 64 },
      httpsAgent: { keepAlive: true, maxSockets: o.maxSockets ?? 64 },
    },
  };
  const ebs = new EBSClient(common);
  // PutSnapshotBlock's body is not signed (EBS's contract; the SDK would hash it over http).
  ebs.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (context.commandName === "PutSnapshotBlockCommand" && request.headers)
        request.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD";
      return next(args);
    },
    { step: "build", name: "strataUnsignedPayload" },
  );
  return { ebs, ec2: new EC2Client(common) };
}

/** "Code: message" for an EBS or EC2 service error, the message otherwise. */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (e.name === "CredentialsProviderError")
    return `${e.message}: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or pass --data-dir`;
  const meta = (e as { $metadata?: { httpStatusCode?: number } }).$metadata;
  if (!meta?.httpStatusCode) return e.message;
  const reason = (e as { Reason?: string }).Reason;
  return `${e.name}: ${e.message}${reason ? ` [${reason}]` : ""} (HTTP ${meta.httpStatusCode})`;
}
