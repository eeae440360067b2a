// Real resources the fuzzers' requests name (`@{vol.a.0}`): volumes, snapshots, images and key
// pairs, security groups of the caller (a), of another account (b, some shared with a), and of a in eu-west-1;
// EBS direct snapshots (pending ones to write to, a completed child of snap.a.0) and a block
// token. Recreated when a fuzz request deletes or completes one, so later cases still reach them.
import { createHash, generateKeyPairSync } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import {
  CompleteSnapshotCommand,
  EBSClient,
  ListSnapshotBlocksCommand,
  PutSnapshotBlockCommand,
  StartSnapshotCommand,
} from "@aws-sdk/client-ebs";
import {
  CopySnapshotCommand,
  CreateSecurityGroupCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  EnableImageDeregistrationProtectionCommand,
  ImportKeyPairCommand,
  ModifyImageAttributeCommand,
  ModifySnapshotAttributeCommand,
  RegisterImageCommand,
  waitUntilSnapshotCompleted,
} from "@aws-sdk/client-ec2";
import { sshPublicKeyBlob } from "../../src/compute/keys/ssh-wire.ts";
import type { Daemon } from "../daemon.ts";
import { type Account, ec2 } from "../ec2-helpers.ts";

export interface PoolDeps {
  daemon: Daemon;
  admin: Account;
  bob: Account;
  /** Read-only connections to each region's metadata.db, to see what still exists. */
  db(region: string): DatabaseSync;
}

interface Slot {
  /** Whether the slot's resource (id) is still there, as the fuzzers expect it. */
  exists(id: string): boolean;
  create(): Promise<string>;
}

const EAST = "us-east-1";
const WEST = "eu-west-1";

export class Pool {
  readonly values = new Map<string, string>();
  readonly #clients: Record<string, EC2Client> = {};
  readonly #ebs: Record<string, EBSClient> = {};
  readonly #slots: [string, Slot][];
  #counter = 0;

