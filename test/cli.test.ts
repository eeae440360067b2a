// The `strata` command line as a user meets it (bin/strata, a clean environment): per-command help,
// parse errors, and the AWS SDK's standard settings for the API commands: AWS_ENDPOINT_URL(_EBS,
// _EC2) beside --endpoint and STRATA_ENDPOINT, AWS_PROFILE with a credentials file, AWS_REGION and
// the profile's region. Endpoints are told apart by pointing the others at a closed port.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { DescribeSnapshotsCommand, DescribeVolumesCommand } from "@aws-sdk/client-ec2";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import { type Account, adminCredentials, createAccount, ec2 } from "./ec2-helpers.ts";
import { seededBytes, tempDir } from "./helpers.ts";

const run = promisify(execFile);
const STRATA = join(import.meta.dirname, "..", "bin", "strata");
const BLOCK = 512 * 1024;
const dataDir = tempDir();
const work = tempDir("strata-cli-");
const disk = join(work, "disk.raw");
let daemon: Daemon;
let closed: string;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** bin/strata with only `env`: no AWS variable of the user's, HOME without ~/.strata or ~/.aws. */
async function strata(args: string[], env: Record<string, string> = {}): Promise<Result> {
  try {
    const { stdout, stderr } = await run(STRATA, args, {
      env: { PATH: process.env.PATH, HOME: work, AWS_EC2_METADATA_DISABLED: "true", ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

async function ok(args: string[], env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const r = await strata([...args, "--json"], env);
  assert.equal(r.code, 0, `strata ${args.join(" ")} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** A URL nothing listens on: a port the kernel gave and took back. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return `http://127.0.0.1:${port}`;
}

before(async () => {
  daemon = await startDaemon(dataDir);
  closed = await closedPort();
  writeFileSync(disk, seededBytes("cli", BLOCK + 1000));
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

describe("help", () => {
  test("strata --help lists the command groups and the environment", async () => {
    const r = await strata(["--help"]);
    assert.equal(r.code, 0, r.stderr);
    for (const group of ["server", "images", "accounts", "volume", "snapshot", "image"])
      assert.match(r.stdout, new RegExp(`^  ${group}\\b`, "m"), `${group} in ${r.stdout}`);
    for (const name of [
      "AWS_ENDPOINT_URL_EC2",
      "AWS_ENDPOINT_URL_EBS",
      "AWS_PROFILE",
      "AWS_REGION",
      "STRATA_ENDPOINT",
    ])
      assert.match(r.stdout, new RegExp(name));
  });

  test("a group's help lists its commands; a command's help its arguments and options", async () => {
    const group = await strata(["snapshot", "--help"]);
    assert.equal(group.code, 0, group.stderr);
    for (const verb of ["create", "copy", "show", "delete", "list", "import", "export"])
      assert.match(group.stdout, new RegExp(`^  ${verb} `, "m"));

    const exp = await strata(["snapshot", "export", "--help"]);
    assert.equal(exp.code, 0, exp.stderr);
    assert.match(exp.stdout, /^Usage: strata snapshot export \[options\] <snapshot-id> <file>$/m);
    for (const option of [
      "--format <format>",
      "--json",
      "--endpoint <url>",
      "--region <region>",
      "--data-dir <dir>",
    ])
      assert.ok(exp.stdout.includes(`  ${option}`), `${option} in ${exp.stdout}`);
    assert.match(exp.stdout, /AWS_ENDPOINT_URL_EBS/);
    assert.doesNotMatch(exp.stdout, /--account|--offset|--tls-cert/, "only its own options");

    const read = await strata(["volume", "read", "--help"]);
    assert.match(read.stdout, /^Usage: strata volume read \[options\] <volume-id>$/m);
    for (const option of ["--out <file>", "--offset <bytes>", "--length <bytes>", "--account <account>"])
      assert.ok(read.stdout.includes(`  ${option}`), `${option} in ${read.stdout}`);

    const server = await strata(["server", "--help"]);
    for (const option of ["--port <port>", "--tls-cert <file>", "--no-base-image", "--network <mode>"])
      assert.ok(server.stdout.includes(`  ${option}`), `${option} in ${server.stdout}`);
  });

  test("unknown options and commands, missing and bad arguments: exit 1, what is wrong, and where help is", async () => {
    const cases: [string[], RegExp][] = [
      [["snapshot", "export", "snap-1", "x.raw", "--frob"], /unknown option '--frob'/],
      [["snapshot", "exprt"], /unknown command 'exprt'[\s\S]*Did you mean export\?/],
      [["frob"], /unknown command 'frob'/],
      [["snapshot", "export", "snap-1"], /missing required argument 'file'/],
      [
        ["snapshot", "export", "snap-1", "x.raw", "--format", "vmdk"],
        /'vmdk' is invalid\. Allowed choices are raw, qcow2/,
      ],
      [["volume", "create", "--size", "big"], /'big' is invalid\. Expected a whole number/],
      [["volume", "read", "vol-1"], /required option '--out <file>' not specified/],
      [["image", "import", "disk.raw"], /required option '--name <name>' not specified/],
      [["volume", "show", "vol-1", "vol-2"], /too many arguments/],
    ];
    for (const [args, message] of cases) {
      const r = await strata(args);
      assert.equal(r.code, 1, `strata ${args.join(" ")}`);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, "");
    }
    const wrong = await strata(["snapshot", "export", "--frob"]);
    assert.match(wrong.stderr, /run 'strata snapshot export --help'/);
    // No command: the usage, on stderr, exit 1.
    const bare = await strata(["snapshot"]);
    assert.equal(bare.code, 1);
    assert.match(bare.stderr, /^Usage: strata snapshot /m);
  });
});

describe("endpoints: --endpoint, AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, STRATA_ENDPOINT", () => {
  let creds: Record<string, string>;
  let snapshotId: string;
  before(async () => {
    creds = { AWS_SHARED_CREDENTIALS_FILE: join(dataDir, "credentials") };
    snapshotId = String((await ok(["snapshot", "import", disk, "--endpoint", daemon.url], creds)).SnapshotId);
  });

  test("export (EBS only) follows AWS_ENDPOINT_URL_EBS, not AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_EC2", async () => {
    const env = {
      ...creds,
      AWS_ENDPOINT_URL_EBS: daemon.url,
      AWS_ENDPOINT_URL: closed,
      AWS_ENDPOINT_URL_EC2: closed,
    };
    const r = await ok(["snapshot", "export", snapshotId, join(work, "ebs.raw")], env);
    assert.equal(r.Blocks, 2);
    // AWS_ENDPOINT_URL_EC2 is not EBS's: EBS falls back to AWS_ENDPOINT_URL, closed.
    const ec2Only = await strata(["snapshot", "export", snapshotId, join(work, "ec2.raw")], {
      ...creds,
      AWS_ENDPOINT_URL_EC2: daemon.url,
      AWS_ENDPOINT_URL: closed,
    });
    assert.equal(ec2Only.code, 1);
    assert.match(ec2Only.stderr, new RegExp(`^strata: cannot reach ${closed} \\(ECONNREFUSED\\)$`, "m"));
  });

  test("import (EBS, then EC2 to wait) takes each service's own variable", async () => {
    const both = await ok(["snapshot", "import", disk], {
      ...creds,
      AWS_ENDPOINT_URL_EBS: daemon.url,
      AWS_ENDPOINT_URL_EC2: daemon.url,
      AWS_ENDPOINT_URL: closed,
    });
    assert.match(String(both.SnapshotId), /^snap-/);
    // The upload reaches the daemon through AWS_ENDPOINT_URL_EBS; the wait goes to EC2's, closed.
    const ec2Closed = await strata(["snapshot", "import", disk], {
      ...creds,
      AWS_ENDPOINT_URL_EBS: daemon.url,
      AWS_ENDPOINT_URL_EC2: closed,
    });
    assert.equal(ec2Closed.code, 1);
    assert.match(ec2Closed.stderr, new RegExp(`cannot reach ${closed} \\(ECONNREFUSED\\)`));
  });

  test("AWS_ENDPOINT_URL beats STRATA_ENDPOINT, --endpoint beats them all, STRATA_ENDPOINT alone serves", async () => {
    const file = (name: string) => join(work, `${name}.raw`);
    await ok(["snapshot", "export", snapshotId, file("generic")], {
      ...creds,
      AWS_ENDPOINT_URL: daemon.url,
      STRATA_ENDPOINT: closed,
    });
    await ok(["snapshot", "export", snapshotId, file("flag"), "--endpoint", daemon.url], {
      ...creds,
      AWS_ENDPOINT_URL: closed,
      AWS_ENDPOINT_URL_EBS: closed,
      AWS_ENDPOINT_URL_EC2: closed,
      STRATA_ENDPOINT: closed,
    });
    await ok(["snapshot", "export", snapshotId, file("strata")], { ...creds, STRATA_ENDPOINT: daemon.url });
    const strataClosed = await strata(["snapshot", "export", snapshotId, file("none")], {
      ...creds,
      STRATA_ENDPOINT: closed,
    });
    assert.match(strataClosed.stderr, new RegExp(`cannot reach ${closed}`));
  });
});

describe("identity: AWS_PROFILE, AWS_REGION, the profile's region, --region", () => {
  let carol: Account;
  let files: Record<string, string>;
  before(async () => {
    carol = await createAccount(dataDir, "cli-carol");
    const credentials = join(work, "credentials");
    writeFileSync(
      credentials,
      [
        "[carol]",
        `aws_access_key_id = ${carol.accessKeyId}`,
        `aws_secret_access_key = ${carol.secretAccessKey}`,
        "[stale]",
        `aws_access_key_id = ${carol.accessKeyId.replace(/.$/, (c) => (c === "A" ? "B" : "A"))}`,
        "aws_secret_access_key = not-the-secret",
        "",
      ].join("\n"),
    );
    const config = join(work, "config");
    writeFileSync(config, ["[profile carol]", "region = eu-west-1", "[profile stale]", ""].join("\n"));
    files = {
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      AWS_CONFIG_FILE: "/dev/null",
      STRATA_ENDPOINT: daemon.url,
    };
  });

  const owned = async (region: string, id: unknown) => {
    const client = ec2(daemon, carol, region);
    const { Snapshots } = await client.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }));
    return Snapshots!.some((s) => s.SnapshotId === id);
  };

  test("AWS_PROFILE picks the profile of the credentials file: its account, or its refusal", async () => {
    const r = await ok(["snapshot", "import", disk], { ...files, AWS_PROFILE: "carol" });
    // No AWS_REGION, no config file: us-east-1.
    assert.ok(await owned("us-east-1", r.SnapshotId), "carol's snapshot, in us-east-1");
    const stale = await strata(["snapshot", "import", disk], { ...files, AWS_PROFILE: "stale" });
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /^strata: \w+: .*\(HTTP 40[13]\)$/m);
  });

  test("AWS_REGION picks the region; --region beats it", async () => {
    const env = { ...files, AWS_PROFILE: "carol", AWS_REGION: "eu-west-1" };
    const r = await ok(["snapshot", "import", disk], env);
    assert.ok(await owned("eu-west-1", r.SnapshotId), "imported in eu-west-1");
    assert.ok(!(await owned("us-east-1", r.SnapshotId)));
    // Exported from eu-west-1; in us-east-1 it does not exist.
    await ok(["snapshot", "export", String(r.SnapshotId), join(work, "eu.raw")], env);
    const elsewhere = await strata(
      ["snapshot", "export", String(r.SnapshotId), join(work, "us.raw"), "--region", "us-east-1"],
      env,
    );
    assert.equal(elsewhere.code, 1);
    assert.match(elsewhere.stderr, /^strata: ResourceNotFoundException: /m);
    const flag = await ok(["snapshot", "import", disk, "--region", "us-east-1"], env);
    assert.ok(await owned("us-east-1", flag.SnapshotId), "--region us-east-1 beats AWS_REGION");
  });

  test("without AWS_REGION, the profile's region (AWS_CONFIG_FILE); AWS_REGION beats it", async () => {
    const config = { ...files, AWS_CONFIG_FILE: join(work, "config"), AWS_PROFILE: "carol" };
    const r = await ok(["snapshot", "import", disk], config);
    assert.ok(await owned("eu-west-1", r.SnapshotId), "the profile's region, eu-west-1");
    const over = await ok(["snapshot", "import", disk], { ...config, AWS_REGION: "us-east-1" });
    assert.ok(await owned("us-east-1", over.SnapshotId), "AWS_REGION beats the profile's region");
  });

  test("the profile's endpoint_url (read by the SDK) beats STRATA_ENDPOINT", async () => {
    const config = join(work, "config-endpoint");
    writeFileSync(config, ["[profile carol]", `endpoint_url = ${daemon.url}`, ""].join("\n"));
    const env = { ...files, AWS_CONFIG_FILE: config, AWS_PROFILE: "carol", STRATA_ENDPOINT: closed };
    const r = await ok(["snapshot", "import", disk], env);
    assert.ok(await owned("us-east-1", r.SnapshotId));
  });

  test("the admin-socket commands take --region's default from AWS_REGION", async () => {
    const admin = ec2(daemon, adminCredentials(dataDir), "eu-west-1");
    const before = await strata(["volume", "create", "--size", "1", "--data-dir", dataDir], {
      AWS_REGION: "eu-west-1",
    });
    assert.equal(before.code, 0, before.stderr);
    const vol = JSON.parse(before.stdout) as { id: string };
    const { Volumes } = await admin.send(new DescribeVolumesCommand({ VolumeIds: [vol.id] }));
    assert.equal(Volumes![0].AvailabilityZone?.startsWith("eu-west-1"), true);
    const flag = await strata(["volume", "show", vol.id, "--region", "us-east-1", "--data-dir", dataDir], {
      AWS_REGION: "eu-west-1",
    });
    assert.equal(flag.code, 1);
    assert.match(flag.stderr, /InvalidVolume\.NotFound/);
  });
});
