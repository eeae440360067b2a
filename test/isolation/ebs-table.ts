// Probes for the EBS direct APIs: every operation takes a snapshot id (ListChangedBlocks two).
import { createHash } from "node:crypto";
import {
  CompleteSnapshotCommand,
  GetSnapshotBlockCommand,
  ListChangedBlocksCommand,
  ListSnapshotBlocksCommand,
  PutSnapshotBlockCommand,
  StartSnapshotCommand,
} from "@aws-sdk/client-ebs";
import { BLOCK_SIZE, seededBytes } from "../helpers.ts";
import { type Probe, probe } from "./probes.ts";

const block = seededBytes("b-writes-here", BLOCK_SIZE);
const blockChecksum = createHash("sha256").update(block).digest("base64");
// A token of the right form for snapshots A was never given one for (deleted ones, say).
const ANY_TOKEN = Buffer.alloc(64, 7).toString("base64url");

export const ebsProbes: Record<string, Probe[]> = {
  StartSnapshot: [
    probe("snapshot", "ParentSnapshotId", (w, id) =>
      w.b.ebs.send(new StartSnapshotCommand({ VolumeSize: 1, ParentSnapshotId: id, Timeout: 60 })),
    ),
  ],
  PutSnapshotBlock: [
    probe("snapshot", "SnapshotId", (w, id) =>
      w.b.ebs.send(
        new PutSnapshotBlockCommand({
          SnapshotId: id,
          BlockIndex: 1,
          BlockData: block,
          DataLength: BLOCK_SIZE,
          Checksum: blockChecksum,
          ChecksumAlgorithm: "SHA256",
          Progress: 50,
        }),
      ),
    ),
  ],
  CompleteSnapshot: [
    probe("snapshot", "SnapshotId", (w, id) =>
      w.b.ebs.send(new CompleteSnapshotCommand({ SnapshotId: id, ChangedBlocksCount: 1 })),
    ),
  ],
  ListSnapshotBlocks: [
    probe("snapshot", "SnapshotId", (w, id) =>
      w.b.ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: id })),
    ),
  ],
  ListChangedBlocks: [
    probe("snapshot", "SecondSnapshotId", (w, id) =>
      w.b.ebs.send(new ListChangedBlocksCommand({ SecondSnapshotId: id })),
    ),
    probe("snapshot", "FirstSnapshotId (second: B's own)", (w, id) =>
      w.b.ebs.send(
        new ListChangedBlocksCommand({ FirstSnapshotId: id, SecondSnapshotId: w.bOwn.snapshotId }),
      ),
    ),
  ],
  // With the token A was given for the block: a token alone must not open another's snapshot.
  GetSnapshotBlock: [
    probe("snapshot", "SnapshotId (A's block token)", (w, id, t) =>
      w.b.ebs.send(
        new GetSnapshotBlockCommand({
          SnapshotId: id,
          BlockIndex: t.block?.index ?? 0,
          BlockToken: t.block?.token ?? ANY_TOKEN,
        }),
      ),
    ),
  ],
};
