import { StrataError } from "../../errors.ts";
import type { VolumeAttachmentRecord } from "../../storage/metadata/instance-store.ts";
import type { InstanceContext } from "./instance-context.ts";
import { disk } from "./instance-identity.ts";

/** Attaches a volume (hot-plugged into a running VM); the volume row is the one truth for in-use. */
export async function attachVolume(
  ctx: InstanceContext,
  id: string,
  volumeId: string,
  device: string,
): Promise<VolumeAttachmentRecord> {
  return ctx.vms.withLock(id, async () => {
    const r = await ctx.vms.record(id);
    if (r.state !== "running" && r.state !== "stopped") {
      throw new StrataError("IncorrectInstanceState", `The instance '${id}' is not 'running' or 'stopped'.`);
    }
    if ((await ctx.store.attachments(id)).some((a) => a.device === device)) {
      throw new StrataError(
        "InvalidDevice",
        `Invalid value '${device}' for unixDevice. Attachment point ${device} is already in use`,
      );
    }
    const a: VolumeAttachmentRecord = {
      volumeId,
      instanceId: id,
      device,
      attachedAt: new Date().toISOString(),
      deleteOnTermination: false,
    };
    await ctx.store.attachVolume(a);
    await ctx.vms.refreshDevices(id);
    const vm = ctx.vms.runtime(id);
    if (vm) {
      try {
        await vm.hotplug(disk(ctx.region, volumeId, false));
      } catch (e) {
        await ctx.store.detachVolume(volumeId);
        throw e;
      }
    }
    return a;
  });
}

/**
 * Detaches a volume; a running guest must release the disk first (ACPI eject), unless forced, in
 * which case QEMU's connection to it is cut so no write can reach it afterwards.
 */
export async function detachVolume(
  ctx: InstanceContext,
  volumeId: string,
  force: boolean,
): Promise<VolumeAttachmentRecord> {
  const first = (await ctx.store.allAttachments()).find((x) => x.volumeId === volumeId);
  if (!first) throw new StrataError("IncorrectState", `Volume '${volumeId}' is in the 'available' state.`);
  return ctx.vms.withLock(first.instanceId, async () => {
    // Read again under the lock: a concurrent detach or terminate may have got here first.
    const a = (await ctx.store.allAttachments()).find((x) => x.volumeId === volumeId);
    if (!a) throw new StrataError("IncorrectState", `Volume '${volumeId}' is in the 'available' state.`);
    const r = await ctx.vms.record(a.instanceId);
    if (a.device === r.rootDeviceName && r.state !== "stopped") {
      throw new StrataError(
        "IncorrectState",
        `Unable to detach root volume '${volumeId}' from instance '${r.id}': the instance is not stopped`,
      );
    }
    const vm = ctx.vms.runtime(a.instanceId);
    if (vm) {
      const d = disk(ctx.region, volumeId, false);
      const released = await vm.unplug(d);
      if (!released && !force) {
        throw new StrataError(
          "IncorrectState",
          `The guest did not release ${a.device} (${volumeId}); unmount it and retry, or detach with Force`,
        );
      }
      // Forced: QEMU drops its NBD connection, so no write can reach the volume after detach.
      await vm.disconnect(d);
    }
    await ctx.store.detachVolume(volumeId);
    await ctx.vms.refreshDevices(a.instanceId);
    return a;
  });
}
