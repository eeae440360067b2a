// The EBS direct APIs through @aws-sdk/client-ebs against the live daemon: upload an image block
// by block, complete it with the LINEAR checksum, use it as an EC2 snapshot, read it back byte for
// byte, diff two snapshots, and the errors the API defines.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import {
  CompleteSnapshotCommand,
  EBSClient,
  GetSnapshotBlockCommand,
  ListChangedBlocksCommand,
  ListSnapshotBlocksCommand,
  PutSnapshotBlockCommand,
  StartSnapshotCommand,
} from "@aws-sdk/client-ebs";
import { DescribeImagesCommand, DescribeSnapshotsCommand, RegisterImageCommand } from "@aws-sdk/client-ec2";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import { adminCredentials, type Credentials, createAccount, ec2 } from "./ec2-helpers.ts";
import { BLOCK_SIZE, MiB, seededBytes, sha256, tempDir, textBlock } from "./helpers.ts";

const dataDir = tempDir();
let daemon: Daemon;
let admin: Credentials;
let ebs: EBSClient;

const ebsClient = (credentials: Credentials) =>
  new EBSClient({ endpoint: daemon.url, region: "us-east-1", credentials, maxAttempts: 1 });
const digest = (b: Uint8Array) => createHash("sha256").update(b).digest();

before(async () => {
  daemon = await startDaemon(dataDir);
  admin = adminCredentials(dataDir);
  ebs = ebsClient(admin);
});
after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

/** A 64 MiB disk: random and text runs with zero holes. */
function image(): Buffer {
  const out = Buffer.alloc(64 * MiB);
  for (let i = 0; i < 128; i++) {
    if (i % 5 === 4) continue;
    (i % 3 ? seededBytes(`ebs${i}`, BLOCK_SIZE) : textBlock(i)).copy(out, i * BLOCK_SIZE);
  }
  return out;
}

async function upload(client: EBSClient, data: Buffer, options: { parent?: string; only?: number[] } = {}) {
  const start = await client.send(
    new StartSnapshotCommand({
      VolumeSize: 1,
      ParentSnapshotId: options.parent,
      Description: "uploaded",
      Timeout: 60,
    }),
  );
  const id = start.SnapshotId!;
  const all = Array.from({ length: data.byteLength / BLOCK_SIZE }, (_, i) => i);
  const blocks = (options.only ?? all).filter(
    (i) => options.only || data.subarray(i * BLOCK_SIZE, (i + 1) * BLOCK_SIZE).some((b) => b !== 0),
  );
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < blocks.length) {
        const i = blocks[next++];
        const block = data.subarray(i * BLOCK_SIZE, (i + 1) * BLOCK_SIZE);
        await client.send(
          new PutSnapshotBlockCommand({
            SnapshotId: id,
            BlockIndex: i,
            BlockData: block,
            DataLength: BLOCK_SIZE,
            Checksum: digest(block).toString("base64"),
            ChecksumAlgorithm: "SHA256",
            Progress: Math.floor((next * 100) / blocks.length),
          }),
        );
      }
    }),
  );
  const linear = createHash("sha256");
  for (const i of blocks) linear.update(digest(data.subarray(i * BLOCK_SIZE, (i + 1) * BLOCK_SIZE)));
  const done = await client.send(
    new CompleteSnapshotCommand({
      SnapshotId: id,
      ChangedBlocksCount: blocks.length,
      Checksum: linear.digest("base64"),
      ChecksumAlgorithm: "SHA256",
      ChecksumAggregationMethod: "LINEAR",
    }),
  );
  assert.equal(done.Status, "completed");
  return { id, start, blocks };
}

async function download(client: EBSClient, id: string): Promise<Buffer> {
  const out = Buffer.alloc(64 * MiB);
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListSnapshotBlocksCommand({ SnapshotId: id, MaxResults: 100, NextToken: token }),
    );
    await Promise.all(
      (page.Blocks ?? []).map(async (b) => {
        const got = await client.send(
          new GetSnapshotBlockCommand({ SnapshotId: id, BlockIndex: b.BlockIndex, BlockToken: b.BlockToken }),
        );
        const bytes = Buffer.from(await got.BlockData!.transformToByteArray());
        assert.equal(got.Checksum, digest(bytes).toString("base64"));
        assert.equal(got.DataLength, BLOCK_SIZE);
        bytes.copy(out, b.BlockIndex! * BLOCK_SIZE);
      }),
    );
    token = page.NextToken;
  } while (token);
  return out;
}

