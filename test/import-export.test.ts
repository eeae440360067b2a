// `strata snapshot import|export` and `strata image import` run as a user runs them (bin/strata)
// against the live daemon's EBS direct APIs and EC2: raw, qcow2 and vmdk in, raw and qcow2 out,
// content compared by hash.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { open, rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { ListSnapshotBlocksCommand } from "@aws-sdk/client-ebs";
import { DescribeImagesCommand, DescribeSnapshotsCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { createClients } from "../src/cli/aws-clients.ts";
import { BlockFetcher, endpointOf } from "../src/cli/block-fetcher.ts";
import { blocksInRanges, readImageBlocks } from "../src/cli/block-reader.ts";
import { downloadSnapshot } from "../src/cli/snapshot-download.ts";
import { openPackStore } from "../src/services/regions/region-stores.ts";
import { readStorageConfig, storageFor } from "../src/services/regions/storage-config.ts";
import type { PackStore } from "../src/storage/chunks/pack-store.ts";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import { adminCredentials, createAccount, ec2 } from "./ec2-helpers.ts";
import { MiB, seededBytes, tempDir } from "./helpers.ts";

const run = promisify(execFile);
const STRATA = join(import.meta.dirname, "..", "bin", "strata");
const GiB = 1024 ** 3;
const BLOCK = 512 * 1024;
const dataDir = tempDir();
const work = tempDir("strata-import-");
let daemon: Daemon;
let admin: EC2Client;

/** ~24 MiB: random runs, zero runs, a lone non-zero byte, text, a partial last block. */
function diskContent(): Buffer {
  const size = 24 * MiB + 100_000;
  const disk = Buffer.alloc(size);
  seededBytes("run-1", 3 * MiB).copy(disk, 0);
  seededBytes("run-2", 300 * 1024).copy(disk, 5 * MiB); // a block only partly written
  disk[8 * MiB + 12345] = 0xff; // a block that is all zeros but one byte
  seededBytes("run-3", 6 * MiB).copy(disk, 10 * MiB);
  disk.fill("strata import test line\n", 16 * MiB, 20 * MiB);
  seededBytes("run-4", size - 23 * MiB).copy(disk, 23 * MiB);
  return disk;
}

const disk = diskContent();
const rawPath = join(work, "disk.raw");
const nonZeroBlocks = Array.from({ length: Math.ceil(disk.length / BLOCK) }, (_, i) =>
  disk.subarray(i * BLOCK, (i + 1) * BLOCK),
).filter((b) => b.some((x) => x !== 0)).length;

const ZEROS = Buffer.alloc(8 * MiB);

/** The export holds the disk's bytes, then zeros up to the volume size. */
async function assertExportMatches(path: string, size: number): Promise<void> {
  assert.equal(statSync(path).size, size);
  let pos = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 8 * MiB }) as AsyncIterable<Buffer>) {
    const own = chunk.subarray(0, Math.max(0, disk.length - pos));
    if (!own.equals(disk.subarray(pos, pos + own.length))) assert.fail(`${path}: differs near byte ${pos}`);
    const rest = chunk.subarray(own.length);
    if (!rest.equals(ZEROS.subarray(0, rest.length)))
      assert.fail(`${path}: not zero past the disk at ${pos}`);
    pos += chunk.length;
  }
  assert.equal(pos, size);
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** bin/strata with a clean environment: no AWS variables, HOME without ~/.strata. */
async function strata(args: string[], env: Record<string, string> = {}): Promise<Result> {
  try {
    const { stdout, stderr } = await run(STRATA, [...args, "--endpoint", daemon.url], {
      env: { PATH: process.env.PATH, HOME: work, ...env },
      maxBuffer: 16 * MiB,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

async function ok(args: string[], env?: Record<string, string>): Promise<Record<string, unknown>> {
  const r = await strata([...args, "--json"], env);
  assert.equal(r.code, 0, `strata ${args.join(" ")} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

before(async () => {
  daemon = await startDaemon(dataDir);
  admin = ec2(daemon, adminCredentials(dataDir));
  writeFileSync(rawPath, disk);
  for (const format of ["qcow2", "vmdk", "vpc", "vhdx"])
    await run("qemu-img", ["convert", "-f", "raw", "-O", format, rawPath, join(work, `disk.${format}`)]);
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

test("the blocks read are those overlapping the data ranges, in order, the last one padded", async () => {
  assert.deepEqual(
    [
      ...blocksInRanges([
        [0, 1],
        [BLOCK - 1, BLOCK + 1],
        [3 * BLOCK, 5 * BLOCK],
        [5 * BLOCK - 1, 5 * BLOCK],
      ]),
    ],
    [0, 1, 3, 4],
  );
  const data = seededBytes("blocks", 6 * BLOCK + 777);
  const reads: [number, number][] = [];
  const reader = {
    read: async (offset: number, length: number) => {
      reads.push([offset, length]);
      return data.subarray(offset, offset + length);
    },
  };
  const positions: number[] = [];
  const blocks = [];
  const ranges: [number, number][] = [
    [BLOCK, 2 * BLOCK],
    [4 * BLOCK + 5, data.length],
  ];
  for await (const b of readImageBlocks(reader, ranges, {
    size: data.length,
    readAhead: 2,
    onPosition: (p) => positions.push(p),
  }))
    blocks.push(b);
  assert.deepEqual(
    blocks.map((b) => b.index),
    [1, 4, 5, 6],
  );
  assert.deepEqual(reads.at(-1), [6 * BLOCK, 777]);
  assert.ok(blocks[3].data.equals(Buffer.concat([data.subarray(6 * BLOCK), Buffer.alloc(BLOCK - 777)])));
  assert.ok(blocks[1].data.equals(data.subarray(4 * BLOCK, 5 * BLOCK)));
  assert.deepEqual(positions, [2 * BLOCK, 5 * BLOCK, 6 * BLOCK, data.length, data.length]);
});

for (const format of ["raw", "qcow2", "vmdk", "vpc", "vhdx"]) {
  test(`snapshot import of a ${format} image, export raw: same bytes, sparse`, async () => {
    const file = join(work, `disk.${format}`);
    const run = await strata(["snapshot", "import", file, "--data-dir", dataDir, "--json"]);
    assert.equal(run.code, 0, run.stderr);
    // Not a terminal: plain progress lines, the last one at 100 %.
    assert.match(run.stderr, new RegExp(`^import disk\\.${format} \\(${format}\\): 100% .* MB/s in `, "m"));
    const imported = JSON.parse(run.stdout);
    assert.match(String(imported.SnapshotId), /^snap-[0-9a-f]{17}$/);
    assert.equal(imported.Format, format);
    assert.equal(imported.VolumeSize, 1);
    assert.equal(imported.ChangedBlocks, nonZeroBlocks, "zero blocks are skipped, others all written");

    const described = await admin.send(
      new DescribeSnapshotsCommand({ SnapshotIds: [String(imported.SnapshotId)] }),
    );
    assert.equal(described.Snapshots![0].State, "completed");
    assert.equal(described.Snapshots![0].VolumeSize, 1);
    assert.equal(described.Snapshots![0].Description, `Imported from disk.${format} (${format})`);

    const out = join(work, `export-${format}.raw`);
    const exported = await ok([
      "snapshot",
      "export",
      String(imported.SnapshotId),
      out,
      "--data-dir",
      dataDir,
    ]);
    assert.equal(exported.Blocks, nonZeroBlocks);
    assert.ok(statSync(out).blocks * 512 < 64 * MiB, "written sparse: only the listed blocks");
    await assertExportMatches(out, GiB);
  });
}

test("a sparse image: holes are not read, the odd-sized tail is padded, VolumeSize rounds up", async () => {
  const file = join(work, "sparse.raw");
  const size = 2 * GiB + 4097;
  const fh = await open(file, "w");
  await fh.truncate(size);
  await fh.write(seededBytes("head", 1000), 0, 1000, 3 * MiB);
  await fh.write(seededBytes("tail", 4097), 0, 4097, 2 * GiB);
  await fh.close();
  const qcow2 = join(work, "sparse.qcow2");
  await run("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", file, qcow2]);
  for (const f of [file, qcow2]) {
    const imported = await ok(["snapshot", "import", f, "--data-dir", dataDir]);
    assert.equal(imported.VolumeSize, 3);
    assert.equal(imported.ChangedBlocks, 2);
    const out = join(work, "sparse-export.qcow2");
    await ok([
      "snapshot",
      "export",
      String(imported.SnapshotId),
      out,
      "--format",
      "qcow2",
      "--data-dir",
      dataDir,
    ]);
    await run("qemu-img", ["compare", "-f", "raw", "-F", "qcow2", file, out]);
    await rm(out);
  }
});

test("export pages through ListSnapshotBlocks", async () => {
  const content = seededBytes("pages", 230 * BLOCK);
  const file = join(work, "pages.raw");
  writeFileSync(file, content);
  const imported = await ok(["snapshot", "import", file, "--data-dir", dataDir]);
  assert.equal(imported.ChangedBlocks, 230);
  const clients = await createClients({ endpoint: daemon.url, region: "us-east-1", dataDir });
  const out = join(work, "pages-export.raw");
  // Strata's block stream (default), and GetSnapshotBlock alone as for any other EBS endpoint.
  for (const stream of [true, false]) {
    const fh = await open(out, "w");
    let listed = 0;
    let written = 0;
    const result = await downloadSnapshot(clients, String(imported.SnapshotId), fh, {
      maxResults: 100,
      stream,
      onListed: (bytes) => {
        listed = bytes;
      },
      onBytes: (n) => {
        written += n;
      },
    });
    await fh.close();
    assert.deepEqual(result, { volumeSizeGiB: 1, blocks: 230 });
    assert.equal(listed, 230 * BLOCK);
    assert.equal(written, 230 * BLOCK);
    const exported = Buffer.alloc(content.length);
    const rh = await open(out, "r");
    await rh.read(exported, 0, content.length, 0);
    await rh.close();
    assert.ok(exported.equals(content), `stream: ${stream}`);
    await rm(out);
  }
});

test("Strata's block stream: the blocks asked for, in that order (or the server's), with their checksums; a bad token refuses it all", async () => {
  const content = seededBytes("stream", 3 * BLOCK);
  const file = join(work, "stream.raw");
  writeFileSync(file, content);
  const imported = await ok(["snapshot", "import", file, "--data-dir", dataDir]);
  const clients = await createClients({ endpoint: daemon.url, region: "us-east-1", dataDir });
  const id = String(imported.SnapshotId);
  const list = await clients.ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: id }));
  const url = new URL(daemon.url);
  const endpoint = endpointOf({
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: `/snapshots/${id}/blocks`,
  });
  const fetcher = new BlockFetcher(clients.ebs, endpoint, "us-east-1", 4);
  try {
    const [b0, b1, b2] = list.Blocks!;
    const parts: Buffer[] = [];
    const answer = await fetcher.streamBlocks(id, [b2, b0], (piece) => parts.push(Buffer.from(piece)));
    assert.equal(answer.status, 200);
    const body = Buffer.concat(parts);
    const sha = (b: Buffer) => createHash("sha256").update(b).digest();
    const frame = (index: number, data: Buffer) => {
      const h = Buffer.alloc(44);
      h.writeBigUInt64BE(BigInt(index), 0);
      h.writeUInt32BE(data.byteLength, 8);
      sha(data).copy(h, 12);
      return Buffer.concat([h, data]);
    };
    const expected = Buffer.concat([
      frame(2, content.subarray(2 * BLOCK)),
      frame(0, content.subarray(0, BLOCK)),
      Buffer.alloc(44),
    ]);
    assert.ok(body.equals(expected), "frames of blocks 2 then 0, then the end frame");
    // Block 1 with block 0's token: nothing streamed, the EBS API's error instead.
    const refused = await fetcher.streamBlocks(
      id,
      [b2, { BlockIndex: b1.BlockIndex, BlockToken: b0.BlockToken }],
      () => {
        assert.fail("no body for a refused stream");
      },
    );
    assert.equal(refused.status, 400);
    assert.match(String(refused.errorBody), /INVALID_BLOCK_TOKEN/);
    // AnyOrder: the server picks the order (its packs'), each block once, each with its checksum.
    const any: Buffer[] = [];
    const anyAnswer = await fetcher.streamBlocks(id, [b2, b0, b1], (piece) => any.push(Buffer.from(piece)), {
      anyOrder: true,
    });
    assert.equal(anyAnswer.status, 200);
    const frames = Buffer.concat(any);
    const got = new Map<number, Buffer>();
    let at = 0;
    for (;;) {
      const length = frames.readUInt32BE(at + 8);
      if (length === 0) break;
      const index = Number(frames.readBigUInt64BE(at));
      const data = frames.subarray(at + 44, at + 44 + length);
      assert.ok(sha(data).equals(frames.subarray(at + 12, at + 44)), `block ${index}'s checksum`);
      assert.ok(!got.has(index), `block ${index} once`);
      got.set(index, data);
      at += 44 + length;
    }
    assert.equal(at + 44, frames.byteLength, "the end frame ends the answer");
    assert.deepEqual([...got.keys()].sort(), [0, 1, 2]);
    for (const [i, data] of got) assert.ok(data.equals(content.subarray(i * BLOCK, (i + 1) * BLOCK)));
    // The same block twice cannot be told apart when the order is the server's: refused.
    const twice = await fetcher.streamBlocks(id, [b0, b0], () => assert.fail("no body"), { anyOrder: true });
    assert.equal(twice.status, 400);
    assert.match(String(twice.errorBody), /each block may be asked for only once/);
  } finally {
    fetcher.close();
  }
});

test("a stored block that no longer matches its checksum ends the export in error, with no file", async () => {
  const block = seededBytes("corrupt-export", BLOCK); // random: stored as is, findable in its pack
  const file = join(work, "corrupt.raw");
  writeFileSync(file, Buffer.concat([seededBytes("corrupt-export-0", BLOCK), block]));
  const imported = await ok(["snapshot", "import", file, "--data-dir", dataDir]);
  const needle = block.subarray(1000, 1064);
  // The pack as the daemon stores it: a file in the data dir, or an object in the bucket.
  const packs = packStoreOf(dataDir);
  try {
    let pack: { id: string; good: Buffer } | undefined;
    for await (const p of packs.list()) {
      const bytes = Buffer.from(await packs.read(p.id, 0, p.bytes));
      if (bytes.includes(needle)) pack = { id: p.id, good: bytes };
    }
    assert.ok(pack, "the block's pack");
    const bad = Buffer.from(pack.good);
    bad[bad.indexOf(needle) + 10] ^= 1;
    await packs.put(pack.id, bad);
    try {
      const out = join(work, "corrupt-export.raw");
      const r = await strata(["snapshot", "export", String(imported.SnapshotId), out, "--data-dir", dataDir]);
      assert.equal(r.code, 1, "the export fails");
      // The CLI found the block unlike its checksum in the block stream and asked for it again
      // through GetSnapshotBlock, where the server's own check names the chunk.
      assert.match(r.stderr, /^strata: ChunkCorrupt: Chunk [0-9a-f]{64} .* does not match its SHA-256/m);
      assert.ok(!existsSync(out), "no file");
    } finally {
      await packs.put(pack.id, pack.good);
    }
  } finally {
    packs.close?.();
  }
  // Mended, the same export succeeds: the failure was the block's, not the stream's.
  const out = join(work, "mended-export.raw");
  assert.equal(
    (await ok(["snapshot", "export", String(imported.SnapshotId), out, "--data-dir", dataDir])).Blocks,
    2,
  );
  const fh = await open(out, "r");
  const second = Buffer.alloc(BLOCK);
  await fh.read(second, 0, BLOCK, BLOCK);
  await fh.close();
  assert.ok(second.equals(block));
  await rm(out);
});

/** us-east-1's pack store as the daemon opened it (STRATA_STORAGE_CONFIG, or the data dir). */
function packStoreOf(dataDir: string): PackStore & { close?(): void } {
  const config = process.env.STRATA_STORAGE_CONFIG;
  const storage = config ? storageFor(readStorageConfig(config), "us-east-1", dataDir) : {};
  return openPackStore(join(dataDir, "regions", "us-east-1", "chunks"), storage.packs ?? { type: "local" });
}

test("the lean GetSnapshotBlock: the block and its checksum for a valid token, null (the SDK's turn) otherwise", async () => {
  const content = seededBytes("lean", 2 * BLOCK);
  const file = join(work, "lean.raw");
  writeFileSync(file, content);
  const imported = await ok(["snapshot", "import", file, "--data-dir", dataDir]);
  const clients = await createClients({ endpoint: daemon.url, region: "us-east-1", dataDir });
  const id = String(imported.SnapshotId);
  const list = await clients.ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: id }));
  const url = new URL(daemon.url);
  const endpoint = endpointOf({
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: `/snapshots/${id}/blocks`,
  });
  const fetcher = new BlockFetcher(clients.ebs, endpoint, "us-east-1", 4);
  try {
    const [first, second] = list.Blocks!;
    const got = await fetcher.get(id, second.BlockIndex!, second.BlockToken!);
    const expected = content.subarray(BLOCK);
    assert.ok(Buffer.concat(got!.pieces).equals(expected));
    assert.equal(got!.sha256, createHash("sha256").update(expected).digest("base64"));
    assert.equal(got!.checksum, got!.sha256);
    assert.equal(got!.dataLength, BLOCK);
    // Another block's token: refused by the server, left to the SDK (which reports the error).
    assert.equal(await fetcher.get(id, second.BlockIndex!, first.BlockToken!), null);
  } finally {
    fetcher.close();
  }
});

