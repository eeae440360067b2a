// `npm run bench:api`: the EC2 API under a mixed read load from 32 concurrent signed clients, with
// 1,000 images and 10,000 snapshots in the account, beside the same server's health endpoint (the
// HTTP floor) measured the same way in the same run. A benchmark, not a test: it prints figures.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { bootstrapAccounts } from "../src/accounts/bootstrap.ts";
import { Engine } from "../src/services/engine.ts";

const IMAGES = 1000;
const SNAPSHOTS = 10_000;
const CLIENTS = 32;
const SECONDS = 8;
const REGION = "us-east-1";

async function seed(dataDir: string): Promise<{ imageIds: string[]; snapshotIds: string[] }> {
  const boot = await bootstrapAccounts(dataDir);
  const owner = boot.admin.id;
  const engine = await Engine.open({ dataDir, regions: [REGION] });
  const r = engine.region(REGION);
  const vol = await r.volumes.create({ sizeGiB: 8, ownerId: owner });
  await (await r.volumes.handle(vol.id)).write(0, Buffer.alloc(4096, 1));
  const snapshotIds: string[] = [];
  for (let i = 0; i < SNAPSHOTS; i++) {
    // Unchanged volume: each snapshot completes at once and shares the first one's chunk.
    const s = await r.snapshots.wait((await r.snapshots.create(vol.id, `backup ${i}`)).id);
    snapshotIds.push(s.id);
    if (i % 10 === 0) await r.catalog.setTags([s.id], [{ key: "batch", value: String(i % 7) }]);
  }
  const imageIds: string[] = [];
  for (let i = 0; i < IMAGES; i++) {
    const image = await r.images.register(owner, {
      name: `app-${String(i).padStart(4, "0")}`,
      rootDeviceName: "/dev/xvda",
      blockDeviceMappings: [
        {
          deviceName: "/dev/xvda",
          ebs: { snapshotId: snapshotIds[i], deleteOnTermination: true, encrypted: false },
        },
      ],
    });
    imageIds.push(image.id);
    await r.catalog.setTags([image.id], [{ key: "release", value: i % 2 ? "stable" : "beta" }]);
  }
  await engine.close();
  return { imageIds, snapshotIds };
}

