// One load client's cycle: everything a golden-image user does, on its own resources, through
// @aws-sdk/client-ec2 (real SigV4), ending with all of it deleted, so the number of live
// resources stays bounded however long the load runs. Two errors are provoked on purpose each
// cycle (deleting a snapshot an image uses; describing another account's private image); any
// other error is a failure. Bytes written in us-east-1 are read back from the cross-region copy.
import {
  CopyImageCommand,
  CopySnapshotCommand,
  CreateKeyPairCommand,
  CreateSnapshotCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DeleteKeyPairCommand,
  DeleteSnapshotCommand,
  DeleteTagsCommand,
  DeleteVolumeCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeKeyPairsCommand,
  DescribeRegionsCommand,
  DescribeSnapshotsCommand,
  DescribeTagsCommand,
  DescribeVolumesCommand,
  type EC2Client,
  RegisterImageCommand,
} from "@aws-sdk/client-ec2";
import type { AdminClient } from "../../src/cli/admin-client.ts";
import { BLOCK_SIZE, seededBytes, sha256 } from "../helpers.ts";
import type { ActionClass, Recorder } from "./measure.ts";

export interface LoadClient {
  index: number;
  /** Unique among all clients of a run (names its cycles' resources). */
  name: string;
  us: EC2Client;
  eu: EC2Client;
  adminUs: AdminClient;
  adminEu: AdminClient;
  destroy(): void;
  /** A private image of another account: describing it must answer InvalidAMIID.NotFound. */
  foreignImageId: string;
}

/** Thrown after an unexpected answer was recorded: the client stops (its state is unknown). */
export class CycleFailed extends Error {}

const POLL_MS = 50;
const POLL_LIMIT_MS = 180_000;