test("snapshot export --format qcow2 converts the snapshot and leaves no temporary file", async () => {
  const imported = await ok(["snapshot", "import", join(work, "disk.qcow2"), "--data-dir", dataDir]);
  const out = join(work, "export.qcow2");
  const listing = readdirSync(work);
  await ok([
    "snapshot",
    "export",
    String(imported.SnapshotId),
    out,
    "--format",
    "qcow2",
    "--data-dir",
    dataDir,
  ]);
  assert.deepEqual(readdirSync(work).sort(), [...listing, "export.qcow2"].sort());
  const { stdout } = await run("qemu-img", ["info", "--output=json", out]);
  const info = JSON.parse(stdout) as { format: string; "virtual-size": number };
  assert.equal(info.format, "qcow2");
  assert.equal(info["virtual-size"], GiB);
  // Exit status 0 means identical; the bigger image's extra area must read as zeros.
  await run("qemu-img", ["compare", "-f", "raw", "-F", "qcow2", rawPath, out]);
});

test("image import registers an AMI on the imported snapshot (credentials from the environment)", async () => {
  const env = { AWS_SHARED_CREDENTIALS_FILE: join(dataDir, "credentials") };
  for (const bootMode of ["legacy-bios", "uefi"]) {
    const args = ["image", "import", join(work, "disk.vmdk"), "--name", `imported-${bootMode}`];
    const r = await ok(bootMode === "uefi" ? [...args, "--boot-mode", "uefi"] : args, env);
    assert.match(String(r.ImageId), /^ami-[0-9a-f]{17}$/);
    const { Images } = await admin.send(new DescribeImagesCommand({ ImageIds: [String(r.ImageId)] }));
    const image = Images![0];
    assert.equal(image.Name, `imported-${bootMode}`);
    assert.equal(image.RootDeviceName, "/dev/xvda");
    assert.equal(image.RootDeviceType, "ebs");
    assert.equal(image.Architecture, "x86_64");
    assert.equal(image.VirtualizationType, "hvm");
    assert.equal(image.BootMode, bootMode);
    assert.deepEqual(
      image.BlockDeviceMappings!.map((m) => [m.DeviceName, m.Ebs?.SnapshotId, m.Ebs?.VolumeSize]),
      [["/dev/xvda", r.SnapshotId, 1]],
    );
    const snaps = await admin.send(new DescribeSnapshotsCommand({ SnapshotIds: [String(r.SnapshotId)] }));
    assert.equal(snaps.Snapshots![0].VolumeSize, 1);
    assert.equal(snaps.Snapshots![0].State, "completed");
  }
});

