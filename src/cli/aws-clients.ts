// SDK clients for the CLI's API commands (snapshot import/export, image import): the endpoint, the
// region and the credentials, found the way the AWS SDKs find them, with Strata's own fallbacks.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { EBSClient } from "@aws-sdk/client-ebs";
import type { EC2Client } from "@aws-sdk/client-ec2";
// The SDK's own region settings (AWS_REGION, the profile's `region`); @smithy/core is the
// clients' dependency, imported here for its loader so that a missing region is us-east-1
// rather than an instance-metadata lookup (1 s of timeout off EC2).
import { loadConfig, NODE_REGION_CONFIG_FILE_OPTIONS, NODE_REGION_CONFIG_OPTIONS } from "@smithy/core/config";
import { readCredentialsFile, type StaticCredentials } from "./credentials-file.ts";

export const DEFAULT_ENDPOINT = "http://127.0.0.1:4566";
export const DEFAULT_REGION = "us-east-1";

export interface ClientOptions {
  /** `--endpoint`: beats every endpoint setting of the environment and the config file. */
  endpoint?: string;
  /** `--region`: beats AWS_REGION and the profile's region. */
  region?: string;
  /** An explicit `--data-dir`: its `credentials` file wins over everything else. */
  dataDir?: string;
  /** Concurrent requests the HTTP agent must allow without queueing. */
  maxSockets?: number;
}

export interface Clients {
  ebs: EBSClient;
  ec2: EC2Client;
}

const STANDARD_ENV = ["AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"];

/**
 * Credentials, in order: `--data-dir`'s credentials file; the standard AWS environment (keys,
 * profile, credentials or config file: the SDK's default chain resolves them); else
 * `~/.strata/credentials`; else the SDK's chain (~/.aws/credentials, SSO, ...).
 */
export function resolveCredentials(dataDir?: string): StaticCredentials | undefined {
  if (dataDir) return readCredentialsFile(join(dataDir, "credentials"), "default");
  if (STANDARD_ENV.some((k) => process.env[k])) return undefined;
  const strataFile = join(homedir(), ".strata", "credentials");
  return existsSync(strataFile) ? readCredentialsFile(strataFile, "default") : undefined;
}

/** Strata's own endpoint setting, for when neither --endpoint nor an AWS setting names one. */
export function fallbackEndpoint(): string {
  return process.env.STRATA_ENDPOINT || DEFAULT_ENDPOINT;
}

/**
 * The SDK's endpoint resolution, rules replaced: it passes `Endpoint` when one is set (the
 * client's `endpoint`, or what it read itself from AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL or
 * the profile's `endpoint_url`); without one, the rules would name amazonaws.com: Strata's instead.
 */
function strataEndpoint(params: { Endpoint?: string }): { url: URL } {
  return { url: new URL(params.Endpoint ?? fallbackEndpoint()) };
}

/** `--region`, else the SDK's settings (AWS_REGION, the profile's `region`), else us-east-1. */
export function regionProvider(region?: string): () => Promise<string> {
  if (region) return async () => region;
  return loadConfig(
    { ...NODE_REGION_CONFIG_OPTIONS, default: DEFAULT_REGION },
    NODE_REGION_CONFIG_FILE_OPTIONS,
  );
}

function commonConfig(o: ClientOptions) {
  const credentials = resolveCredentials(o.dataDir);
  return {
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    endpointProvider: strataEndpoint,
    region: regionProvider(o.region),
    ...(credentials ? { credentials } : {}),
    // https: a server started with --tls-cert (NODE_EXTRA_CA_CERTS trusts a private CA).
    requestHandler: {
      httpAgent: { keepAlive: true, maxSockets: o.maxSockets ?? 64 },
      httpsAgent: { keepAlive: true, maxSockets: o.maxSockets ?? 64 },
    },
  };
}

/** The EBS client alone: what an export needs (the EC2 SDK takes ~0.4 s of CPU just to load). */
export function createEbsClient(o: ClientOptions): EBSClient {
  const ebs = new EBSClient(commonConfig(o));
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
  ebs.middlewareStack.add(endpointOfErrors, { step: "build", name: "strataEndpointOfErrors" });
  return ebs;
}

export async function createClients(o: ClientOptions): Promise<Clients> {
  const { EC2Client } = await import("@aws-sdk/client-ec2");
  const ec2 = new EC2Client(commonConfig(o));
  ec2.middlewareStack.add(endpointOfErrors, { step: "build", name: "strataEndpointOfErrors" });
  return { ebs: createEbsClient(o), ec2 };
}

interface WithEndpoint {
  /** The endpoint a failed request went to, for "cannot reach URL". */
  $endpoint?: string;
}

/** Notes on an error the endpoint the SDK resolved for the request (set once it is known). */
function endpointOfErrors<I, O>(
  next: (args: I) => Promise<O>,
  context: { endpointV2?: { url: URL } },
): (args: I) => Promise<O> {
  return async (args) => {
    try {
      return await next(args);
    } catch (e) {
      if (e && typeof e === "object" && context.endpointV2)
        (e as WithEndpoint).$endpoint ??= context.endpointV2.url.href.replace(/\/$/, "");
      throw e;
    }
  };
}

const UNREACHABLE = ["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH"];

/** "Code: message" for an EBS or EC2 service error, the message otherwise. */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (e.name === "CredentialsProviderError")
    return `${e.message}: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or pass --data-dir`;
  const code = (e as { code?: string }).code;
  if (code && UNREACHABLE.includes(code))
    return `cannot reach ${(e as WithEndpoint).$endpoint ?? "the endpoint"} (${code})`;
  const meta = (e as { $metadata?: { httpStatusCode?: number } }).$metadata;
  if (!meta?.httpStatusCode) return e.message;
  const reason = (e as { Reason?: string }).Reason;
  return `${e.name}: ${e.message}${reason ? ` [${reason}]` : ""} (HTTP ${meta.httpStatusCode})`;
}
