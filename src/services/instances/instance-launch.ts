// RunInstances' work once its ClientToken is settled: the image, key pair, zone, volume plan and
// tags checked, the quotas and the host's room reserved for every instance, then the volumes and
// the instance records (with their tags) in one transaction, and the VMs booted in the background.
// Nothing half-made stays behind when any step fails.
import type { InstanceTypeInfo } from "../../compute/instance-types.ts";
import { StrataError } from "../../errors.ts";
import { newId } from "../../ids.ts";
import type { BlockDeviceMappingRecord, ImageRecord, Tag } from "../../storage/metadata/catalog-store.ts";
import type { InstanceRecord, VolumeAttachmentRecord } from "../../storage/metadata/instance-store.ts";
import { OnAnotherHost } from "../hosts/on-another-host.ts";
import type { InterfaceView, LaunchNetworkRequest, LaunchPlan } from "../network/interface-service.ts";
import { validateTags } from "../tags/tag-rules.ts";
import { checkAvailabilityZone, VOLUME_TYPES } from "../volumes/volume-service.ts";
import type { InstanceContext } from "./instance-context.ts";
import { checkArchitecture, runnableType } from "./instance-type-rules.ts";
import { type PlannedVolume, planVolumes } from "./launch-plan.ts";

export interface RunInput {
  ownerId: string;
  imageId: string;
  instanceType: string;
  minCount: number;
  maxCount: number;
  /** Base64, as the API carries it (already checked). */
  userData: string | null;
  keyName: string | null;
  /** Placement.AvailabilityZone; with no subnet, the zone's default subnet (else the subnet's zone). */
  availabilityZone?: string;
  /** Where the instances' interfaces go (subnet, groups, addresses). */
  network: LaunchNetworkRequest;
  blockDeviceMappings: BlockDeviceMappingRecord[];
  clientToken: string | null;
  shutdownBehavior: "stop" | "terminate";
  /** TagSpecifications, written with the instances and with their volumes. */
  tags?: { instance: Tag[]; volume: Tag[] };
  /** The request's parameters, which a retry with the same ClientToken must repeat. */
  request?: unknown;
}

export async function launchInstances(ctx: InstanceContext, input: RunInput): Promise<InstanceRecord[]> {
  const type = runnableType(input.instanceType);
  const image = await ctx.images.visible(input.ownerId, input.imageId);
  checkArchitecture(type, image.architecture);
  const publicKey =
    input.keyName === null ? null : (await ctx.keyPairs.byName(input.ownerId, input.keyName)).publicKey;
  if (input.availabilityZone !== undefined) checkAvailabilityZone(ctx.region, input.availabilityZone);
  if (image.state !== "available") {
    throw new StrataError("InvalidAMIID.Unavailable", `Image ${image.id} is ${image.state}, not available`);
  }
  const tags = input.tags ?? { instance: [], volume: [] };
  validateTags(tags.instance);
  validateTags(tags.volume);
  const plan = planVolumes(image, input.blockDeviceMappings);
  // The image's launch permission covers its snapshots only if its owner owns them (images
  // registered before that rule could name another account's snapshot).
  const imageSnapshots = new Set<string | undefined>();
  for (const m of image.blockDeviceMappings) {
    const snap = m.ebs?.snapshotId ? await ctx.snapshots.meta.getSnapshot(m.ebs.snapshotId) : undefined;
    if (snap?.ownerId === image.ownerId) imageSnapshots.add(snap.id);
  }
  for (const p of plan) {
    if (!VOLUME_TYPES.includes(p.volumeType)) {
      throw new StrataError("InvalidParameterValue", `Invalid value '${p.volumeType}' for VolumeType`);
    }
    if (p.snapshotId) {
      // The image's own snapshots come with its launch permission; others must be visible.
      const snap = imageSnapshots.has(p.snapshotId)
        ? await ctx.snapshots.get(p.snapshotId)
        : await ctx.snapshots.visible(input.ownerId, p.snapshotId);
      if (p.sizeGiB !== undefined && p.sizeGiB < snap.volumeSizeGiB) {
        throw new StrataError(
          "InvalidBlockDeviceMapping",
          `Volume of size ${p.sizeGiB}GB is smaller than snapshot '${snap.id}', expect size >= ${snap.volumeSizeGiB}GB`,
        );
      }
      p.sizeGiB ??= snap.volumeSizeGiB;
    }
  }
  // The vCPU quota, host share and volume quotas are checked (and host room reserved) before
  // anything is created, so neither a concurrent launch nor a failure leaves anything half-made.
  const volumesEach = plan.map((p) => ({
    volumeType: p.volumeType,
    sizeGiB: p.sizeGiB ?? 0,
    iops: p.iops,
  }));
  const launch = { type, minCount: input.minCount, maxCount: input.maxCount, volumesEach };
  // Last of the checks: an account's first launch creates its default VPC (as EC2 accounts have one).
  const network = await ctx.interfaces.planLaunch(
    input.ownerId,
    { ...input.network, availabilityZone: input.network.availabilityZone ?? input.availabilityZone },
    input.maxCount,
  );
  // The zone's host with room: this one, or the call goes to the one chosen (before any change).
  const where = await ctx.hosts.place(network.availabilityZone, type, input.minCount);
  if (where !== "here") throw new OnAnotherHost("A host with room for these instances", where.id, where.url);
  return ctx.quotas.launch(input.ownerId, launch, ctx.host(), (releases) =>
    create(ctx, input, { image, publicKey, type, plan, imageSnapshots, network }, releases),
  );
}

