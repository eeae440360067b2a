// CreateImage killed anywhere. One instance (a root volume and a data volume at /dev/sdf) is
// launched per run (a VM boot under software emulation is ~10 s): the first trial images it
// while it runs (NoReboot) and kills the daemon with the VM up, so QEMU must die with it and the
// instance come back stopped; later trials write fresh blocks to its volumes while it is stopped
// and image it again, half of them leaving the data volume out (NoDevice). An image must become
// available holding its volumes' content (or failed), and never leave snapshots no image owns.
import {
  CreateImageCommand,
  DescribeImagesCommand,
  type EC2Client,
  RunInstancesCommand,
  waitUntilInstanceRunning,
} from "@aws-sdk/client-ec2";
import { BLOCK_SIZE } from "../../helpers.ts";
import { baseImageId, describeInstance } from "../../instance-helpers.ts";
import { content, hashes, isZero, VolumeModel } from "../model.ts";
import { storedResources, storedSnapshotMap } from "../store-audit.ts";
import { checkSnapshot, type Scenario, settledImage, settledSnapshot, type TrialContext } from "../trial.ts";
import { type World, waitUntil } from "../world.ts";
import { compareVolume, randomWrites } from "./volume-ops.ts";

const REGION = "us-east-1";
const DATA_DEVICE = "/dev/sdf";
// Blocks the stopped-instance trials write: on the root volume beyond the base image's data.
const FIRST_BLOCK = { root: 1024, data: 0 };
const RANGE = 128;

export interface FixtureVolume {
  device: string;
  volumeId: string;
  /** Expected content: unknown (null) until read once after the guest is gone. */
  model: VolumeModel | null;
  /** The map its unchanged blocks come from (its last snapshot, or what it was restored from). */
  base: Map<number, string>;
}

export interface InstanceFixture {
  instanceId: string;
  rootDevice: string;
  volumes: FixtureVolume[];
}

/** Launches one instance of the base image and waits until it runs (the run's only VM boot). */
export async function launchInstance(w: World): Promise<InstanceFixture> {
  const ec2 = w.ec2(REGION);
  const base = await baseImageId(ec2);
  const r = await ec2.send(
    new RunInstancesCommand({
      ImageId: base,
      InstanceType: "t3.micro",
      MinCount: 1,
      MaxCount: 1,
      BlockDeviceMappings: [{ DeviceName: DATA_DEVICE, Ebs: { VolumeSize: 1 } }],
    }),
  );
  const instanceId = r.Instances![0].InstanceId!;
  await waitUntilInstanceRunning(
    { client: ec2, maxWaitTime: 600, minDelay: 1, maxDelay: 2 },
    { InstanceIds: [instanceId] },
  );
  const i = await describeInstance(ec2, instanceId);
  const stored = storedResources(w.dataDir, REGION).volumes;
  const volumes = i.BlockDeviceMappings!.map((m) => {
    const source = stored.find((v) => v.id === m.Ebs!.VolumeId)!.sourceSnapshotId;
    return {
      device: m.DeviceName!,
      volumeId: m.Ebs!.VolumeId!,
      model: null,
      base: source ? storedSnapshotMap(w.dataDir, REGION, source) : new Map<number, string>(),
    };
  });
  return { instanceId, rootDevice: i.RootDeviceName!, volumes };
}

async function instanceState(ec2: EC2Client, id: string): Promise<string> {
  return (await describeInstance(ec2, id)).State?.Name ?? "?";
}

/** A whole volume read once: the model's starting point once the guest is gone. */
async function readWhole(ctx: TrialContext, v: FixtureVolume): Promise<VolumeModel> {
  const blocks = new Map<number, ReturnType<typeof content>>();
  const admin = ctx.world.admin(REGION);
  for (let b = 0; b < 2048; b += 64) {
    const data = await admin.read(v.volumeId, b * BLOCK_SIZE, 64 * BLOCK_SIZE);
    for (let k = 0; k < 64; k++) {
      const block = data.subarray(k * BLOCK_SIZE, (k + 1) * BLOCK_SIZE);
      if (!isZero(block)) blocks.set(b + k, content(block));
    }
  }
  return new VolumeModel(v.volumeId, REGION, blocks);
}

