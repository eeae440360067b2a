// The test world: a daemon, accounts A (alias alpha-corp), B and C, and A's resources in every
// state B could know an id in: private, shared with B then unshared, deleted, and shared.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  EBSClient,
  ListSnapshotBlocksCommand,
  PutSnapshotBlockCommand,
  StartSnapshotCommand,
} from "@aws-sdk/client-ebs";
import {
  CreateKeyPairCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DeleteKeyPairCommand,
  DeleteSnapshotCommand,
  DeleteVolumeCommand,
  DeregisterImageCommand,
  type EC2Client,
  ModifyImageAttributeCommand,
  ModifySnapshotAttributeCommand,
  RegisterImageCommand,
  type Tag,
  waitUntilSnapshotCompleted,
} from "@aws-sdk/client-ec2";
import type { Daemon } from "../daemon.ts";
import { type Account, ec2 } from "../ec2-helpers.ts";
import { BLOCK_SIZE, MiB, seededBytes } from "../helpers.ts";
import { aNetwork, bNetwork } from "./network-world.ts";
import type { Party, Target, World } from "./probes.ts";

const run = promisify(execFile);
const STRATA = join(import.meta.dirname, "..", "..", "bin", "strata");

/** `strata accounts create`, with an alias when given, and the account's clients. */
export async function party(daemon: Daemon, dataDir: string, name: string, alias?: string): Promise<Party> {
  const args = ["accounts", "create", name, "--data-dir", dataDir, "--json"];
  const { stdout } = await run(STRATA, alias ? [...args, "--alias", alias] : args);
  const account = JSON.parse(stdout) as Account;
  return {
    account,
    ec2: ec2(daemon, account),
    ec2Eu: ec2(daemon, account, "eu-west-1"),
    ebs: new EBSClient({ endpoint: daemon.url, region: "us-east-1", credentials: account, maxAttempts: 1 }),
  };
}

const tagged = (resource: "volume" | "snapshot" | "image", Tags: Tag[]) => [{ ResourceType: resource, Tags }];
const waiter = (client: EC2Client) => ({ client, maxWaitTime: 120, minDelay: 1, maxDelay: 1 });

export async function volume(p: Party, tags: Tag[] = []): Promise<string> {
  const v = await p.ec2.send(
    new CreateVolumeCommand({
      Size: 1,
      AvailabilityZone: "us-east-1a",
      TagSpecifications: tags.length ? tagged("volume", tags) : undefined,
    }),
  );
  return v.VolumeId!;
}

export async function snapshot(p: Party, volumeId: string, description: string, tags: Tag[] = []) {
  const s = await p.ec2.send(
    new CreateSnapshotCommand({
      VolumeId: volumeId,
      Description: description,
      TagSpecifications: tags.length ? tagged("snapshot", tags) : undefined,
    }),
  );
  await waitUntilSnapshotCompleted(waiter(p.ec2), { SnapshotIds: [s.SnapshotId!] });
  return s.SnapshotId!;
}

export async function image(p: Party, snapshotId: string, name: string, tags: Tag[] = []): Promise<string> {
  const i = await p.ec2.send(
    new RegisterImageCommand({
      Name: name,
      RootDeviceName: "/dev/xvda",
      BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: snapshotId } }],
      TagSpecifications: tags.length ? tagged("image", tags) : undefined,
    }),
  );
  return i.ImageId!;
}

export const shareSnapshot = (p: Party, id: string, add: string[], remove: string[] = []) =>
  p.ec2.send(
    new ModifySnapshotAttributeCommand({
      SnapshotId: id,
      Attribute: "createVolumePermission",
      CreateVolumePermission: {
        Add: add.map((UserId) => ({ UserId })),
        Remove: remove.map((UserId) => ({ UserId })),
      },
    }),
  );

export const shareImage = (p: Party, id: string, add: string[], remove: string[] = []) =>
  p.ec2.send(
    new ModifyImageAttributeCommand({
      ImageId: id,
      LaunchPermission: {
        Add: add.map((UserId) => ({ UserId })),
        Remove: remove.map((UserId) => ({ UserId })),
      },
    }),
  );

/** The first block of a completed snapshot and the token its reader was given for it. */
async function firstBlock(p: Party, snapshotId: string) {
  const page = await p.ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: snapshotId }));
  const b = page.Blocks![0];
  return { index: b.BlockIndex!, token: b.BlockToken! };
}

export const A_TAGS: Tag[] = [{ Key: "secret", Value: "a-private-tag" }];

export interface StorageWorld extends World {
  /** A's resources that exist and whose contents the suite checks. */
  aContent: { volumes: string[]; snapshots: string[] };
  /**
   * A's volume, snapshot and image shared with B and C, and an image shared with B alone whose
   * snapshot is not (none probed: B may see them).
   */
  aShared: { volumeId: string; snapshotId: string; imageId: string; launchOnlyImageId: string };
  aPendingSnapshot: { id: string; block: Buffer };
}

/**
 * A's resources: a volume with data (2 MiB at 0) and one deleted; snapshots of it private,
 * unshared, deleted (shared with B first) and one pending through the EBS APIs; images likewise;
 * a key pair and a deleted one; an image shared with B on a snapshot not shared; all tagged. A
 * separate volume, snapshot and image are shared with B and C. B has its own volume, snapshot
 * and image, the last two shared with C.
 */
