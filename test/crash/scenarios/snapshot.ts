// CreateSnapshot of a volume (first or incremental), with acknowledged overwrites of frozen
// blocks while it runs (copy-on-write), killed anywhere. The snapshot must hold the content of
// its start, the volume every acknowledged write, and the next snapshot exactly the volume.
import { CreateSnapshotCommand } from "@aws-sdk/client-ec2";
import { hashes, makeBlock, randomKind, type SnapshotModel, VolumeModel } from "../model.ts";
import {
  checkSnapshot,
  createVolume,
  landingOf,
  type Scenario,
  settledSnapshot,
  snapshotByDescription,
  type TrialContext,
} from "../trial.ts";
import { compareVolume, randomWrites, takeSnapshot } from "./volume-ops.ts";

const REGION = "us-east-1";

export const snapshotScenario: Scenario = {
  name: "snapshot",
  window: 1500,
  crashPoints: [
    "chunks.referenced@3",
    "chunks.uploaded@3",
    "pack-store.before-rename@2",
    "snapshot.before-complete",
    "snapshot.completed",
    "chunks.rows-dropped",
    "volume.dirty-marked@4",
  ],
  create(ctx: TrialContext) {
    const { world: w, rng } = ctx;
    let volume: VolumeModel;
    let expected: Map<number, string>;
    let snapshotId: string | undefined;
    return {
      async prepare() {
        volume = new VolumeModel(await createVolume(w, REGION), REGION);
        ctx.known.add(volume.id);
        await w.writeBlocks(volume, randomWrites(rng, `${ctx.tag}-a`, 128, rng.int(24, 96)));
        if (rng.chance(0.4)) {
          // Incremental: a completed parent, then some of its blocks changed.
          ctx.known.add((await takeSnapshot(ctx, volume, `${ctx.tag}-parent`)).id);
          await w.writeBlocks(volume, randomWrites(rng, `${ctx.tag}-b`, 128, rng.int(4, 32)));
        }
      },
      async run() {
        expected = hashes(volume.snapshot());
        const s = await w
          .ec2(REGION)
          .send(new CreateSnapshotCommand({ VolumeId: volume.id, Description: ctx.tag }));
        snapshotId = s.SnapshotId!;
        ctx.known.add(snapshotId);
        // Overwrites while it runs: each must wait for the old content to be captured.
        const overwrite = new Map<number, Buffer>();
        for (const b of rng.sample(128, rng.int(2, 12)))
          overwrite.set(b, makeBlock(randomKind(rng), `${ctx.tag}-cow-${b}`));
        for (const [b, data] of overwrite) await w.writeBlocks(volume, new Map([[b, data]]));
        await settledSnapshot(ctx, REGION, snapshotId);
      },
      landing() {
        return landingOf([snapshotByDescription(ctx, REGION, ctx.tag)?.state]);
      },
      async verify() {
        const failures: string[] = [];
        // A CreateSnapshot that was never answered may still have begun (EC2 clients retry and
        // find it); expected is the volume's content when it was asked for.
        snapshotId ??= snapshotByDescription(ctx, REGION, ctx.tag)?.id;
        if (snapshotId) {
          ctx.known.add(snapshotId);
          const model: SnapshotModel = { id: snapshotId, region: REGION, blocks: expected };
          failures.push(...(await checkSnapshot(ctx, model, "the interrupted snapshot")));
        }
        await w.resolveUnknown(volume);
        failures.push(...(await compareVolume(ctx, volume, "the snapshotted volume")));
        // Changed-block tracking survived: a new snapshot holds exactly the volume.
        const next = await takeSnapshot(ctx, volume, `${ctx.tag}-next`);
        ctx.known.add(next.id);
        failures.push(...(await checkSnapshot(ctx, next, "the next snapshot")));
        return failures;
      },
    };
  },
};
