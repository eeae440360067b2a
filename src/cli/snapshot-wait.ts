import { DescribeSnapshotsCommand, type EC2Client, type Snapshot } from "@aws-sdk/client-ec2";

/** Polls DescribeSnapshots until the snapshot is `completed` (quickly at first, then every 2 s). */
export async function waitForSnapshot(ec2: EC2Client, snapshotId: string): Promise<Snapshot> {
  for (let delay = 100; ; delay = Math.min(2000, delay * 2)) {
    const out = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }));
    const snapshot = out.Snapshots?.[0];
    if (!snapshot) throw new Error(`DescribeSnapshots does not list ${snapshotId}`);
    if (snapshot.State === "completed") return snapshot;
    if (snapshot.State === "error")
      throw new Error(`snapshot ${snapshotId} failed: ${snapshot.StateMessage ?? "no reason given"}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}