async function create(
  ctx: InstanceContext,
  input: RunInput,
  checked: {
    image: ImageRecord;
    publicKey: string | null;
    type: InstanceTypeInfo;
    plan: PlannedVolume[];
    imageSnapshots: Set<string | undefined>;
    network: LaunchPlan;
  },
  releases: (() => void)[],
): Promise<InstanceRecord[]> {
  const { image, publicKey, type, plan, imageSnapshots, network } = checked;
  const availabilityZone = network.availabilityZone;
  const count = releases.length;
  const tags = input.tags ?? { instance: [], volume: [] };
  const reservationId = newId("r");
  const now = new Date().toISOString();
  const records: InstanceRecord[] = [];
  const attachments: VolumeAttachmentRecord[] = [];
  const created: string[] = [];
  const ids = Array.from({ length: count }, () => newId("i"));
  let interfaces: InterfaceView[] = [];
  try {
    // Addresses and MACs from the subnet's allocator, for all the instances in one transaction.
    interfaces = await ctx.interfaces.createForInstances(input.ownerId, network, ids);
    for (let i = 0; i < count; i++) {
      const id = ids[i];
      const nic = interfaces[i];
      records.push({
        id,
        ownerId: input.ownerId,
        reservationId,
        imageId: image.id,
        instanceType: type.name,
        state: "pending",
        stateTransitionReason: "",
        stateReason: { code: "pending", message: "pending" },
        keyName: input.keyName,
        launchIndex: i,
        launchedAt: now,
        availabilityZone,
        userData: input.userData,
        rootDeviceName: image.rootDeviceName,
        architecture: image.architecture,
        clientToken: input.clientToken,
        mac: nic.mac,
        privateIp: nic.privateIp,
        sshPort: 0,
        pid: null,
        terminatedAt: null,
        publicKey,
        shutdownBehavior: input.shutdownBehavior,
        host: ctx.hosts.id,
      });
      for (const p of plan) {
        const v = await ctx.volumes.create({
          ownerId: input.ownerId,
          snapshotId: p.snapshotId ?? undefined,
          sizeGiB: p.sizeGiB,
          availabilityZone,
          volumeType: p.volumeType,
          iops: p.iops,
          tags: tags.volume,
          grantedByImage: p.snapshotId !== null && imageSnapshots.has(p.snapshotId),
        });
        created.push(v.id);
        attachments.push({
          volumeId: v.id,
          instanceId: id,
          device: p.deviceName,
          attachedAt: now,
          deleteOnTermination: p.deleteOnTermination,
        });
      }
    }
    await ctx.store.insertInstances(records, attachments, tags.instance);
  } catch (e) {
    // Nothing half-made stays behind: the volumes made so far go again.
    for (const v of created) await ctx.volumes.delete(v).catch(() => {});
    if (interfaces.length) for (const id of ids) await ctx.interfaces.deleteForInstance(id).catch(() => {});
    for (const release of releases) release();
    throw e;
  }
  for (const [k, r] of records.entries()) ctx.vms.launch(r.id, releases[k]);
  await ctx.images.markLaunched(image.id);
  return records;
}
