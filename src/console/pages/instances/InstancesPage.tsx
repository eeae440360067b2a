// Instances: the EC2 console's list, live (polled fast while any instance is changing state),
// newest first, with the Instance state and Actions menus acting on the selection. Terminated
// instances stay listed while DescribeInstances still returns them (about an hour, as on EC2).
import type { Instance } from "@aws-sdk/client-ec2";
import Alert from "@cloudscape-design/components/alert";
import Button from "@cloudscape-design/components/button";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { errorText } from "../../api/errors.ts";
import { instanceKeys, listInstances } from "../../api/instances.ts";
import { href, useFollow } from "../../app/navigation.ts";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { ResourceTable } from "../shared/ResourceTable.tsx";
import { InstanceActionsMenu } from "./InstanceActionsMenu.tsx";
import { InstanceStateMenu } from "./InstanceStateMenu.tsx";
import { type InstanceRow, instanceColumns, toRow } from "./instance-columns.tsx";
import { pollInterval } from "./instance-state.ts";

export function InstancesPage() {
  const { region } = useSession();
  const ec2 = useEc2();
  const follow = useFollow();
  const list = useQuery({
    queryKey: instanceKeys.list(region),
    queryFn: () => listInstances(ec2),
    refetchInterval: (q) => pollInterval(q.state.data),
  });
  // Selection by id, so the menus see each selected instance's current state after every poll.
  const [selectedIds, setSelectedIds] = useState<string[]>([]);
  const rows = useMemo(() => (list.data ?? []).map(toRow), [list.data]);
  const selectedRows = rows.filter((r) => selectedIds.includes(r.id));
  const selected: Instance[] = selectedRows.map((r) => r.instance);
  const columns = useMemo(() => instanceColumns(follow), [follow]);

  return (
    <SpaceBetween size="m">
      {list.error && (
        <Alert type="error" header="Failed to load instances">
          {errorText(list.error)}
        </Alert>
      )}
      <ResourceTable<InstanceRow>
        title="Instances"
        items={rows}
        columns={columns}
        trackBy="id"
        loading={list.isLoading}
        selectionType="multi"
        selected={selectedRows}
        onSelect={(items) => setSelectedIds(items.map((r) => r.id))}
        defaultSort={{ column: "launchTime", descending: true }}
        actions={
          <SpaceBetween direction="horizontal" size="xs">
            <Button
              iconName="refresh"
              ariaLabel="Refresh instances"
              loading={list.isFetching && !list.isLoading}
              onClick={() => void list.refetch()}
            />
            <InstanceStateMenu selected={selected} />
            <InstanceActionsMenu selected={selected} />
            <Button variant="primary" href={href("/launch")} onFollow={follow}>
              Launch instances
            </Button>
          </SpaceBetween>
        }
      />
    </SpaceBetween>
  );
}