  constructor(deps: PoolDeps) {
    for (const [who, account] of [
      ["a", deps.admin],
      ["b", deps.bob],
    ] as const)
      for (const region of [EAST, WEST]) {
        this.#clients[`${who}/${region}`] = ec2(deps.daemon, account, region);
        this.#ebs[`${who}/${region}`] = new EBSClient({
          endpoint: deps.daemon.url,
          region,
          credentials: account,
          maxAttempts: 1,
        });
      }
    const { publicKey } = generateKeyPairSync("ed25519");
    const line = `ssh-ed25519 ${sshPublicKeyBlob(publicKey).toString("base64")} fuzz@strata`;
    this.values.set("pubkey", Buffer.from(line).toString("base64"));
    this.values.set("acct.a", deps.admin.accountId);
    this.values.set("acct.b", deps.bob.accountId);
    const client = (who: "a" | "b", region = EAST) => this.#clients[`${who}/${region}`];
    const volume = (who: "a" | "b", data: boolean) => async () => {
      const v = await client(who).send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a" }));
      if (data) {
        const owner = who === "a" ? deps.admin.accountId : deps.bob.accountId;
        await deps.daemon.client(EAST, owner).write(v.VolumeId!, 0, Buffer.alloc(64 * 1024, 0x5a));
      }
      return v.VolumeId!;
    };
    const snapshot =
      (who: "a" | "b", volumeSlot: string, shareWithA = false) =>
      async () => {
        const c = client(who);
        const s = await c.send(new CreateSnapshotCommand({ VolumeId: this.values.get(volumeSlot) }));
        await waitUntilSnapshotCompleted(
          { client: c, maxWaitTime: 60, minDelay: 1 },
          { SnapshotIds: [s.SnapshotId!] },
        );
        if (shareWithA) {
          await c.send(
            new ModifySnapshotAttributeCommand({
              SnapshotId: s.SnapshotId,
              Attribute: "createVolumePermission",
              CreateVolumePermission: { Add: [{ UserId: deps.admin.accountId }] },
            }),
          );
        }
        return s.SnapshotId!;
      };
    const image =
      (
        who: "a" | "b",
        snapshotSlot: string,
        options: { region?: string; share?: boolean; protect?: boolean } = {},
      ) =>
      async () => {
        const c = client(who, options.region);
        const i = await c.send(
          new RegisterImageCommand({
            Name: `pool-${who}-${++this.#counter}`,
            RootDeviceName: "/dev/xvda",
            BlockDeviceMappings: [
              { DeviceName: "/dev/xvda", Ebs: { SnapshotId: this.values.get(snapshotSlot) } },
            ],
          }),
        );
        if (options.share)
          await c.send(
            new ModifyImageAttributeCommand({
              ImageId: i.ImageId,
              LaunchPermission: { Add: [{ UserId: deps.admin.accountId }] },
            }),
          );
        if (options.protect)
          await c.send(new EnableImageDeregistrationProtectionCommand({ ImageId: i.ImageId }));
        return i.ImageId!;
      };
    const key = (who: "a" | "b") => async () => {
      const c = client(who);
      const name = `pool-key-${who}-${++this.#counter}`;
      await c.send(new ImportKeyPairCommand({ KeyName: name, PublicKeyMaterial: Buffer.from(line) }));
      const k = await c.send(new DescribeKeyPairsCommand({ KeyNames: [name] }));
      this.values.set(`keyid.${who}.0`, k.KeyPairs![0].KeyPairId!);
      return name;
    };
    const row = (region: string, sql: string) => (id: string) =>
      deps.db(region).prepare(sql).get(id) !== undefined;
    const volumeRow = row(EAST, "SELECT 1 FROM volumes WHERE id = ?");
    const completed = (region = EAST) =>
      row(region, "SELECT 1 FROM snapshots WHERE id = ? AND state = 'completed'");
    const pending = row(EAST, "SELECT 1 FROM snapshots WHERE id = ? AND state = 'pending'");
    const available = (region = EAST) =>
      row(region, "SELECT 1 FROM images WHERE id = ? AND state = 'available'");
    const keyRow = (who: "a" | "b") => (name: string) =>
      deps
        .db(EAST)
        .prepare("SELECT 1 FROM key_pairs WHERE name = ? AND id = ?")
        .get(name, this.values.get(`keyid.${who}.0`) ?? "") !== undefined;
    const direct = (who: "a" | "b", parentSlot?: string) => async () => {
      const ebs = this.#ebs[`${who}/${EAST}`];
      const s = await ebs.send(
        new StartSnapshotCommand({
          VolumeSize: 1,
          Timeout: 60,
          ParentSnapshotId: parentSlot && this.values.get(parentSlot),
        }),
      );
      if (!parentSlot) return s.SnapshotId!;
      const block = Buffer.alloc(512 * 1024, 0x33);
      await ebs.send(
        new PutSnapshotBlockCommand({
          SnapshotId: s.SnapshotId,
          BlockIndex: 1,
          BlockData: block,
          DataLength: block.length,
          Checksum: createHash("sha256").update(block).digest("base64"),
          ChecksumAlgorithm: "SHA256",
        }),
      );
      await ebs.send(new CompleteSnapshotCommand({ SnapshotId: s.SnapshotId, ChangedBlocksCount: 1 }));
      return s.SnapshotId!;
    };
    // A block token for block 0 of snap.a.0 (valid only while that snapshot is the slot's).
    let tokenFor = "";
    const token = async () => {
      tokenFor = this.values.get("snap.a.0")!;
      const list = await this.#ebs[`a/${EAST}`].send(new ListSnapshotBlocksCommand({ SnapshotId: tokenFor }));
      return list.Blocks![0].BlockToken!;
    };
    const group = (who: "a" | "b") => async () => {
      const name = `pool-sg-${++this.#counter}`;
      const g = await client(who).send(
        new CreateSecurityGroupCommand({ GroupName: name, Description: "pool" }),
      );
      return g.GroupId!;
    };
    // Every account has a default VPC and group in every region (Strata makes them on first use,
    // as EC2 does for new accounts): made here, so no fuzzed request is that first use.
    const defaultGroup = (who: "a" | "b", region: string) => async () => {
      const d = await client(who, region).send(
        new DescribeSecurityGroupsCommand({ GroupNames: ["default"] }),
      );
      return d.SecurityGroups![0].GroupId!;
    };
    const groupRow = (region: string) => row(region, "SELECT 1 FROM security_groups WHERE id = ?");
    const slot = (exists: Slot["exists"], create: Slot["create"]): Slot => ({ exists, create });
    // In dependency order: a snapshot after its volume, an image after its snapshot.
    this.#slots = [
      ["vol.a.0", slot(volumeRow, volume("a", true))],
      ["vol.a.1", slot(volumeRow, volume("a", false))],
      ["vol.b.0", slot(volumeRow, volume("b", true))],
      ["snap.a.0", slot(completed(), snapshot("a", "vol.a.0"))],
      ["snap.a.1", slot(completed(), snapshot("a", "vol.a.0"))],
      ["snap.b.0", slot(completed(), snapshot("b", "vol.b.0"))],
      ["snap.b.1", slot(completed(), snapshot("b", "vol.b.0", true))],
      [
        "snap.e.0",
        slot(completed(WEST), async () => {
          const c = client("a", WEST);
          const s = await c.send(
            new CopySnapshotCommand({ SourceRegion: EAST, SourceSnapshotId: this.values.get("snap.a.1") }),
          );
          await waitUntilSnapshotCompleted(
            { client: c, maxWaitTime: 60, minDelay: 1 },
            { SnapshotIds: [s.SnapshotId!] },
          );
          return s.SnapshotId!;
        }),
      ],
      ["ami.a.0", slot(available(), image("a", "snap.a.0"))],
      ["ami.a.1", slot(available(), image("a", "snap.a.0", { protect: true }))],
      ["ami.b.0", slot(available(), image("b", "snap.b.0"))],
      ["ami.b.1", slot(available(), image("b", "snap.b.1", { share: true }))],
      ["ami.e.0", slot(available(WEST), image("a", "snap.e.0", { region: WEST }))],
      ["key.a.0", slot(keyRow("a"), key("a"))],
      ["key.b.0", slot(keyRow("b"), key("b"))],
      ["dsnap.a.0", slot(pending, direct("a"))],
      ["dsnap.b.0", slot(pending, direct("b"))],
      ["dsnap.a.1", slot(completed(), direct("a", "snap.a.0"))],
      ["token.a.0", slot(() => tokenFor === this.values.get("snap.a.0"), token)],
      ["sgd.a", slot(groupRow(EAST), defaultGroup("a", EAST))],
      ["sgd.b", slot(groupRow(EAST), defaultGroup("b", EAST))],
      ["sgd.ae", slot(groupRow(WEST), defaultGroup("a", WEST))],
      ["sgd.be", slot(groupRow(WEST), defaultGroup("b", WEST))],
      ["sg.a.0", slot(groupRow(EAST), group("a"))],
      ["sg.b.0", slot(groupRow(EAST), group("b"))],
    ];
  }

  /** Creates every slot whose resource is gone (all of them the first time). Returns how many. */
  async ensure(): Promise<number> {
    let created = 0;
    for (const [name, slot] of this.#slots) {
      const id = this.values.get(name);
      if (id !== undefined && slot.exists(id)) continue;
      this.values.set(name, await slot.create());
      created++;
    }
    return created;
  }

  /** `@{slot}` references replaced by the resources' ids. */
  resolve(text: string, encode: (id: string) => string = (id) => id): string {
    return text.includes("@{")
      ? text.replace(/@\{([a-z0-9.]+)\}/g, (m, slot) => {
          const id = this.values.get(slot);
          return id === undefined ? m : encode(id);
        })
      : text;
  }

  /** The pool's ids, to show failing requests symbolically. */
  symbolize(text: string): string {
    let out = text;
    for (const [slot, id] of this.values)
      if (slot !== "pubkey" && id.length > 4) out = out.split(id).join(`@{${slot}}`);
    return out;
  }
}
