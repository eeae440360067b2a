// Moving a detached volume to another host of its zone (AttachVolume to an instance there), as an
// EBS volume stays in its AZ: its data goes to the pack store as an engine-internal snapshot,
// its ownership and base map switch to the other host in one transaction, and that host restores
// it lazily (as any restored volume).
import { StrataError } from "../../errors.ts";
import { createInternal } from "../snapshots/internal-snapshots.ts";
import type { InstanceContext } from "./instance-context.ts";

export async function moveVolume(ctx: InstanceContext, volumeId: string, to: string): Promise<void> {
  const v = await ctx.volumes.get(volumeId);
  if (v.attachment) {
    throw new StrataError("VolumeInUse", `Volume ${volumeId} is attached to ${v.attachment.instanceId}`);
  }
  const snap = await createInternal(ctx.snapshots, volumeId, `Strata: ${volumeId} moved to host ${to}`);
  await ctx.volumes.handOver(volumeId, snap.id, to);
}
