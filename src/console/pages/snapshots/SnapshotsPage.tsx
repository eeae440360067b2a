// Snapshots, as the AWS console lists them: owned by me / shared with me / public, pending ones with
// their progress (polled every 2 s), the stored bytes of one's own (DescribeStorageUsage), and the
// actions Create volume from snapshot, Copy snapshot, Modify permissions and Delete snapshot.
import type { Snapshot } from "@aws-sdk/client-ec2";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import ButtonDropdown from "@cloudscape-design/components/button-dropdown";
import Link from "@cloudscape-design/components/link";
import SegmentedControl from "@cloudscape-design/components/segmented-control";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorText } from "../../api/errors.ts";
import { deleteSnapshot, type SnapshotScope, snapshotKeys } from "../../api/snapshots.ts";
import { href, useFollow } from "../../app/navigation.ts";
import { useNotify } from "../../app/notifications.tsx";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { ConfirmModal } from "../shared/ConfirmModal.tsx";
import { formatBytes, formatDate, nameTag } from "../shared/format.ts";
import { ResourceTable } from "../shared/ResourceTable.tsx";
import { StateIndicator } from "../shared/StateIndicator.tsx";
import { CreateVolumeModal } from "../volumes/CreateVolumeModal.tsx";
import { CopySnapshotModal } from "./CopySnapshotModal.tsx";
import { SnapshotPermissionsModal } from "./SnapshotPermissionsModal.tsx";
import { useSnapshots, useStoredBytes } from "./snapshot-hooks.ts";

type Dialog = "volume" | "copy" | "permissions" | "delete" | undefined;

export function SnapshotsPage() {
  const { region } = useSession();
  const ec2 = useEc2();
  const follow = useFollow();
  const queries = useQueryClient();
  const { notify, fail } = useNotify();
  const [scope, setScope] = useState<SnapshotScope>("owned");
  const [selected, setSelected] = useState<Snapshot[]>([]);
  const [dialog, setDialog] = useState<Dialog>();
  const snapshots = useSnapshots(scope);
  const items = snapshots.data ?? [];
  const stored = useStoredBytes(items, scope === "owned");
  const one = selected.length === 1 ? selected[0] : undefined;
  const remove = useMutation({
    mutationFn: (id: string) => deleteSnapshot(ec2, id),
    onSuccess: (_r, id) => {
      notify({ type: "success", header: `Deleted snapshot ${id}` });
      setSelected([]);
      // The lists only: the usage query of the old ids would ask about the deleted one (NotFound).
      queries.invalidateQueries({ queryKey: snapshotKeys.lists(region) });
    },
    // E.g. InvalidSnapshot.InUse when an AMI uses it: shown as the API says it.
    onError: (e) => fail("Could not delete the snapshot", e),
    onSettled: () => setDialog(undefined),
  });
  const owned = scope === "owned";
  return (
    <SpaceBetween size="m">
      {snapshots.error && <Box color="text-status-error">{errorText(snapshots.error)}</Box>}
      <ResourceTable<Snapshot>
        title="Snapshots"
        items={items}
        loading={snapshots.isLoading}
        trackBy="SnapshotId"
        selectionType="single"
        selected={selected}
        onSelect={setSelected}
        defaultSort={{ column: "started", descending: true }}
        filters={
          <SegmentedControl
            label="Snapshots to show"
            selectedId={scope}
            onChange={(e) => {
              setScope(e.detail.selectedId as SnapshotScope);
              setSelected([]);
            }}
            options={[
              { id: "owned", text: "Owned by me" },
              { id: "shared", text: "Shared with me" },
              { id: "public", text: "Public" },
            ]}
          />
        }
        actions={
          <SpaceBetween direction="horizontal" size="xs">
            <Button
              iconName="refresh"
              ariaLabel="Refresh snapshots"
              onClick={() => queries.invalidateQueries({ queryKey: snapshotKeys.all(region) })}
            />
            <ButtonDropdown
              disabled={!one}
              items={[
                { id: "volume", text: "Create volume from snapshot", disabled: one?.State !== "completed" },
                { id: "copy", text: "Copy snapshot", disabled: one?.State !== "completed" },
                { id: "permissions", text: "Modify permissions", disabled: !owned },
                { id: "delete", text: "Delete snapshot", disabled: !owned },
              ]}
              onItemClick={(e) => setDialog(e.detail.id as Dialog)}
            >
              Actions
            </ButtonDropdown>
          </SpaceBetween>
        }
        columns={[
          { id: "name", header: "Name", cell: (s) => nameTag(s.Tags) || "-" },
          {
            id: "id",
            header: "Snapshot ID",
            isRowHeader: true,
            sortingField: "SnapshotId",
            cell: (s) => (
              <Link href={href(`/snapshots/${s.SnapshotId}`)} onFollow={follow}>
                {s.SnapshotId}
              </Link>
            ),
          },
          {
            id: "state",
            header: "Status",
            sortingField: "State",
            cell: (s) => <StateIndicator state={s.State} progress={s.Progress} />,
          },
          {
            id: "size",
            header: "Volume size",
            cell: (s) => `${s.VolumeSize} GiB`,
            sortingField: "VolumeSize",
          },
          {
            id: "stored",
            header: "Stored bytes",
            cell: (s) =>
              owned && s.SnapshotId ? formatBytes(stored.data?.get(s.SnapshotId)?.StoredBytes) : "-",
          },
          { id: "description", header: "Description", cell: (s) => s.Description || "-" },
          {
            id: "started",
            header: "Started",
            cell: (s) => formatDate(s.StartTime),
            sortingField: "StartTime",
          },
          { id: "owner", header: "Owner", cell: (s) => s.OwnerAlias ?? s.OwnerId, sortingField: "OwnerId" },
        ]}
      />
      <CreateVolumeModal
        key={one?.SnapshotId}
        visible={dialog === "volume"}
        snapshot={one}
        onClose={() => setDialog(undefined)}
      />
      <CopySnapshotModal
        snapshot={dialog === "copy" ? one : undefined}
        onClose={() => setDialog(undefined)}
      />
      <SnapshotPermissionsModal
        snapshot={dialog === "permissions" ? one : undefined}
        onClose={() => setDialog(undefined)}
      />
      <ConfirmModal
        visible={dialog === "delete"}
        title="Delete snapshot"
        confirmLabel="Delete"
        busy={remove.isPending}
        onCancel={() => setDialog(undefined)}
        onConfirm={() => one?.SnapshotId && remove.mutate(one.SnapshotId)}
      >
        Delete snapshot <b>{one?.SnapshotId}</b>? Volumes restored from it keep their data.
      </ConfirmModal>
    </SpaceBetween>
  );
}
