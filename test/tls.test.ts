// `strata server --tls-cert --tls-key`: HTTPS on the same port, for the SDK and the aws CLI,
// with a self-signed certificate the clients are told to trust.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { Agent } from "node:https";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import {
  CreateVolumeCommand,
  DescribeRegionsCommand,
  DescribeVolumesCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { type Daemon, startDaemon } from "./daemon.ts";
import { adminCredentials } from "./ec2-helpers.ts";
import { MiB, seededBytes, sha256, tempDir } from "./helpers.ts";

const run = promisify(execFile);
const STRATA = join(import.meta.dirname, "..", "bin", "strata");
const AWS = "/usr/bin/aws";
const dataDir = tempDir();
const certDir = tempDir();
const cert = join(certDir, "cert.pem");
const key = join(certDir, "key.pem");
let daemon: Daemon;

before(async () => {
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "-keyout",
    key,
    "-out",
    cert,
  ]);
  daemon = await startDaemon(dataDir, "us-east-1,eu-west-1", {
    args: ["--tls-cert", cert, "--tls-key", key],
  });
});
after(async () => {
  await daemon.kill("SIGTERM");
});

function sdk(trust: boolean): EC2Client {
  return new EC2Client({
    endpoint: daemon.url,
    region: "us-east-1",
    credentials: adminCredentials(dataDir),
    maxAttempts: 1,
    requestHandler: { httpsAgent: new Agent(trust ? { ca: readFileSync(cert) } : {}) },
  });
}

test("the server logs an https URL, and warns of nothing on loopback", () => {
  assert.match(daemon.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.doesNotMatch(daemon.output(), /warning/i);
});

test("the SDK works over TLS when it trusts the certificate, and refuses it otherwise", async () => {
  const client = sdk(true);
  const { Regions } = await client.send(new DescribeRegionsCommand({}));
  assert.deepEqual(Regions!.map((r) => r.RegionName).sort(), ["eu-west-1", "us-east-1"]);
  const vol = await client.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a" }));
  const { Volumes } = await client.send(new DescribeVolumesCommand({ VolumeIds: [vol.VolumeId!] }));
  assert.equal(Volumes![0].Size, 1);
  await assert.rejects(sdk(false).send(new DescribeRegionsCommand({})), /self.signed|certificate/i);
});

test("plain HTTP gets no answer on the TLS port", async () => {
  await assert.rejects(fetch(`${daemon.url.replace("https:", "http:")}/health`));
  const res = await fetch(`${daemon.url}/health`).catch((e: Error) => e);
  assert.ok(res instanceof Error, "fetch without the CA refuses the self-signed certificate");
});

test("the aws CLI works over TLS with --ca-bundle", {
  skip: !existsSync(AWS) && "Debian's awscli is not installed (scripts/setup.sh installs it)",
}, async () => {
  const { stdout } = await run(
    AWS,
    ["--endpoint-url", daemon.url, "--ca-bundle", cert, "--output", "json", "ec2", "describe-regions"],
    {
      env: {
        PATH: process.env.PATH,
        HOME: dataDir,
        AWS_SHARED_CREDENTIALS_FILE: join(dataDir, "credentials"),
        AWS_CONFIG_FILE: "/dev/null",
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_DEFAULT_REGION: "us-east-1",
      },
    },
  );
  const regions = (JSON.parse(stdout) as { Regions: { RegionName: string }[] }).Regions;
  assert.deepEqual(regions.map((r) => r.RegionName).sort(), ["eu-west-1", "us-east-1"]);
  // Without the bundle the CLI refuses the self-signed certificate.
  await assert.rejects(
    run(AWS, ["--endpoint-url", daemon.url, "ec2", "describe-regions"], {
      env: {
        PATH: process.env.PATH,
        HOME: dataDir,
        AWS_SHARED_CREDENTIALS_FILE: join(dataDir, "credentials"),
        AWS_CONFIG_FILE: "/dev/null",
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_DEFAULT_REGION: "us-east-1",
        AWS_MAX_ATTEMPTS: "1",
      },
    }),
    /SSL|certificate/i,
  );
});

test("strata snapshot import and export work over TLS with NODE_EXTRA_CA_CERTS", async () => {
  const work = tempDir();
  const disk = Buffer.concat([seededBytes("tls-import", 3 * MiB), Buffer.alloc(MiB)]);
  writeFileSync(join(work, "disk.raw"), disk);
  const env = { PATH: process.env.PATH!, HOME: work, NODE_EXTRA_CA_CERTS: cert };
  const common = ["--endpoint", daemon.url, "--data-dir", dataDir, "--json"];
  const imported = await run(STRATA, ["snapshot", "import", join(work, "disk.raw"), ...common], { env });
  const snapshotId = (JSON.parse(imported.stdout) as { SnapshotId: string }).SnapshotId;
  assert.match(snapshotId, /^snap-/);
  await run(STRATA, ["snapshot", "export", snapshotId, join(work, "out.raw"), ...common], { env });
  assert.equal(sha256(readFileSync(join(work, "out.raw")).subarray(0, disk.length)), sha256(disk));
});
