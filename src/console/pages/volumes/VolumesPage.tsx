// Volumes, as the AWS console lists them: state live, the snapshot a volume was restored from, where
// it is attached, and (Strata restores lazily, as EBS does) the initialization progress of restored
// volumes from DescribeVolumeStatus, polled every 2 s until every one is at 100 %.
import type { Volume } from "@aws-sdk/client-ec2";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import ButtonDropdown from "@cloudscape-design/components/button-dropdown";
import Link from "@cloudscape-design/components/link";
import ProgressBar from "@cloudscape-design/components/progress-bar";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorText } from "../../api/errors.ts";
import { deleteVolume, initialization, isTransitioning, listVolumes, volumeKeys } from "../../api/volumes.ts";
import { href, useFollow } from "../../app/navigation.ts";
import { useNotify } from "../../app/notifications.tsx";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { ConfirmModal } from "../shared/ConfirmModal.tsx";
import { formatDate, nameTag } from "../shared/format.ts";
import { ResourceTable } from "../shared/ResourceTable.tsx";
import { StateIndicator } from "../shared/StateIndicator.tsx";
import { CreateSnapshotModal } from "./CreateSnapshotModal.tsx";
import { CreateVolumeModal } from "./CreateVolumeModal.tsx";

export function VolumesPage() {
  const { region } = useSession();
  const ec2 = useEc2();
  const follow = useFollow();
  const queries = useQueryClient();
  const { notify, fail } = useNotify();
  const [selected, setSelected] = useState<Volume[]>([]);
  const [creating, setCreating] = useState(false);
  const [snapshotOf, setSnapshotOf] = useState<string>();
  const [deleting, setDeleting] = useState(false);
  const volumes = useQuery({
    queryKey: volumeKeys.list(region),
    queryFn: () => listVolumes(ec2),
    refetchInterval: (q) => (q.state.data?.some(isTransitioning) ? 2000 : 10_000),
  });
  const status = useQuery({
    queryKey: volumeKeys.status(region),
    queryFn: () => initialization(ec2),
    refetchInterval: (q) => ([...(q.state.data?.values() ?? [])].some((p) => p < 100) ? 2000 : 10_000),
  });
  const remove = useMutation({
    mutationFn: (id: string) => deleteVolume(ec2, id),
    onSuccess: (_r, id) => {
      notify({ type: "success", header: `Deleted volume ${id}` });
      setSelected([]);
      queries.invalidateQueries({ queryKey: volumeKeys.all(region) });
    },
    onError: (e) => fail("Could not delete the volume", e),
    onSettled: () => setDeleting(false),
  });
  const one = selected.length === 1 ? selected[0] : undefined;
  const link = (path: string, text: string) => (
    <Link href={href(path)} onFollow={follow}>
      {text}
    </Link>
  );
  return (
    <SpaceBetween size="m">
      {volumes.error && <Box color="text-status-error">{errorText(volumes.error)}</Box>}
      <ResourceTable<Volume>
        title="Volumes"
        items={volumes.data ?? []}
        loading={volumes.isLoading}
        trackBy="VolumeId"
        selectionType="single"
        selected={selected}
        onSelect={setSelected}
        defaultSort={{ column: "created", descending: true }}
        actions={
          <SpaceBetween direction="horizontal" size="xs">
            <Button
              iconName="refresh"
              ariaLabel="Refresh volumes"
              onClick={() => queries.invalidateQueries({ queryKey: volumeKeys.all(region) })}
            />
            <ButtonDropdown
              disabled={!one}
              items={[
                { id: "snapshot", text: "Create snapshot" },
                { id: "delete", text: "Delete volume", disabled: one?.State !== "available" },
              ]}
              onItemClick={(e) => {
                if (e.detail.id === "snapshot") setSnapshotOf(one?.VolumeId);
                if (e.detail.id === "delete") setDeleting(true);
              }}
            >
              Actions
            </ButtonDropdown>
            <Button variant="primary" onClick={() => setCreating(true)}>
              Create volume
            </Button>
          </SpaceBetween>
        }
        columns={[
          { id: "name", header: "Name", cell: (v) => nameTag(v.Tags) || "-", sortingField: "Name" },
          {
            id: "id",
            header: "Volume ID",
            cell: (v) => v.VolumeId,
            sortingField: "VolumeId",
            isRowHeader: true,
          },
          {
            id: "state",
            header: "State",
            cell: (v) => <StateIndicator state={v.State} />,
            sortingField: "State",
          },
          {
            id: "init",
            header: "Initialization",
            cell: (v) => {
              const p = v.VolumeId ? status.data?.get(v.VolumeId) : undefined;
              if (p === undefined) return "-";
              return p < 100 ? (
                <ProgressBar
                  value={p}
                  ariaLabel={`Initialization of ${v.VolumeId}`}
                  additionalInfo={`${p} %`}
                />
              ) : (
                "100 %"
              );
            },
          },
          { id: "type", header: "Type", cell: (v) => v.VolumeType, sortingField: "VolumeType" },
          { id: "size", header: "Size", cell: (v) => `${v.Size} GiB`, sortingField: "Size" },
          {
            id: "snapshot",
            header: "Snapshot",
            cell: (v) => (v.SnapshotId ? link(`/snapshots/${v.SnapshotId}`, v.SnapshotId) : "-"),
          },
          {
            id: "az",
            header: "Availability Zone",
            cell: (v) => v.AvailabilityZone,
            sortingField: "AvailabilityZone",
          },
          {
            id: "attached",
            header: "Attached to",
            cell: (v) =>
              v.Attachments?.length
                ? v.Attachments.map((a) => (
                    <span key={a.InstanceId}>
                      {link(`/instances/${a.InstanceId}`, a.InstanceId ?? "")} ({a.Device})
                    </span>
                  ))
                : "-",
          },
          {
            id: "created",
            header: "Created",
            cell: (v) => formatDate(v.CreateTime),
            sortingField: "CreateTime",
          },
        ]}
      />
      <CreateVolumeModal visible={creating} onClose={() => setCreating(false)} />
      <CreateSnapshotModal volumeId={snapshotOf} onClose={() => setSnapshotOf(undefined)} />
      <ConfirmModal
        visible={deleting}
        title="Delete volume"
        confirmLabel="Delete"
        busy={remove.isPending}
        onCancel={() => setDeleting(false)}
        onConfirm={() => one?.VolumeId && remove.mutate(one.VolumeId)}
      >
        Delete volume <b>{one?.VolumeId}</b>? Its data is gone for good (its snapshots stay).
      </ConfirmModal>
    </SpaceBetween>
  );
}
