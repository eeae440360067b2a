// Moving a detached volume to another host of its zone (AttachVolume to an instance there), as an
// EBS volume stays in its AZ: its data goes to the pack store as an engine-internal snapshot,
// its ownership and base map switch to the other host in one transaction, and that host restores
// it lazily (as any restored volume). Each move leaves its snapshot as the volume's last one (the
// parent of its next snapshot, and what a host taking it over after a loss restores); the
// previous move's snapshot is deleted then.
import { StrataError } from "../../errors.ts";
import type { InstanceContext } from "./instance-context.ts";

export async function moveVolume(ctx: InstanceContext, volumeId: string, to: string): Promise<void> {
  const v = await ctx.volumes.get(volumeId);
  if (v.attachment) {
    throw new StrataError("VolumeInUse", `Volume ${volumeId} is attached to ${v.attachment.instanceId}`);
  }
  const previous = v.lastSnapshotId ? await ctx.snapshots.meta.getSnapshot(v.lastSnapshotId) : undefined;
  const snap = await ctx.snapshots.createInternal(volumeId, `Strata: ${volumeId} moved to host ${to}`);
  await ctx.volumes.handOver(volumeId, snap.id, to);
  if (previous && previous.ownerId === "") {
    await ctx.snapshots.delete(previous.id).catch((e: Error) => {
      console.error(`${ctx.region}: the snapshot ${previous.id} of an earlier move stays: ${e.message}`);
    });
  }
}
