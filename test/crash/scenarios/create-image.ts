// CreateImage killed anywhere. One instance is launched per run (a VM boot under software
// emulation is ~10 s): the first trial images it while it runs (NoReboot) and kills the daemon
// with the VM up, so QEMU must die with it and the instance come back stopped; later trials write
// fresh blocks to its root volume while it is stopped and image it again. An image must become
// available holding the volume's content (or failed), and never leave snapshots no image owns.
import {
  CreateImageCommand,
  DescribeImagesCommand,
  type EC2Client,
  RunInstancesCommand,
  waitUntilInstanceRunning,
} from "@aws-sdk/client-ec2";
import { baseImageId, describeInstance } from "../../instance-helpers.ts";
import { content, hashes, isZero, VolumeModel } from "../model.ts";
import { storedResources, storedSnapshotMap } from "../store-audit.ts";
import { checkSnapshot, type Scenario, settledImage, type TrialContext } from "../trial.ts";
import { type World, waitUntil } from "../world.ts";
import { compareVolume, randomWrites } from "./volume-ops.ts";

const REGION = "us-east-1";
// Root volume blocks the stopped-instance trials write (beyond the base image's data).
const FIRST_BLOCK = 1024;
const RANGE = 128;

export interface InstanceFixture {
  instanceId: string;
  rootVolumeId: string;
  /** The root volume's expected content: unknown (null) while the guest may still write to it. */
  root: VolumeModel | null;
  /** The map of the base image's snapshot the root volume was restored from. */
  baseSnapshotMap: Map<number, string>;
}

/** Launches one instance of the base image and waits until it runs (the run's only VM boot). */
export async function launchInstance(w: World): Promise<InstanceFixture> {
  const ec2 = w.ec2(REGION);
  const base = await baseImageId(ec2);
  const r = await ec2.send(
    new RunInstancesCommand({ ImageId: base, InstanceType: "t3.micro", MinCount: 1, MaxCount: 1 }),
  );
  const instanceId = r.Instances![0].InstanceId!;
  await waitUntilInstanceRunning(
    { client: ec2, maxWaitTime: 600, minDelay: 1, maxDelay: 2 },
    { InstanceIds: [instanceId] },
  );
  const i = await describeInstance(ec2, instanceId);
  const rootVolumeId = i.BlockDeviceMappings![0].Ebs!.VolumeId!;
  const source = storedResources(w.dataDir, REGION).volumes.find((v) => v.id === rootVolumeId)!
    .sourceSnapshotId!;
  return {
    instanceId,
    rootVolumeId,
    root: null,
    baseSnapshotMap: storedSnapshotMap(w.dataDir, REGION, source),
  };
}

async function instanceState(ec2: EC2Client, id: string): Promise<string> {
  return (await describeInstance(ec2, id)).State?.Name ?? "?";
}

/**
 * The whole root volume read once, as the model's starting point (after the guest is gone);
 * `base` is the map of the snapshot its unchanged blocks come from.
 */
async function readRoot(
  ctx: TrialContext,
  f: InstanceFixture,
  base: Map<number, string>,
): Promise<VolumeModel> {
  const blocks = new Map<number, ReturnType<typeof content>>();
  const admin = ctx.world.admin(REGION);
  for (let b = 0; b < 2048; b += 64) {
    const data = await admin.read(f.rootVolumeId, b * 512 * 1024, 64 * 512 * 1024);
    for (let k = 0; k < 64; k++) {
      const block = data.subarray(k * 512 * 1024, (k + 1) * 512 * 1024);
      if (!isZero(block)) blocks.set(b + k, content(block));
    }
  }
  const model = new VolumeModel(f.rootVolumeId, REGION, blocks);
  model.base = base;
  return model;
}

export function createImageScenario(fixture: InstanceFixture): Scenario {
  return {
    name: "create-image",
    window: 1500,
    crashPoints: [
      "image.snapshots-begun",
      "snapshot.before-complete",
      "snapshot.completed",
      "chunks.uploaded@4",
    ],
    create(ctx) {
      const w = ctx.world;
      const running = fixture.root === null;
      let expected: Map<number, string> | null = null;
      let imageId: string | undefined;
      let written: number[] = [];
      const found = () => storedResources(w.dataDir, REGION).images.find((i) => i.name === ctx.tag);
      return {
        // A clean restart (to arm a crash point) would stop the VM this trial kills the daemon under.
        armable: !running,
        async prepare() {
          if (running) return;
          const writes = randomWrites(ctx.rng, ctx.tag, RANGE, ctx.rng.int(8, 48), FIRST_BLOCK);
          written = [...writes.keys()];
          await w.writeBlocks(fixture.root!, writes);
        },
        async run() {
          expected = fixture.root ? hashes(fixture.root.snapshot()) : null;
          const r = await w
            .ec2(REGION)
            .send(
              new CreateImageCommand({ InstanceId: fixture.instanceId, Name: ctx.tag, NoReboot: running }),
            );
          imageId = r.ImageId!;
          ctx.known.add(imageId);
          await settledImage(ctx, REGION, imageId);
        },
        landing() {
          const image = found();
          if (!image) {
            const snaps = storedResources(w.dataDir, REGION).snapshots.filter(
              (s) => s.volumeId === fixture.rootVolumeId,
            );
            return snaps.some((s) => !ctx.known.has(s.id)) ? "mid" : "before";
          }
          return image.state === "pending" ? "mid" : "after";
        },
        async verify() {
          const failures: string[] = [];
          // The VM died with the daemon: the instance is stopped, never running without QEMU.
          const state = await waitUntil(
            `instance ${fixture.instanceId} settles`,
            () => instanceState(w.ec2(REGION), fixture.instanceId),
            (s) => s !== "pending" && s !== "stopping",
            ctx.deadlineMs,
          );
          if (state !== "stopped") failures.push(`after the restart the instance is ${state}, not stopped`);
          imageId ??= found()?.id;
          // The snapshot the root volume's unchanged blocks now come from (if the image got one).
          let base = fixture.root?.base ?? fixture.baseSnapshotMap;
          if (imageId) {
            ctx.known.add(imageId);
            const settled = await settledImage(ctx, REGION, imageId);
            const { Images } = await w.ec2(REGION).send(new DescribeImagesCommand({ ImageIds: [imageId] }));
            const snapshotId = Images?.[0]?.BlockDeviceMappings?.[0]?.Ebs?.SnapshotId;
            if (snapshotId) ctx.known.add(snapshotId);
            if (settled?.state === "failed") ctx.note("image failed");
            else if (settled?.state !== "available") failures.push(`image ${imageId} is ${settled?.state}`);
            else if (snapshotId && expected) {
              failures.push(
                ...(await checkSnapshot(
                  ctx,
                  { id: snapshotId, region: REGION, blocks: expected },
                  "the image's snapshot",
                )),
              );
              base = expected;
            } else if (snapshotId) {
              // Imaged while the guest ran: no model of its content; it is what was stored.
              base = storedSnapshotMap(w.dataDir, REGION, snapshotId);
            }
          }
          if (fixture.root === null) {
            fixture.root = await readRoot(ctx, fixture, base);
          } else {
            fixture.root.base = base;
            await w.resolveUnknown(fixture.root);
            failures.push(...(await compareVolume(ctx, fixture.root, "the instance's root volume", written)));
          }
          return failures;
        },
      };
    },
  };
}