export async function storageWorld(daemon: Daemon, dataDir: string): Promise<StorageWorld> {
  const [a, b, c] = await Promise.all([
    party(daemon, dataDir, "alpha", "alpha-corp"),
    party(daemon, dataDir, "bravo"),
    party(daemon, dataDir, "charlie"),
  ]);
  const B = b.account.accountId;
  const C = c.account.accountId;

  const vol = await volume(a, A_TAGS);
  await daemon.client("us-east-1", a.account.accountId).write(vol, 0, seededBytes("a-data", 2 * MiB));
  const volDeleted = await volume(a, A_TAGS);
  await a.ec2.send(new DeleteVolumeCommand({ VolumeId: volDeleted }));

  const snapPrivate = await snapshot(a, vol, "a private", A_TAGS);
  const snapUnshared = await snapshot(a, vol, "a unshared", A_TAGS);
  const snapDeleted = await snapshot(a, vol, "a deleted", A_TAGS);
  const blocks = {
    private: await firstBlock(a, snapPrivate),
    unshared: await firstBlock(a, snapUnshared),
    deleted: await firstBlock(a, snapDeleted),
  };
  await shareSnapshot(a, snapUnshared, [B]);
  await shareSnapshot(a, snapUnshared, [], [B]);
  await shareSnapshot(a, snapDeleted, [B]);
  await a.ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapDeleted }));

  const pendingBlock = seededBytes("a-pending", BLOCK_SIZE);
  const pending = await a.ebs.send(new StartSnapshotCommand({ VolumeSize: 1, Timeout: 4320 }));
  await a.ebs.send(
    new PutSnapshotBlockCommand({
      SnapshotId: pending.SnapshotId,
      BlockIndex: 0,
      BlockData: pendingBlock,
      DataLength: BLOCK_SIZE,
      Checksum: createHash("sha256").update(pendingBlock).digest("base64"),
      ChecksumAlgorithm: "SHA256",
    }),
  );

  const imgPrivate = await image(a, snapPrivate, "a-private", A_TAGS);
  const imgUnshared = await image(a, snapUnshared, "a-unshared", A_TAGS);
  const imgDeleted = await image(a, snapPrivate, "a-deregistered", A_TAGS);
  await shareImage(a, imgUnshared, [B]);
  await shareImage(a, imgUnshared, [], [B]);
  await shareImage(a, imgDeleted, [B]);
  await a.ec2.send(new DeregisterImageCommand({ ImageId: imgDeleted }));

  const key = await a.ec2.send(new CreateKeyPairCommand({ KeyName: "a-key", KeyType: "ed25519" }));
  const oldKey = await a.ec2.send(new CreateKeyPairCommand({ KeyName: "a-old-key", KeyType: "ed25519" }));
  await a.ec2.send(new DeleteKeyPairCommand({ KeyName: "a-old-key" }));

  // Shared with B and C: a separate volume, so no probe of A's private ids can match them.
  const volShared = await volume(a, A_TAGS);
  await daemon.client("us-east-1", a.account.accountId).write(volShared, 0, seededBytes("a-shared", MiB));
  const snapShared = await snapshot(a, volShared, "a shared", A_TAGS);
  await shareSnapshot(a, snapShared, [B, C]);
  const imgShared = await image(a, snapShared, "a-shared", A_TAGS);
  await shareImage(a, imgShared, [B, C]);

  // Launch permission only: B may launch it, but not read (or copy) the snapshot behind it.
  const snapBacking = await snapshot(a, vol, "a backs a shared image", A_TAGS);
  const blockBacking = await firstBlock(a, snapBacking);
  const imgLaunchOnly = await image(a, snapBacking, "a-launch-only", A_TAGS);
  await shareImage(a, imgLaunchOnly, [B]);

  // B's own, shared with C: what B may know of C's access is what B granted itself.
  const volB = await volume(b);
  const snapB = await snapshot(b, volB, "b's own");
  const imgB = await image(b, snapB, "b-own");
  await shareSnapshot(b, snapB, [C]);
  await shareImage(b, imgB, [C]);

  const network = await aNetwork(a, A_TAGS);
  const bNet = await bNetwork(b);

  const targets: Target[] = [
    ...network,
    { kind: "volume", state: "private", id: vol },
    { kind: "volume", state: "deleted", id: volDeleted },
    { kind: "snapshot", state: "private", id: snapPrivate, block: blocks.private },
    { kind: "snapshot", state: "unshared", id: snapUnshared, block: blocks.unshared },
    { kind: "snapshot", state: "deleted", id: snapDeleted, block: blocks.deleted },
    { kind: "snapshot", state: "pending private", id: pending.SnapshotId! },
    {
      kind: "snapshot",
      state: "private, backing an image shared with B",
      id: snapBacking,
      block: blockBacking,
      backsSharedImage: true,
    },
    { kind: "image", state: "private", id: imgPrivate },
    { kind: "image", state: "unshared", id: imgUnshared },
    { kind: "image", state: "deregistered", id: imgDeleted },
    { kind: "keyName", state: "private", id: "a-key" },
    { kind: "keyName", state: "deleted", id: "a-old-key" },
    { kind: "keyId", state: "private", id: key.KeyPairId! },
    { kind: "keyId", state: "deleted", id: oldKey.KeyPairId! },
  ];
  return {
    daemon,
    dataDir,
    a,
    b,
    c,
    targets,
    bOwn: { volumeId: volB, snapshotId: snapB, imageId: imgB },
    bNet,
    secrets: [
      a.account.accountId,
      C,
      "alpha-corp",
      "a-private-tag",
      ...targets.filter((t) => t.kind !== "keyName" && t.kind !== "securityGroupName").map((t) => t.id),
    ],
    aContent: { volumes: [vol, volShared], snapshots: [snapPrivate, snapUnshared, snapBacking, snapShared] },
    aShared: {
      volumeId: volShared,
      snapshotId: snapShared,
      imageId: imgShared,
      launchOnlyImageId: imgLaunchOnly,
    },
    aPendingSnapshot: { id: pending.SnapshotId!, block: pendingBlock },
  };
}