export function createImageScenario(fixture: InstanceFixture): Scenario {
  return {
    name: "create-image",
    window: 1500,
    crashPoints: [
      "image.recorded",
      "image.snapshots-begun",
      "snapshot.before-complete",
      "snapshot.completed",
      "chunks.uploaded@4",
    ],
    create(ctx) {
      const w = ctx.world;
      const running = fixture.volumes.some((v) => v.model === null);
      // Stopped-instance trials leave the data volume out half of the time.
      const dropData = !running && ctx.rng.chance(0.5);
      const kept = fixture.volumes.filter((v) => !(dropData && v.device === DATA_DEVICE));
      const expected = new Map<string, Map<number, string>>();
      const written = new Map<string, number[]>();
      let imageId: string | undefined;
      const found = () => storedResources(w.dataDir, REGION).images.find((i) => i.name === ctx.tag);
      return {
        // A clean restart (to arm a crash point) would stop the VM this trial kills the daemon under.
        armable: !running,
        async prepare() {
          if (running) return;
          for (const v of fixture.volumes) {
            const first = v.device === fixture.rootDevice ? FIRST_BLOCK.root : FIRST_BLOCK.data;
            const writes = randomWrites(ctx.rng, `${ctx.tag}-${v.device}`, RANGE, ctx.rng.int(4, 32), first);
            written.set(v.device, [...writes.keys()]);
            await w.writeBlocks(v.model!, writes);
          }
        },
        async run() {
          for (const v of kept) if (v.model) expected.set(v.device, hashes(v.model.snapshot()));
          const r = await w.ec2(REGION).send(
            new CreateImageCommand({
              InstanceId: fixture.instanceId,
              Name: ctx.tag,
              NoReboot: running,
              BlockDeviceMappings: dropData ? [{ DeviceName: DATA_DEVICE, NoDevice: "" }] : undefined,
            }),
          );
          imageId = r.ImageId!;
          ctx.known.add(imageId);
          await settledImage(ctx, REGION, imageId);
        },
        landing() {
          const image = found();
          if (!image) {
            const ids = new Set(fixture.volumes.map((v) => v.volumeId));
            const snaps = storedResources(w.dataDir, REGION).snapshots.filter((s) =>
              ids.has(s.volumeId ?? ""),
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
          const snapshotOf = new Map<string, string>();
          if (imageId) {
            ctx.known.add(imageId);
            const settled = await settledImage(ctx, REGION, imageId);
            const { Images } = await w.ec2(REGION).send(new DescribeImagesCommand({ ImageIds: [imageId] }));
            for (const m of Images?.[0]?.BlockDeviceMappings ?? []) {
              if (m.Ebs?.SnapshotId) snapshotOf.set(m.DeviceName!, m.Ebs.SnapshotId);
            }
            for (const id of snapshotOf.values()) ctx.known.add(id);
            const devices = [...snapshotOf.keys()].sort().join(" ");
            const want = kept
              .map((v) => v.device)
              .sort()
              .join(" ");
            if (devices !== want) failures.push(`image ${imageId} maps ${devices}, not ${want}`);
            if (settled?.state === "failed") ctx.note("image failed");
            else if (settled?.state !== "available") failures.push(`image ${imageId} is ${settled?.state}`);
            // Each snapshot on its own (one may complete while the image fails for another).
            for (const [device, id] of snapshotOf) {
              const snap = await settledSnapshot(ctx, REGION, id);
              if (snap?.state !== "completed") continue;
              const v = fixture.volumes.find((x) => x.device === device)!;
              const blocks = expected.get(device);
              if (blocks) {
                failures.push(
                  ...(await checkSnapshot(ctx, { id, region: REGION, blocks }, `the image's ${device}`)),
                );
                v.base = blocks;
              } else {
                // Imaged while the guest ran: no model of its content; it is what was stored.
                v.base = storedSnapshotMap(w.dataDir, REGION, id);
              }
            }
          }
          for (const v of fixture.volumes) {
            if (v.model === null) {
              v.model = await readWhole(ctx, v);
            } else {
              await w.resolveUnknown(v.model);
              const what = `the instance's ${v.device}`;
              failures.push(...(await compareVolume(ctx, v.model, what, written.get(v.device))));
            }
          }
          return failures;
        },
      };
    },
  };
}
