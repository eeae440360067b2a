// Real AWS clients against a real Strata daemon: credentials from the files Strata writes.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { EC2Client } from "@aws-sdk/client-ec2";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";

const run = promisify(execFile);
const STRATA = join(import.meta.dirname, "..", "bin", "strata");

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface Account extends Credentials {
  accountId: string;
}

/** The admin credentials Strata wrote at first start (`<data-dir>/credentials`, profile default). */
export function adminCredentials(dataDir: string): Credentials {
  const text = readFileSync(join(dataDir, "credentials"), "utf8");
  const get = (k: string) => new RegExp(`^${k}\\s*=\\s*(\\S+)`, "m").exec(text)![1];
  return { accessKeyId: get("aws_access_key_id"), secretAccessKey: get("aws_secret_access_key") };
}

/** `strata accounts create NAME [--alias ALIAS]`, run beside the live server as a user would. */
export async function createAccount(
  dataDir: string,
  name: string,
  options: { alias?: string } = {},
): Promise<Account> {
  const alias = options.alias === undefined ? [] : ["--alias", options.alias];
  const { stdout } = await run(STRATA, [
    "accounts",
    "create",
    name,
    ...alias,
    "--data-dir",
    dataDir,
    "--json",
  ]);
  return JSON.parse(stdout);
}

export function ec2(daemon: { url: string }, credentials: Credentials, region = "us-east-1"): EC2Client {
  return new EC2Client({ endpoint: daemon.url, region, credentials, maxAttempts: 1 });
}

/** `strata ARGS --data-dir DIR`, as a user runs it: exit code and both outputs, never throwing. */
export async function strataCli(
  dataDir: string,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(STRATA, [...args, "--data-dir", dataDir]);
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

/** Debian's aws CLI (scripts/setup.sh installs it). */
// biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON, read field by field by each test
type CliJson = any;

export const AWS_CLI = "/usr/bin/aws";

/**
 * Runs the aws CLI against `daemon` with `dataDir`'s credentials file (profile default, or what
 * `env` sets), none of the user's own configuration, region us-east-1; its JSON answer.
 */
export async function awsCli(
  daemon: { url: string },
  dataDir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliJson> {
  const { stdout } = await run(AWS_CLI, ["--endpoint-url", daemon.url, "--output", "json", ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: dataDir,
      AWS_SHARED_CREDENTIALS_FILE: join(dataDir, "credentials"),
      AWS_CONFIG_FILE: "/dev/null",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_PAGER: "",
      AWS_DEFAULT_REGION: "us-east-1",
      ...env,
    },
  });
  return stdout.trim() ? JSON.parse(stdout) : {};
}

/** The aws CLI's error output for a call that must fail (throws if it succeeds). */
export async function awsCliError(
  daemon: { url: string },
  dataDir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<string> {
  try {
    await awsCli(daemon, dataDir, args, env);
  } catch (e) {
    return String((e as { stderr: string }).stderr);
  }
  throw new Error(`aws ${args.join(" ")} succeeded`);
}

/**
 * A form POST to the daemon's `/`, signed (when credentials are given) for `service` as the SDKs
 * sign it: for the Query services' raw answers (status and XML) where an SDK would hide them.
 */
export async function signedQueryPost(
  daemon: { url: string },
  body: string,
  credentials: Credentials | undefined,
  service: string,
): Promise<{ status: number; xml: string }> {
  const url = new URL(daemon.url);
  let request = new HttpRequest({
    method: "POST",
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: "/",
    headers: { host: url.host, "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
    body,
  });
  if (credentials) {
    const signer = new SignatureV4({
      credentials,
      region: "us-east-1",
      service,
      sha256: Hash.bind(null, "sha256"),
    });
    request = (await signer.sign(request)) as HttpRequest;
  }
  const res = await fetch(`${daemon.url}/`, { method: "POST", headers: request.headers, body });
  return { status: res.status, xml: await res.text() };
}