export async function runCycle(c: LoadClient, cycle: number, rec: Recorder): Promise<void> {
  const name = `load-${c.name}-${cycle}`;
  const call = async <T>(cls: ActionClass, action: string, send: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      const out = await send();
      rec.record(cls, action, performance.now() - t);
      return out;
    } catch (e) {
      const err = e as Error & { code?: string };
      rec.unexpected.push(`${name} ${action}: ${err.name} ${err.code ?? ""} ${err.message}`);
      throw new CycleFailed(action);
    }
  };
  const refused = async (action: string, code: string, send: () => Promise<unknown>) => {
    const t = performance.now();
    try {
      await send();
    } catch (e) {
      rec.record("expected error", action, performance.now() - t);
      if ((e as Error).name === code) return rec.expected(code);
      rec.unexpected.push(
        `${name} ${action}: ${(e as Error).name} instead of ${code}: ${(e as Error).message}`,
      );
      throw new CycleFailed(action);
    }
    rec.unexpected.push(`${name} ${action}: succeeded, expected ${code}`);
    throw new CycleFailed(action);
  };
  /** The JSON admin API (volume bytes): not EC2, so not timed, but a failure is a failure. */
  const bytes = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (e) {
      rec.unexpected.push(`${name} admin ${what}: ${(e as Error).message}`);
      throw new CycleFailed(what);
    }
  };
  const check = (ok: boolean, what: string) => {
    if (ok) return;
    rec.unexpected.push(`${name}: ${what}`);
    throw new CycleFailed(what);
  };
  /** Polls a describe call until `done` holds. */
  const until = async (action: string, send: () => Promise<boolean>) => {
    const deadline = Date.now() + POLL_LIMIT_MS;
    while (!(await call("describe", action, send))) {
      check(Date.now() < deadline, `${action}: not done after ${POLL_LIMIT_MS} ms`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };
  const snapshotState = async (client: EC2Client, id: string) =>
    (await client.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }))).Snapshots?.[0]?.State;
  const imageState = async (client: EC2Client, id: string) =>
    (await client.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images?.[0]?.State;

  const tags = [{ ResourceType: "volume" as const, Tags: [{ Key: "load", Value: name }] }];
  const vol = await call("create", "CreateVolume", () =>
    c.us.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a", TagSpecifications: tags })),
  );
  const volumeId = vol.VolumeId!;
  const data = seededBytes(name, 2 * BLOCK_SIZE);
  await bytes("write", () => c.adminUs.write(volumeId, 0, data));
  const snap = await call("create", "CreateSnapshot", () =>
    c.us.send(new CreateSnapshotCommand({ VolumeId: volumeId, Description: name })),
  );
  const snapshotId = snap.SnapshotId!;
  await until("DescribeSnapshots", async () => (await snapshotState(c.us, snapshotId)) === "completed");
  const image = await call("create", "RegisterImage", () =>
    c.us.send(
      new RegisterImageCommand({
        Name: name,
        RootDeviceName: "/dev/xvda",
        BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: snapshotId } }],
      }),
    ),
  );
  const imageId = image.ImageId!;
  await call("tags", "CreateTags", () =>
    c.us.send(
      new CreateTagsCommand({
        Resources: [volumeId, snapshotId, imageId],
        Tags: [
          { Key: "cycle", Value: name },
          { Key: "client", Value: String(c.index) },
        ],
      }),
    ),
  );
  await refused("DeleteSnapshot", "InvalidSnapshot.InUse", () =>
    c.us.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId })),
  );
  const sameCopy = await call("copy", "CopySnapshot", () =>
    c.us.send(new CopySnapshotCommand({ SourceRegion: "us-east-1", SourceSnapshotId: snapshotId })),
  );
  const crossCopy = await call("copy", "CopySnapshot", () =>
    c.eu.send(new CopySnapshotCommand({ SourceRegion: "us-east-1", SourceSnapshotId: snapshotId })),
  );
  const imageCopy = await call("copy", "CopyImage", () =>
    c.eu.send(
      new CopyImageCommand({ SourceRegion: "us-east-1", SourceImageId: imageId, Name: `${name}-eu` }),
    ),
  );
  const key = await call("key pairs", "CreateKeyPair", () =>
    c.us.send(new CreateKeyPairCommand({ KeyName: name, KeyType: "ed25519" })),
  );

  // Describes, each checked against what this client made.
  const mine = await call("describe", "DescribeVolumes", () =>
    c.us.send(new DescribeVolumesCommand({ Filters: [{ Name: "tag:load", Values: [name] }] })),
  );
  check(mine.Volumes?.length === 1 && mine.Volumes[0].VolumeId === volumeId, "DescribeVolumes by tag");
  const images = await call("describe", "DescribeImages", () =>
    c.us.send(new DescribeImagesCommand({ Owners: ["self"], Filters: [{ Name: "name", Values: [name] }] })),
  );
  check(images.Images?.[0]?.ImageId === imageId, "DescribeImages by name");
  await call("describe", "DescribeImages", () =>
    c.us.send(new DescribeImagesCommand({ Owners: ["self"], MaxResults: 10 })),
  );
  await call("describe", "DescribeSnapshots", () =>
    c.us.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"], MaxResults: 20 })),
  );
  const tagged = await call("describe", "DescribeTags", () =>
    c.us.send(new DescribeTagsCommand({ Filters: [{ Name: "resource-id", Values: [imageId] }] })),
  );
  check(tagged.Tags?.length === 2, "DescribeTags of the image");
  const keys = await call("key pairs", "DescribeKeyPairs", () =>
    c.us.send(new DescribeKeyPairsCommand({ KeyNames: [name] })),
  );
  check(keys.KeyPairs?.[0]?.KeyPairId === key.KeyPairId, "DescribeKeyPairs");
  await call("describe", "DescribeRegions", () => c.us.send(new DescribeRegionsCommand({})));
  await refused("DescribeImages", "InvalidAMIID.NotFound", () =>
    c.us.send(new DescribeImagesCommand({ ImageIds: [c.foreignImageId] })),
  );

  // Wait for the copies, then read the bytes back from the cross-region copy.
  await until(
    "DescribeSnapshots",
    async () => (await snapshotState(c.us, sameCopy.SnapshotId!)) === "completed",
  );
  await until(
    "DescribeSnapshots",
    async () => (await snapshotState(c.eu, crossCopy.SnapshotId!)) === "completed",
  );
  await until("DescribeImages", async () => (await imageState(c.eu, imageCopy.ImageId!)) === "available");
  const restored = await call("create", "CreateVolume", () =>
    c.eu.send(new CreateVolumeCommand({ SnapshotId: crossCopy.SnapshotId, AvailabilityZone: "eu-west-1a" })),
  );
  const back = await bytes("read", () => c.adminEu.read(restored.VolumeId!, 0, data.length));
  check(sha256(back) === sha256(data), "restored bytes");
  rec.contentChecks++;

  await call("tags", "DeleteTags", () =>
    c.us.send(
      new DeleteTagsCommand({ Resources: [volumeId, snapshotId, imageId], Tags: [{ Key: "client" }] }),
    ),
  );
  await call("delete", "DeleteVolume", () =>
    c.eu.send(new DeleteVolumeCommand({ VolumeId: restored.VolumeId })),
  );
  await call("delete", "DeregisterImage", () =>
    c.eu.send(new DeregisterImageCommand({ ImageId: imageCopy.ImageId, DeleteAssociatedSnapshots: true })),
  );
  await call("delete", "DeregisterImage", () => c.us.send(new DeregisterImageCommand({ ImageId: imageId })));
  await call("delete", "DeleteSnapshot", () =>
    c.eu.send(new DeleteSnapshotCommand({ SnapshotId: crossCopy.SnapshotId })),
  );
  await call("delete", "DeleteSnapshot", () =>
    c.us.send(new DeleteSnapshotCommand({ SnapshotId: sameCopy.SnapshotId })),
  );
  await call("delete", "DeleteSnapshot", () =>
    c.us.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId })),
  );
  await call("delete", "DeleteVolume", () => c.us.send(new DeleteVolumeCommand({ VolumeId: volumeId })));
  await call("key pairs", "DeleteKeyPair", () => c.us.send(new DeleteKeyPairCommand({ KeyName: name })));
  rec.cycles++;
}