test("upload 64 MiB block by block, use it as an image, download it byte for byte, diff a child", async () => {
  const data = image();
  const { id, start, blocks } = await upload(ebs, data);
  assert.equal(start.Status, "pending");
  assert.equal(start.BlockSize, BLOCK_SIZE);
  assert.equal(start.VolumeSize, 1);
  assert.ok(start.StartTime instanceof Date);

  const ec2Admin = ec2(daemon, admin);
  const described = await ec2Admin.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }));
  assert.equal(described.Snapshots?.[0].State, "completed");
  assert.equal(described.Snapshots?.[0].Description, "uploaded");
  const registered = await ec2Admin.send(
    new RegisterImageCommand({
      Name: "uploaded-image",
      RootDeviceName: "/dev/xvda",
      BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: id } }],
    }),
  );
  const img = await ec2Admin.send(new DescribeImagesCommand({ ImageIds: [registered.ImageId!] }));
  assert.equal(img.Images?.[0].State, "available");

  assert.equal(sha256(await download(ebs, id)), sha256(data), "downloaded bytes equal the uploaded image");
  const listed = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: id }));
  assert.deepEqual(
    listed.Blocks?.map((b) => b.BlockIndex),
    blocks,
  );

  // A child on the parent rewrites 3 blocks: exactly those differ.
  const child = Buffer.from(data);
  for (const i of [2, 50, 127]) seededBytes(`child${i}`, BLOCK_SIZE).copy(child, i * BLOCK_SIZE);
  const second = await upload(ebs, child, { parent: id, only: [2, 50, 127] });
  const changed = await ebs.send(
    new ListChangedBlocksCommand({ FirstSnapshotId: id, SecondSnapshotId: second.id }),
  );
  assert.deepEqual(
    changed.ChangedBlocks?.map((b) => b.BlockIndex),
    [2, 50, 127],
  );
  assert.ok(changed.ChangedBlocks?.every((b) => b.FirstBlockToken && b.SecondBlockToken));
  assert.equal(
    sha256(await download(ebs, second.id)),
    sha256(child),
    "the child inherits the parent's other blocks",
  );

  // Snapshots of unrelated lineages cannot be diffed.
  const other = await upload(ebs, data, { only: [0] });
  await assert.rejects(
    ebs.send(new ListChangedBlocksCommand({ FirstSnapshotId: other.id, SecondSnapshotId: second.id })),
    {
      name: "ValidationException",
      Reason: "UNRELATED_SNAPSHOTS",
    },
  );
});

test("bad blocks, wrong snapshots and forged tokens get the API's errors and store nothing", async () => {
  const block = seededBytes("bad", BLOCK_SIZE);
  const { SnapshotId: id } = await ebs.send(
    new StartSnapshotCommand({ VolumeSize: 1, ClientToken: "tok-1" }),
  );
  const again = await ebs.send(new StartSnapshotCommand({ VolumeSize: 1, ClientToken: "tok-1" }));
  assert.equal(again.SnapshotId, id, "the same ClientToken returns the same snapshot");
  await assert.rejects(ebs.send(new StartSnapshotCommand({ VolumeSize: 2, ClientToken: "tok-1" })), {
    name: "ConflictException",
  });
  const put = (over: Partial<ConstructorParameters<typeof PutSnapshotBlockCommand>[0]>) =>
    ebs.send(
      new PutSnapshotBlockCommand({
        SnapshotId: id,
        BlockIndex: 0,
        BlockData: block,
        DataLength: BLOCK_SIZE,
        Checksum: digest(block).toString("base64"),
        ChecksumAlgorithm: "SHA256",
        ...over,
      }),
    );
  await assert.rejects(put({ Checksum: digest(Buffer.from("other")).toString("base64") }), {
    name: "ValidationException",
    Reason: "INVALID_BLOCK",
  });
  await assert.rejects(
    put({
      BlockData: block.subarray(0, 1000),
      DataLength: 1000,
      Checksum: digest(block.subarray(0, 1000)).toString("base64"),
    }),
    {
      name: "ValidationException",
    },
  );
  await assert.rejects(put({ BlockIndex: 2048 }), { name: "ValidationException", Reason: "INVALID_BLOCK" });
  await assert.rejects(put({ SnapshotId: "snap-0123456789abcdef0" }), { name: "ResourceNotFoundException" });
  const bob = ebsClient(await createAccount(dataDir, "bob-ebs"));
  await assert.rejects(
    bob.send(
      new PutSnapshotBlockCommand({
        SnapshotId: id,
        BlockIndex: 1,
        BlockData: block,
        DataLength: BLOCK_SIZE,
        Checksum: digest(block).toString("base64"),
        ChecksumAlgorithm: "SHA256",
      }),
    ),
    { name: "ResourceNotFoundException" },
  );
  // Nothing was stored by the failures: completing with 0 blocks is right, 1 is not.
  await assert.rejects(ebs.send(new CompleteSnapshotCommand({ SnapshotId: id, ChangedBlocksCount: 1 })), {
    name: "ValidationException",
  });
  await put({});
  await ebs.send(new CompleteSnapshotCommand({ SnapshotId: id, ChangedBlocksCount: 1 }));
  await assert.rejects(put({ BlockIndex: 1 }), {
    name: "ValidationException",
    Reason: "INVALID_SNAPSHOT_ID",
  });

  const listed = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: id }));
  const token = listed.Blocks![0].BlockToken!;
  const forged = Buffer.from(token, "base64url");
  forged[20] ^= 1;
  await assert.rejects(
    ebs.send(
      new GetSnapshotBlockCommand({
        SnapshotId: id,
        BlockIndex: 0,
        BlockToken: forged.toString("base64url"),
      }),
    ),
    {
      name: "ValidationException",
      Reason: "INVALID_BLOCK_TOKEN",
    },
  );
  const { id: other } = await upload(ebs, Buffer.concat([block, Buffer.alloc(64 * MiB - BLOCK_SIZE)]), {
    only: [0],
  });
  await assert.rejects(
    ebs.send(new GetSnapshotBlockCommand({ SnapshotId: other, BlockIndex: 0, BlockToken: token })),
    {
      name: "ValidationException",
      Reason: "INVALID_BLOCK_TOKEN",
    },
  );
  await assert.rejects(bob.send(new ListSnapshotBlocksCommand({ SnapshotId: id })), {
    name: "ResourceNotFoundException",
  });
});