test("without --data-dir or AWS variables, the credentials come from ~/.strata/credentials", async () => {
  const home = join(work, "home");
  mkdirSync(join(home, ".strata"), { recursive: true });
  copyFileSync(join(dataDir, "credentials"), join(home, ".strata", "credentials"));
  const file = join(home, "one-block.raw");
  writeFileSync(file, seededBytes("one", BLOCK));
  const r = await ok(["snapshot", "import", file], { HOME: home });
  assert.equal(r.ChangedBlocks, 1);
  const none = await strata(["snapshot", "import", file], { HOME: join(work, "nowhere") });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /credentials/i);
  rmSync(home, { recursive: true });
});

test("Ctrl-C during an import deletes the pending snapshot", async () => {
  const file = join(work, "interrupted.raw");
  writeFileSync(file, seededBytes("interrupted", 384 * MiB));
  const description = `interrupted-${process.pid}`;
  const args = ["snapshot", "import", file, "--description", description, "--data-dir", dataDir];
  const child = spawn(STRATA, [...args, "--endpoint", daemon.url], {
    env: { PATH: process.env.PATH, HOME: work },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d;
  });
  let running = true;
  const exited = new Promise<number | null>((r) =>
    child.once("exit", (code) => {
      running = false;
      r(code);
    }),
  );
  const filter = { Filters: [{ Name: "description", Values: [description] }], OwnerIds: ["self"] };
  let seen: string | undefined;
  while (!seen) {
    if (!running) assert.fail(`the import ended before it could be interrupted: ${stderr}`);
    const { Snapshots } = await admin.send(new DescribeSnapshotsCommand(filter));
    seen = Snapshots?.find((x) => x.State === "pending")?.SnapshotId;
    if (!seen) await new Promise((r) => setTimeout(r, 20));
  }
  child.kill("SIGINT");
  assert.equal(await exited, 1, stderr);
  assert.match(stderr, /^strata: interrupted$/m);
  const { Snapshots } = await admin.send(new DescribeSnapshotsCommand(filter));
  assert.deepEqual(Snapshots, []);
  await rm(file);
});

