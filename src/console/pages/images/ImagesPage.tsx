// Images > AMIs: the images to show (owned by me, private, public, shared with me), searched by
// name or id and filtered by tag and state, with the AWS console's actions on the selected one.
// Polls every 2 s while an image is pending, so pending -> available shows without a reload.
import Alert from "@cloudscape-design/components/alert";
import Button from "@cloudscape-design/components/button";
import Input from "@cloudscape-design/components/input";
import SegmentedControl from "@cloudscape-design/components/segmented-control";
import Select from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { useSearchParams } from "react-router";
import { errorText } from "../../api/errors.ts";
import { type ImageView, imageKeys, isPending, listImages } from "../../api/images.ts";
import { useFollow } from "../../app/navigation.ts";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { ResourceTable } from "../shared/ResourceTable.tsx";
import { type ImageRow, imageColumns, toRow } from "./columns.tsx";
import { useAccountId } from "./hooks.ts";
import { ImageActions } from "./ImageActions.tsx";
import { matchesTag } from "./tag-filter.ts";

const VIEWS: { id: ImageView; text: string }[] = [
  { id: "owned", text: "Owned by me" },
  { id: "private", text: "Private images" },
  { id: "public", text: "Public images" },
  { id: "shared", text: "Shared with me" },
];

// EC2's image states (DescribeImages' `state` filter values).
const STATES = [
  "available",
  "pending",
  "failed",
  "deregistered",
  "invalid",
  "transient",
  "error",
  "disabled",
];
const ANY_STATE = { value: "any", label: "Any state" };

export function ImagesPage() {
  const { region } = useSession();
  const ec2 = useEc2();
  const follow = useFollow();
  const accountId = useAccountId();
  const [params, setParams] = useSearchParams();
  const view = VIEWS.find((v) => v.id === params.get("view"))?.id ?? "owned";
  const [tag, setTag] = useState("");
  const [state, setState] = useState(ANY_STATE);
  // Rows are checkboxes (several may be selected, as in the AWS console); the actions act on one.
  const [selectedIds, setSelectedIds] = useState<string[]>([]);

  const q = useQuery({
    queryKey: imageKeys.list(region, view),
    queryFn: () => listImages(ec2, view, accountId ?? ""),
    // "Shared with me" leaves out my own images, so it waits for my account id.
    enabled: view !== "shared" || accountId !== undefined,
    refetchInterval: (query) => (query.state.data?.some(isPending) ? 2000 : 10_000),
  });

  const rows = useMemo(
    () =>
      (q.data ?? [])
        .filter((i) => state.value === "any" || i.State === state.value)
        .filter((i) => matchesTag(i.Tags, tag))
        .map(toRow),
    [q.data, state, tag],
  );
  const columns = useMemo(() => imageColumns(follow), [follow]);
  const selected = rows.filter((r) => selectedIds.includes(r.ImageId));
  const one = selected.length === 1 ? selected[0].image : undefined;

  return (
    <SpaceBetween size="m">
      {q.error && (
        <Alert type="error" header="Could not list AMIs" statusIconAriaLabel="Error">
          {errorText(q.error)}
        </Alert>
      )}
      <ResourceTable<ImageRow>
        title="AMIs"
        items={rows}
        columns={columns}
        trackBy="ImageId"
        loading={q.isPending}
        selectionType="multi"
        selected={selected}
        onSelect={(s) => setSelectedIds(s.map((r) => r.ImageId))}
        defaultSort={{ column: "created", descending: true }}
        emptyText="No AMIs to show in this region"
        actions={
          <SpaceBetween direction="horizontal" size="xs">
            <Button iconName="refresh" ariaLabel="Refresh AMIs" onClick={() => void q.refetch()} />
            <ImageActions
              image={one}
              owned={!!one && one.OwnerId === accountId}
              onDeregistered={() => setSelectedIds([])}
            />
          </SpaceBetween>
        }
        filters={
          <>
            <SegmentedControl
              label="Images to show"
              selectedId={view}
              options={VIEWS}
              onChange={(e) => {
                setSelectedIds([]);
                setParams({ view: e.detail.selectedId }, { replace: true });
              }}
            />
            <div style={{ width: 220 }}>
              <Input
                type="search"
                ariaLabel="Filter by tag"
                placeholder="Tag: key or key=value"
                value={tag}
                onChange={(e) => setTag(e.detail.value)}
              />
            </div>
            <div style={{ width: 180 }}>
              <Select
                ariaLabel="Filter by state"
                selectedOption={state}
                options={[ANY_STATE, ...STATES.map((s) => ({ value: s, label: s }))]}
                onChange={(e) =>
                  setState({
                    value: e.detail.selectedOption.value ?? "any",
                    label: e.detail.selectedOption.label ?? "",
                  })
                }
              />
            </div>
          </>
        }
      />
    </SpaceBetween>
  );
}
