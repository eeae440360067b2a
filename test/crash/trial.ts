// What every crash scenario provides, and the EC2 calls they share.
import {
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DeleteVolumeCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
} from "@aws-sdk/client-ec2";
import { compareMaps, type SnapshotModel } from "./model.ts";
import type { Prng } from "./prng.ts";
import { storedResources, storedSnapshotMap } from "./store-audit.ts";
import { type World, waitUntil } from "./world.ts";

export interface TrialContext {
  world: World;
  rng: Prng;
  /** Unique per trial: in descriptions and names, so work an unanswered call began can be found. */
  tag: string;
  /** How long interrupted work may take to finish after the restart. */
  deadlineMs: number;
  /** Resources the model accounts for (fixtures and this trial's): anything else is a stray. */
  known: Set<string>;
  /** Outcomes worth counting in the summary (e.g. "snapshot error: ..."). */
  note(text: string): void;
}

export interface Trial {
  /** False when arming a crash point (a clean restart first) would spoil the trial. */
  armable?: boolean;
  /** Sets up what the operation needs (never interrupted). */
  prepare(): Promise<void>;
  /** The operation the kill interrupts; resolves once it and its background work are done. */
  run(): Promise<void>;
  /** With the daemon down after the kill: where the kill landed (before, mid, after), from the database. */
  landing(): string;
  /**
   * After the restart: adopts what unanswered calls created, waits (with a deadline) for
   * interrupted work to complete or fail, and compares content with the model. Returns failures.
   */
  verify(): Promise<string[]>;
}

export interface Scenario {
  name: string;
  /** Upper bound of the kill delay before the first measurement of run() (ms). */
  window: number;
  /**
   * Crash points (src/util/crash-points.ts) in this operation's path, as "name" or "name@max":
   * some trials arm one (at its 1st..max-th hit) instead of killing after a delay, to hit gaps
   * between two steps that a random delay almost never lands in.
   */
  crashPoints: string[];
  create(ctx: TrialContext): Trial;
}

export type Settled = { state: string; message: string };

/** A snapshot's state through DescribeSnapshots (null once it does not exist). */
export async function snapshotState(w: World, region: string, id: string): Promise<Settled | null> {
  try {
    const { Snapshots } = await w.ec2(region).send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }));
    const s = Snapshots?.[0];
    return s ? { state: s.State ?? "?", message: s.StateMessage ?? "" } : null;
  } catch (e) {
    if ((e as { name?: string }).name === "InvalidSnapshot.NotFound") return null;
    throw e;
  }
}

/** Waits until the snapshot is no longer pending; returns its final state. */
export async function settledSnapshot(
  ctx: TrialContext,
  region: string,
  id: string,
): Promise<Settled | null> {
  return waitUntil(
    `snapshot ${id} in ${region} leaves pending`,
    () => snapshotState(ctx.world, region, id),
    (s) => s?.state !== "pending",
    ctx.deadlineMs,
  );
}

export async function imageState(w: World, region: string, id: string): Promise<Settled | null> {
  try {
    const { Images } = await w.ec2(region).send(new DescribeImagesCommand({ ImageIds: [id] }));
    const i = Images?.[0];
    return i ? { state: i.State ?? "?", message: i.StateReason?.Message ?? "" } : null;
  } catch (e) {
    if ((e as { name?: string }).name === "InvalidAMIID.NotFound") return null;
    throw e;
  }
}

export async function settledImage(ctx: TrialContext, region: string, id: string): Promise<Settled | null> {
  return waitUntil(
    `image ${id} in ${region} leaves pending`,
    () => imageState(ctx.world, region, id),
    (s) => s?.state !== "pending",
    ctx.deadlineMs,
  );
}

export async function createVolume(w: World, region: string, snapshotId?: string): Promise<string> {
  const v = await w.ec2(region).send(
    new CreateVolumeCommand({
      AvailabilityZone: `${region}a`,
      ...(snapshotId ? { SnapshotId: snapshotId } : { Size: 1 }),
    }),
  );
  return v.VolumeId!;
}

/** Waits for a snapshot and checks its stored block map against the model. Returns failures. */
export async function checkSnapshot(
  ctx: TrialContext,
  expected: SnapshotModel,
  what: string,
): Promise<string[]> {
  const s = await settledSnapshot(ctx, expected.region, expected.id);
  if (!s) return [`${what} ${expected.id} vanished`];
  if (s.state === "error") {
    ctx.note(`${what} ended in error`);
    return s.message ? [] : [`${what} ${expected.id} is in error without a StateMessage`];
  }
  const diff = compareMaps(
    expected.blocks,
    storedSnapshotMap(ctx.world.dataDir, expected.region, expected.id),
  );
  return diff ? [`${what} ${expected.id} does not hold the expected content: ${diff}`] : [];
}

/** The first snapshot whose description is this trial's tag (work an unanswered call began). */
export function snapshotByDescription(ctx: TrialContext, region: string, description: string) {
  return storedResources(ctx.world.dataDir, region).snapshots.find((s) => s.description === description);
}

/** The state of the snapshot(s) a trial began, for landing(): before / mid / after. */
export function landingOf(states: (string | undefined)[]): string {
  if (states.length === 0 || states.every((s) => s === undefined)) return "before";
  if (states.some((s) => s === "pending" || s === undefined)) return "mid";
  return "after";
}

/**
 * Deletes every image, snapshot and volume that is not a fixture (images first: their snapshots
 * are in use), so the next trial starts from the same store.
 */
export async function removeAllBut(w: World, regions: string[], fixtures: Set<string>): Promise<void> {
  for (const region of regions) {
    const stored = storedResources(w.dataDir, region);
    const ec2 = w.ec2(region);
    for (const i of stored.images) {
      if (!fixtures.has(i.id)) await ec2.send(new DeregisterImageCommand({ ImageId: i.id }));
    }
    for (const s of stored.snapshots) {
      if (!fixtures.has(s.id)) await ec2.send(new DeleteSnapshotCommand({ SnapshotId: s.id }));
    }
    for (const v of stored.volumes) {
      if (!fixtures.has(v.id)) await ec2.send(new DeleteVolumeCommand({ VolumeId: v.id }));
    }
  }
}
