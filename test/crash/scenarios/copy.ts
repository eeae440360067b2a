// Cross-region copies killed anywhere: CopySnapshot, and CopyImage (which copies the image's
// snapshots and registers the copy). The copy must complete (or fail) and hold the source's
// content; a CopyImage must not leave snapshot copies that no image owns.
import {
  CopyImageCommand,
  CopySnapshotCommand,
  DescribeImagesCommand,
  RegisterImageCommand,
} from "@aws-sdk/client-ec2";
import { type SnapshotModel, VolumeModel } from "../model.ts";
import { storedResources } from "../store-audit.ts";
import {
  checkSnapshot,
  createVolume,
  landingOf,
  type Scenario,
  settledImage,
  settledSnapshot,
  snapshotByDescription,
  type TrialContext,
} from "../trial.ts";
import { randomWrites, takeSnapshot } from "./volume-ops.ts";

const FROM = "us-east-1";
const TO = "eu-west-1";

/** A volume with fresh data in the source region and a completed snapshot of it. */
async function sourceSnapshot(ctx: TrialContext, max = 96): Promise<SnapshotModel> {
  const volume = new VolumeModel(await createVolume(ctx.world, FROM), FROM);
  ctx.known.add(volume.id);
  await ctx.world.writeBlocks(
    volume,
    randomWrites(ctx.rng, `${ctx.tag}-src-${volume.id}`, 128, ctx.rng.int(max / 4, max)),
  );
  const snap = await takeSnapshot(ctx, volume, `${ctx.tag}-source-${volume.id}`);
  ctx.known.add(snap.id);
  return snap;
}

export const copySnapshotScenario: Scenario = {
  name: "copy-snapshot",
  window: 1200,
  crashPoints: [
    "chunks.referenced@3",
    "chunks.uploaded@3",
    "pack-store.before-rename@5",
    "copy.batch-recorded",
  ],
  create(ctx) {
    const w = ctx.world;
    let source: SnapshotModel;
    let copyId: string | undefined;
    return {
      async prepare() {
        source = await sourceSnapshot(ctx);
        // Sometimes an earlier copy put part of the content in the destination already.
        if (ctx.rng.chance(0.3)) {
          const c = await w.ec2(TO).send(
            new CopySnapshotCommand({
              SourceRegion: FROM,
              SourceSnapshotId: source.id,
              Description: `${ctx.tag}-earlier`,
            }),
          );
          ctx.known.add(c.SnapshotId!);
          await settledSnapshot(ctx, TO, c.SnapshotId!);
        }
      },
      async run() {
        const c = await w.ec2(TO).send(
          new CopySnapshotCommand({
            SourceRegion: FROM,
            SourceSnapshotId: source.id,
            Description: ctx.tag,
          }),
        );
        copyId = c.SnapshotId!;
        ctx.known.add(copyId);
        await settledSnapshot(ctx, TO, copyId);
      },
      landing() {
        return landingOf([snapshotByDescription(ctx, TO, ctx.tag)?.state]);
      },
      async verify() {
        copyId ??= snapshotByDescription(ctx, TO, ctx.tag)?.id;
        if (!copyId) return [];
        ctx.known.add(copyId);
        return checkSnapshot(ctx, { id: copyId, region: TO, blocks: source.blocks }, "the interrupted copy");
      },
    };
  },
};

export const copyImageScenario: Scenario = {
  name: "copy-image",
  window: 1200,
  crashPoints: ["image.copy-snapshot-started@2", "copy.batch-recorded@2", "chunks.uploaded@2"],
  create(ctx) {
    const w = ctx.world;
    // An image of one to four volumes (a root and data disks), each with its own content.
    const sources: SnapshotModel[] = [];
    let sourceImage: string;
    let copyId: string | undefined;
    const found = () => storedResources(w.dataDir, TO).images.find((i) => i.name === ctx.tag);
    const device = (k: number) => `/dev/xvd${String.fromCharCode(97 + k)}`;
    return {
      async prepare() {
        const count = ctx.rng.int(1, 4);
        for (let k = 0; k < count; k++) sources.push(await sourceSnapshot(ctx, 96 / count));
        const r = await w.ec2(FROM).send(
          new RegisterImageCommand({
            Name: `${ctx.tag}-source`,
            RootDeviceName: device(0),
            BlockDeviceMappings: sources.map((s, k) => ({
              DeviceName: device(k),
              Ebs: { SnapshotId: s.id },
            })),
          }),
        );
        sourceImage = r.ImageId!;
        ctx.known.add(sourceImage);
      },
      async run() {
        const c = await w
          .ec2(TO)
          .send(new CopyImageCommand({ SourceRegion: FROM, SourceImageId: sourceImage, Name: ctx.tag }));
        copyId = c.ImageId!;
        ctx.known.add(copyId);
        await settledImage(ctx, TO, copyId);
      },
      landing() {
        const image = found();
        if (!image) {
          // Snapshot copies made before the image was registered count as "mid".
          const ids = new Set(sources.map((s) => s.id));
          const copies = storedResources(w.dataDir, TO).snapshots.filter((s) =>
            ids.has(s.sourceSnapshotId ?? ""),
          );
          return copies.length ? "mid" : "before";
        }
        return image.state === "pending" ? "mid" : "after";
      },
      async verify() {
        copyId ??= found()?.id;
        if (!copyId) return [];
        ctx.known.add(copyId);
        const failures: string[] = [];
        const state = await settledImage(ctx, TO, copyId);
        if (state?.state === "failed") ctx.note("image copy failed");
        else if (state?.state !== "available") failures.push(`the copied image ${copyId} is ${state?.state}`);
        const { Images } = await w.ec2(TO).send(new DescribeImagesCommand({ ImageIds: [copyId] }));
        const mappings = Images?.[0]?.BlockDeviceMappings ?? [];
        if (state?.state === "available" && mappings.length !== sources.length) {
          failures.push(`the copied image has ${mappings.length} mappings, the source ${sources.length}`);
        }
        for (const m of mappings) {
          const id = m.Ebs?.SnapshotId;
          const k = m.DeviceName!.charCodeAt(m.DeviceName!.length - 1) - 97;
          if (!id) continue;
          ctx.known.add(id);
          if (state?.state === "available") {
            const expected = { id, region: TO, blocks: sources[k].blocks };
            failures.push(...(await checkSnapshot(ctx, expected, `the image's copy of ${m.DeviceName}`)));
          }
        }
        return failures;
      },
    };
  },
};
