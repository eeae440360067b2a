// Volume steps the scenarios share: seeded writes, an uninterrupted snapshot, a full comparison.
import { CreateSnapshotCommand } from "@aws-sdk/client-ec2";
import {
  compareMaps,
  hashes,
  makeBlock,
  randomKind,
  type SnapshotModel,
  type VolumeModel,
} from "../model.ts";
import type { Prng } from "../prng.ts";
import { settledSnapshot, type TrialContext } from "../trial.ts";

/** `count` blocks among the first `range`, each random, text or zeros, from seeded content. */
export function randomWrites(
  rng: Prng,
  seed: string,
  range: number,
  count: number,
  first = 0,
): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (const b of rng.sample(range, count))
    out.set(first + b, makeBlock(randomKind(rng), `${seed}-${first + b}`));
  return out;
}

/** CreateSnapshot, waited for; it must complete (nothing interrupts it). */
export async function takeSnapshot(
  ctx: TrialContext,
  volume: VolumeModel,
  description: string,
): Promise<SnapshotModel> {
  const blocks = hashes(volume.snapshot());
  const s = await ctx.world
    .ec2(volume.region)
    .send(new CreateSnapshotCommand({ VolumeId: volume.id, Description: description }));
  const done = await settledSnapshot(ctx, volume.region, s.SnapshotId!);
  if (done?.state !== "completed")
    throw new Error(`snapshot ${s.SnapshotId} of ${volume.id} ended ${done?.state}: ${done?.message}`);
  volume.base = blocks;
  return { id: s.SnapshotId!, region: volume.region, blocks };
}

/** Reads the volume through the API and compares every block with the model. */
export async function compareVolume(
  ctx: TrialContext,
  volume: VolumeModel,
  what: string,
  only?: number[],
): Promise<string[]> {
  const expected = hashes(volume.blocks);
  if (only) for (const b of expected.keys()) if (!only.includes(b)) expected.delete(b);
  const read = await ctx.world.readVolume(volume.region, volume.id, volume.extent, only);
  const diff = compareMaps(expected, read);
  return diff ? [`${what} ${volume.id} does not read back as written: ${diff}`] : [];
}
