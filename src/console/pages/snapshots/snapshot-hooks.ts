// Queries the snapshot pages share: the caller's account id, the lists, the stored bytes.
import type { Snapshot } from "@aws-sdk/client-ec2";
import { useQuery } from "@tanstack/react-query";
import {
  isPending,
  listSnapshots,
  type SnapshotScope,
  snapshotKeys,
  storageUsage,
} from "../../api/snapshots.ts";
import { whoAmI } from "../../app/account.ts";
import { useEc2, useSession } from "../../app/session-context.tsx";

/** The signed-in account's id (same query key as the account menu's, so one call). */
export function useAccountId(): string | undefined {
  const session = useSession();
  return useQuery({
    queryKey: ["account", session.credentials.accessKeyId],
    queryFn: () => whoAmI(session.credentials, session.region),
    staleTime: Number.POSITIVE_INFINITY,
  }).data?.accountId;
}

/** Polled every 2 s while any snapshot shown is pending, so progress moves without a reload. */
export function useSnapshots(scope: SnapshotScope) {
  const { region } = useSession();
  const ec2 = useEc2();
  const me = useAccountId();
  return useQuery({
    queryKey: snapshotKeys.list(region, scope),
    queryFn: () => listSnapshots(ec2, scope, me ?? ""),
    enabled: scope !== "shared" || !!me,
    refetchInterval: (q) => (q.state.data?.some(isPending) ? 2000 : 10_000),
  });
}

/** DescribeStorageUsage of the caller's own snapshots among those shown. */
export function useStoredBytes(snapshots: Snapshot[], owned: boolean) {
  const { region } = useSession();
  const ec2 = useEc2();
  const ids = owned ? snapshots.flatMap((s) => (s.SnapshotId ? [s.SnapshotId] : [])).sort() : [];
  // The pending ones in the key too: when one completes, its final numbers are fetched.
  const pending = snapshots.filter(isPending).map((s) => s.SnapshotId ?? "");
  return useQuery({
    queryKey: [...snapshotKeys.usage(region, "snapshot", ids), "pending", ...pending],
    queryFn: () => storageUsage(ec2, "snapshot", ids),
    enabled: ids.length > 0,
    refetchInterval: snapshots.some(isPending) ? 2000 : false,
  });
}
