// One snapshot: its fields (live while pending), tags, who may create volumes from it (owner only),
// and its storage usage (stored, unique, shared bytes, with a chart).
import Box from "@cloudscape-design/components/box";
import BreadcrumbGroup from "@cloudscape-design/components/breadcrumb-group";
import Container from "@cloudscape-design/components/container";
import Header from "@cloudscape-design/components/header";
import KeyValuePairs from "@cloudscape-design/components/key-value-pairs";
import Link from "@cloudscape-design/components/link";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import { useQuery } from "@tanstack/react-query";
import { useParams } from "react-router";
import { errorText } from "../../api/errors.ts";
import { getSnapshot, snapshotKeys, snapshotPermissions } from "../../api/snapshots.ts";
import { href, useFollow } from "../../app/navigation.ts";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { formatDate, nameTag } from "../shared/format.ts";
import { StateIndicator } from "../shared/StateIndicator.tsx";
import { SnapshotStorage } from "../storage/StorageUsage.tsx";
import { useAccountId } from "./snapshot-hooks.ts";

export function SnapshotDetailsPage() {
  const id = useParams().id ?? "";
  const { region } = useSession();
  const ec2 = useEc2();
  const follow = useFollow();
  const me = useAccountId();
  const q = useQuery({
    queryKey: snapshotKeys.one(region, id),
    queryFn: () => getSnapshot(ec2, id),
    refetchInterval: (query) => (query.state.data?.State === "pending" ? 2000 : false),
  });
  const s = q.data;
  const mine = !!s && !!me && s.OwnerId === me;
  const perms = useQuery({
    queryKey: snapshotKeys.permissions(region, id),
    queryFn: () => snapshotPermissions(ec2, id),
    enabled: mine,
  });
  const name = nameTag(s?.Tags);
  return (
    <SpaceBetween size="l">
      <BreadcrumbGroup
        ariaLabel="Breadcrumbs"
        onFollow={follow}
        items={[
          { text: "Snapshots", href: href("/snapshots") },
          { text: id, href: href(`/snapshots/${id}`) },
        ]}
      />
      <Header variant="h1">{name ? `${id} (${name})` : id}</Header>
      {q.error && <Box color="text-status-error">{errorText(q.error)}</Box>}
      {s && (
        <Container header={<Header variant="h2">Details</Header>}>
          <KeyValuePairs
            columns={3}
            items={[
              { label: "Snapshot ID", value: s.SnapshotId },
              { label: "Status", value: <StateIndicator state={s.State} progress={s.Progress} /> },
              { label: "Progress", value: s.Progress ?? "-" },
              { label: "Volume size", value: `${s.VolumeSize} GiB` },
              {
                label: "Source volume",
                value: s.VolumeId && s.VolumeId !== "vol-ffffffff" ? s.VolumeId : "-",
              },
              { label: "Started", value: formatDate(s.StartTime) },
              { label: "Description", value: s.Description || "-" },
              { label: "Owner", value: s.OwnerAlias ? `${s.OwnerAlias} (${s.OwnerId})` : s.OwnerId },
              { label: "Encryption", value: s.Encrypted ? "Encrypted" : "Not encrypted" },
              ...(s.StateMessage ? [{ label: "State message", value: s.StateMessage }] : []),
            ]}
          />
        </Container>
      )}
      {s && (
        <Table
          header={<Header variant="h2">Tags</Header>}
          ariaLabels={{ tableLabel: "Tags" }}
          items={s.Tags ?? []}
          variant="container"
          columnDefinitions={[
            { id: "key", header: "Key", cell: (t) => t.Key, isRowHeader: true },
            { id: "value", header: "Value", cell: (t) => t.Value || "-" },
          ]}
          empty={<Box color="inherit">No tags</Box>}
        />
      )}
      {mine && (
        <Container header={<Header variant="h2">Permissions</Header>}>
          {perms.error ? (
            <Box color="text-status-error">{errorText(perms.error)}</Box>
          ) : (
            <KeyValuePairs
              columns={2}
              items={[
                {
                  label: "Visibility",
                  value: perms.data ? (perms.data.isPublic ? "Public" : "Private") : "-",
                },
                {
                  label: "Shared with accounts",
                  value: perms.data?.accounts.length ? perms.data.accounts.join(", ") : "None",
                },
              ]}
            />
          )}
        </Container>
      )}
      {mine && <SnapshotStorage snapshotId={id} pending={s?.State === "pending"} />}
      {s && !mine && me && (
        <Box color="text-body-secondary">
          Storage usage is shown to the snapshot's owner only.{" "}
          <Link href={href("/snapshots")} onFollow={follow}>
            Back to snapshots
          </Link>
        </Box>
      )}
    </SpaceBetween>
  );
}
