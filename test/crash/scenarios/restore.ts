// CreateVolume from a snapshot (available at once, lazily restored), read while the background
// hydrator copies the rest, with partial writes to blocks not yet fetched, killed anywhere. The
// volume must read as the snapshot plus the acknowledged writes, and hydration must finish.
import { DescribeVolumesCommand } from "@aws-sdk/client-ec2";
import { type SnapshotModel, VolumeModel } from "../model.ts";
import { remoteBlocks, storedResources } from "../store-audit.ts";
import { createVolume, type Scenario, type TrialContext } from "../trial.ts";
import { waitUntil } from "../world.ts";
import { compareVolume, randomWrites, takeSnapshot } from "./volume-ops.ts";

const REGION = "us-east-1";

interface Hydration {
  hydration: { total: number; remaining: number };
}

async function hydrated(ctx: TrialContext, id: string): Promise<void> {
  await waitUntil(
    `hydration of ${id}`,
    () => ctx.world.admin(REGION).getVolume(id) as Promise<Hydration>,
    (v) => v.hydration.remaining === 0,
    ctx.deadlineMs,
  );
}

export const restoreScenario: Scenario = {
  name: "restore",
  window: 1500,
  crashPoints: ["volume.fetched@8", "volume.dirty-marked@2"],
  create(ctx) {
    const { world: w, rng } = ctx;
    let source: SnapshotModel;
    let sourceContent: VolumeModel;
    let restored: VolumeModel | undefined;
    const found = () =>
      storedResources(w.dataDir, REGION).volumes.find((v) => v.sourceSnapshotId === source.id)?.id;
    return {
      async prepare() {
        sourceContent = new VolumeModel(await createVolume(w, REGION), REGION);
        ctx.known.add(sourceContent.id);
        await w.writeBlocks(sourceContent, randomWrites(rng, `${ctx.tag}-src`, 128, rng.int(32, 112)));
        source = await takeSnapshot(ctx, sourceContent, `${ctx.tag}-source`);
        ctx.known.add(source.id);
      },
      async run() {
        const id = await createVolume(w, REGION, source.id);
        ctx.known.add(id);
        restored = new VolumeModel(id, REGION, sourceContent.snapshot());
        // Partial writes into blocks that may not be local yet: the rest of each block must come
        // from the snapshot first.
        for (const b of rng.sample(128, rng.int(1, 4))) {
          await w.writePartial(
            restored,
            b,
            rng.int(0, 120) * 4096,
            Buffer.from(`${ctx.tag}:${b}`.padEnd(4096, "#")),
          );
        }
        const read = await w.readVolume(REGION, id, 128);
        const expected = new Map([...restored.blocks].map(([b, c]) => [b, c.hash]));
        for (const [b, h] of expected)
          if (read.get(b) !== h) throw new Error(`restored block ${b} read wrong before the kill`);
        await hydrated(ctx, id);
      },
      landing() {
        const id = restored?.id ?? found();
        if (!id) return "before";
        // Blocks still only in the block store: the restore was interrupted.
        return remoteBlocks(w.dataDir, REGION, id) > 0 ? "mid" : "after";
      },
      async verify() {
        if (!restored) {
          const id = found();
          if (!id) return [];
          ctx.known.add(id);
          restored = new VolumeModel(id, REGION, sourceContent.snapshot());
        }
        await w.resolveUnknown(restored);
        const failures = await compareVolume(ctx, restored, "the restored volume");
        await hydrated(ctx, restored.id);
        // Whatever hydration copied after the restart must match too.
        failures.push(...(await compareVolume(ctx, restored, "the hydrated volume")));
        const { Volumes } = await w
          .ec2(REGION)
          .send(new DescribeVolumesCommand({ VolumeIds: [restored.id] }));
        if (Volumes?.[0]?.State !== "available") failures.push(`restored volume is ${Volumes?.[0]?.State}`);
        return failures;
      },
    };
  },
};
