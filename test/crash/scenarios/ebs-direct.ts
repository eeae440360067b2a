// EBS direct uploads (StartSnapshot, PutSnapshotBlock x N in parallel, CompleteSnapshot with the
// LINEAR checksum) through @aws-sdk/client-ebs, sometimes on a parent, killed anywhere. After the
// restart the client does what a real one would: a snapshot still pending gets all its blocks
// again and is completed. The result must read back (GetSnapshotBlock) as parent + blocks.
import { createHash } from "node:crypto";
import {
  CompleteSnapshotCommand,
  GetSnapshotBlockCommand,
  ListSnapshotBlocksCommand,
  PutSnapshotBlockCommand,
  StartSnapshotCommand,
} from "@aws-sdk/client-ebs";
import { BLOCK_SIZE, sha256 } from "../../helpers.ts";
import { compareMaps, isZero, makeBlock, randomKind } from "../model.ts";
import {
  checkSnapshot,
  landingOf,
  type Scenario,
  snapshotByDescription,
  snapshotState,
  type TrialContext,
} from "../trial.ts";

const REGION = "us-east-1";

interface Upload {
  parent?: string;
  blocks: Map<number, Buffer>;
}

const digest = (b: Uint8Array) => createHash("sha256").update(b).digest();

async function start(ctx: TrialContext, description: string, parent?: string): Promise<string> {
  const s = await ctx.world.ebs(REGION).send(
    new StartSnapshotCommand({
      VolumeSize: 1,
      ParentSnapshotId: parent,
      Description: description,
      Timeout: 60,
    }),
  );
  return s.SnapshotId!;
}

async function putAndComplete(ctx: TrialContext, id: string, upload: Upload): Promise<void> {
  const ebs = ctx.world.ebs(REGION);
  const order = [...upload.blocks.keys()];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < order.length) {
        const i = order[next++];
        const data = upload.blocks.get(i)!;
        await ebs.send(
          new PutSnapshotBlockCommand({
            SnapshotId: id,
            BlockIndex: i,
            BlockData: data,
            DataLength: BLOCK_SIZE,
            Checksum: digest(data).toString("base64"),
            ChecksumAlgorithm: "SHA256",
          }),
        );
      }
    }),
  );
  const linear = createHash("sha256");
  for (const i of [...upload.blocks.keys()].sort((a, b) => a - b))
    linear.update(digest(upload.blocks.get(i)!));
  await ebs.send(
    new CompleteSnapshotCommand({
      SnapshotId: id,
      ChangedBlocksCount: upload.blocks.size,
      Checksum: linear.digest("base64"),
      ChecksumAlgorithm: "SHA256",
      ChecksumAggregationMethod: "LINEAR",
    }),
  );
}

/** The snapshot read back through ListSnapshotBlocks + GetSnapshotBlock: block -> SHA-256. */
async function download(ctx: TrialContext, id: string): Promise<Map<number, string>> {
  const ebs = ctx.world.ebs(REGION);
  const out = new Map<number, string>();
  let token: string | undefined;
  do {
    const page = await ebs.send(
      new ListSnapshotBlocksCommand({ SnapshotId: id, MaxResults: 100, NextToken: token }),
    );
    for (const b of page.Blocks ?? []) {
      const got = await ebs.send(
        new GetSnapshotBlockCommand({ SnapshotId: id, BlockIndex: b.BlockIndex, BlockToken: b.BlockToken }),
      );
      out.set(b.BlockIndex!, sha256(Buffer.from(await got.BlockData!.transformToByteArray())));
    }
    token = page.NextToken;
  } while (token);
  return out;
}

function uploadOf(ctx: TrialContext, seed: string, count: number, parent?: string): Upload {
  const blocks = new Map<number, Buffer>();
  for (const b of ctx.rng.sample(128, count)) blocks.set(b, makeBlock(randomKind(ctx.rng), `${seed}-${b}`));
  return { parent, blocks };
}

/** Expected map: the parent's blocks, overlaid with the upload's (a zero block clears one). */
function expectedMap(parent: Map<number, string>, upload: Upload): Map<number, string> {
  const out = new Map(parent);
  for (const [b, data] of upload.blocks) {
    if (isZero(data)) out.delete(b);
    else out.set(b, sha256(data));
  }
  return out;
}

export const ebsDirectScenario: Scenario = {
  name: "ebs-direct",
  window: 1500,
  crashPoints: [
    "chunks.referenced@40",
    "chunks.uploaded@40",
    "pack-store.before-rename@16",
    "direct.block-recorded@40",
  ],
  create(ctx) {
    let parentMap = new Map<number, string>();
    let upload: Upload;
    let id: string | undefined;
    return {
      async prepare() {
        let parent: string | undefined;
        if (ctx.rng.chance(0.4)) {
          const first = uploadOf(ctx, `${ctx.tag}-parent`, ctx.rng.int(16, 64));
          parent = await start(ctx, `${ctx.tag}-parent`);
          ctx.known.add(parent);
          await putAndComplete(ctx, parent, first);
          parentMap = expectedMap(new Map(), first);
        }
        upload = uploadOf(ctx, ctx.tag, ctx.rng.int(16, 96), parent);
      },
      async run() {
        id = await start(ctx, ctx.tag, upload.parent);
        ctx.known.add(id);
        await putAndComplete(ctx, id, upload);
      },
      landing() {
        return landingOf([snapshotByDescription(ctx, REGION, ctx.tag)?.state]);
      },
      async verify() {
        id ??= snapshotByDescription(ctx, REGION, ctx.tag)?.id;
        if (!id) return [];
        ctx.known.add(id);
        const state = await snapshotState(ctx.world, REGION, id);
        // Pending: the client had not completed it. A real client puts its blocks again.
        if (state?.state === "pending") await putAndComplete(ctx, id, upload);
        const expected = expectedMap(parentMap, upload);
        const failures = await checkSnapshot(
          ctx,
          { id, region: REGION, blocks: expected },
          "the uploaded snapshot",
        );
        if (failures.length === 0 && (await snapshotState(ctx.world, REGION, id))?.state === "completed") {
          const diff = compareMaps(expected, await download(ctx, id));
          if (diff) failures.push(`GetSnapshotBlock of ${id} does not return what was uploaded: ${diff}`);
        }
        return failures;
      },
    };
  },
};