async function startServer(dataDir: string): Promise<{ url: string; stop: () => void }> {
  const root = join(import.meta.dirname, "..");
  const proc = spawn(
    join(root, "bin/strata"),
    [
      "server",
      "--data-dir",
      dataDir,
      "--port",
      "0",
      "--regions",
      REGION,
      "--no-base-image",
      "--network",
      "user",
    ],
    {
      env: { ...process.env, STRATA_LOG_REQUESTS: "0" },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout.on("data", (d: Buffer) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    proc.once("exit", () => reject(new Error(`server exited: ${out}`)));
  });
  return { url, stop: () => proc.kill("SIGTERM") };
}

type Call = () => Promise<Response>;

function ec2Caller(url: string, credentials: { accessKeyId: string; secretAccessKey: string }) {
  const u = new URL(url);
  const signer = new SignatureV4({
    credentials,
    region: REGION,
    service: "ec2",
    sha256: Hash.bind(null, "sha256"),
  });
  return async (params: Record<string, string>): Promise<Response> => {
    const body = new URLSearchParams({ Version: "2016-11-15", ...params }).toString();
    const signed = await signer.sign(
      new HttpRequest({
        method: "POST",
        protocol: "http:",
        hostname: u.hostname,
        port: Number(u.port),
        path: "/",
        headers: { host: u.host, "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
        body,
      }),
    );
    const { host: _, ...headers } = signed.headers;
    return fetch(url, { method: "POST", headers, body });
  };
}

/** CLIENTS loops for SECONDS, each picking the next call; latency per call name. */
async function load(
  calls: [string, Call][],
): Promise<{ perName: Map<string, number[]>; total: number; seconds: number }> {
  const perName = new Map<string, number[]>(calls.map(([n]) => [n, []]));
  const end = performance.now() + SECONDS * 1000;
  let next = 0;
  let total = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < end) {
        const [name, call] = calls[next++ % calls.length];
        const t = performance.now();
        const res = await call();
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`${name}: HTTP ${res.status}`);
        perName.get(name)!.push(performance.now() - t);
        total++;
      }
    }),
  );
  return { perName, total, seconds: (performance.now() - start) / 1000 };
}

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "strata-bench-api-"));
  try {
    const t0 = performance.now();
    const { imageIds, snapshotIds } = await seed(dir);
    console.log(
      `[bench] seeded ${IMAGES} images and ${SNAPSHOTS} snapshots in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const server = await startServer(dir);
    try {
      const text = readFileSync(join(dir, "credentials"), "utf8");
      const get = (k: string) => new RegExp(`^${k}\\s*=\\s*(\\S+)`, "m").exec(text)![1];
      const call = ec2Caller(server.url, {
        accessKeyId: get("aws_access_key_id"),
        secretAccessKey: get("aws_secret_access_key"),
      });
      const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];
      const health = await load([["GET /health", () => fetch(`${server.url}/health`)]]);
      const mixed = await load([
        [
          "DescribeImages (one ImageId)",
          () => call({ Action: "DescribeImages", "ImageId.1": pick(imageIds) }),
        ],
        [
          "DescribeImages (Owners=self, name filter app-01*)",
          () =>
            call({
              Action: "DescribeImages",
              "Owner.1": "self",
              "Filter.1.Name": "name",
              "Filter.1.Value.1": "app-01*",
            }),
        ],
        [
          "DescribeImages (Owners=self, MaxResults=50)",
          () => call({ Action: "DescribeImages", "Owner.1": "self", MaxResults: "50" }),
        ],
        [
          "DescribeSnapshots (Owners=self, MaxResults=100)",
          () => call({ Action: "DescribeSnapshots", "Owner.1": "self", MaxResults: "100" }),
        ],
        [
          "DescribeSnapshots (one SnapshotId)",
          () => call({ Action: "DescribeSnapshots", "SnapshotId.1": pick(snapshotIds) }),
        ],
        ["DescribeVolumes", () => call({ Action: "DescribeVolumes" })],
      ]);
      // Calls whose answers are proportional to the account (1,000 images in one ~1 MB response; a
      // tag filter that must look at all 10,000 snapshots): measured alone, reported, not in the goal.
      const heavy = await load([
        [
          "DescribeImages (Owners=self: all 1,000, ~1 MB)",
          () => call({ Action: "DescribeImages", "Owner.1": "self" }),
        ],
        [
          "DescribeSnapshots (tag:batch=3 over 10,000)",
          () =>
            call({
              Action: "DescribeSnapshots",
              "Owner.1": "self",
              "Filter.1.Name": "tag:batch",
              "Filter.1.Value.1": "3",
            }),
        ],
      ]);
      const floor = pct(health.perName.get("GET /health")!, 50);
      console.log(
        `\n${CLIENTS} concurrent clients, ${SECONDS} s per phase; ${IMAGES} images, ${SNAPSHOTS} snapshots in the account\n`,
      );
      console.log("| call | p50 ms | p99 ms | p50 / health p50 | goal <= 5x | requests |");
      console.log("| --- | --- | --- | --- | --- | --- |");
      const row = (name: string, v: number[], goal: boolean) => {
        const ratio = pct(v, 50) / floor;
        console.log(
          `| ${name} | ${pct(v, 50).toFixed(1)} | ${pct(v, 99).toFixed(1)} | ${ratio.toFixed(1)}x | ${goal ? (ratio <= 5 ? "yes" : "**no**") : "-"} | ${v.length} |`,
        );
      };
      row("GET /health (reference)", health.perName.get("GET /health")!, false);
      for (const [name, v] of mixed.perName) row(name, v, true);
      for (const [name, v] of heavy.perName) row(name, v, false);
      const rps = (x: { total: number; seconds: number }) => (x.total / x.seconds).toFixed(0);
      console.log(
        `\nThroughput: health ${rps(health)} req/s; describe mix ${rps(mixed)} req/s; heavy listings ${rps(heavy)} req/s (SigV4-signed by the clients, verified by the server).`,
      );
    } finally {
      server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