test("errors print the service's code and exit 1", async () => {
  const missing = await strata(["snapshot", "export", "snap-0123456789abcdef0", join(work, "x.raw")], {
    AWS_SHARED_CREDENTIALS_FILE: join(dataDir, "credentials"),
  });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^strata: ResourceNotFoundException: /m);
  assert.ok(!readdirSync(work).includes("x.raw"), "no partial output");
  writeFileSync(join(work, "keep.raw"), "precious");
  const kept = await strata(["snapshot", "export", "snap-0123456789abcdef0", join(work, "keep.raw")], {
    AWS_SHARED_CREDENTIALS_FILE: join(dataDir, "credentials"),
  });
  assert.equal(kept.code, 1);
  assert.equal(readFileSync(join(work, "keep.raw"), "utf8"), "precious", "a failed export clobbers nothing");
  assert.deepEqual(
    readdirSync(work).filter((f) => f.startsWith(".")),
    [],
    "no temporary files left",
  );

  // Another account cannot read the admin's snapshot.
  const imported = await ok(["snapshot", "import", rawPath, "--data-dir", dataDir]);
  const other = await createAccount(dataDir, "import-other");
  const denied = await strata(["snapshot", "export", String(imported.SnapshotId), join(work, "y.raw")], {
    AWS_ACCESS_KEY_ID: other.accessKeyId,
    AWS_SECRET_ACCESS_KEY: other.secretAccessKey,
  });
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /^strata: (ResourceNotFoundException|AccessDeniedException): /m);

  const badKey = await strata(["snapshot", "import", rawPath], {
    AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
    AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  });
  assert.equal(badKey.code, 1);
  assert.match(badKey.stderr, /^strata: \w+: /m);

  const notAnImage = await strata(["snapshot", "import", join(work, "nope.qcow2"), "--data-dir", dataDir]);
  assert.equal(notAnImage.code, 1);
  assert.match(notAnImage.stderr, /qemu-img info/);
});
