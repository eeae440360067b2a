// The stored, unique and shared bytes of a snapshot or an image (DescribeStorageUsage, Strata's
// extension): the numbers, and a small pie of unique vs shared stored bytes (people would rather
// look than read here), with the same numbers as its text alternative.
import Box from "@cloudscape-design/components/box";
import ColumnLayout from "@cloudscape-design/components/column-layout";
import Container from "@cloudscape-design/components/container";
import Header from "@cloudscape-design/components/header";
import KeyValuePairs from "@cloudscape-design/components/key-value-pairs";
import PieChart from "@cloudscape-design/components/pie-chart";
import { useQuery } from "@tanstack/react-query";
import { errorText } from "../../api/errors.ts";
import { snapshotKeys, storageUsage } from "../../api/snapshots.ts";
import type { StorageUsage as Usage } from "../../api/storage-usage.ts";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { formatBytes } from "../shared/format.ts";

export function SnapshotStorage(p: { snapshotId: string; pending?: boolean }) {
  return <Storage kind="snapshot" id={p.snapshotId} pending={p.pending} />;
}

export function ImageStorage(p: { imageId: string; pending?: boolean }) {
  return <Storage kind="image" id={p.imageId} pending={p.pending} />;
}

function Storage(p: { kind: "snapshot" | "image"; id: string; pending?: boolean }) {
  const { region } = useSession();
  const ec2 = useEc2();
  const q = useQuery({
    queryKey: snapshotKeys.usage(region, p.kind, [p.id]),
    queryFn: async () => (await storageUsage(ec2, p.kind, [p.id])).get(p.id),
    // A pending snapshot still grows.
    refetchInterval: p.pending ? 2000 : false,
  });
  return (
    <Container
      header={
        <Header
          variant="h2"
          description="Encoded bytes in the block store. Unique: referenced by none of your other snapshots; shared: also referenced by another of your snapshots."
        >
          Storage
        </Header>
      }
    >
      {q.error ? (
        <Box color="text-status-error">{errorText(q.error)}</Box>
      ) : (
        <UsageView
          usage={q.data}
          loading={q.isLoading}
          label={`${p.kind === "image" ? "Image" : "Snapshot"} ${p.id}`}
        />
      )}
    </Container>
  );
}

function UsageView(p: { usage: Usage | undefined; loading: boolean; label: string }) {
  const u = p.usage;
  const unique = u?.UniqueBytes ?? 0;
  const shared = u?.SharedBytes ?? 0;
  const text = u
    ? `${p.label}: ${formatBytes(u.StoredBytes)} stored, of which ${formatBytes(unique)} unique and ${formatBytes(shared)} shared.`
    : "";
  return (
    <ColumnLayout columns={2} variant="text-grid">
      <KeyValuePairs
        columns={1}
        items={[
          { label: "Logical size", value: formatBytes(u?.LogicalBytes), id: "usage-logical" },
          { label: "Data (non-zero blocks)", value: formatBytes(u?.DataBytes), id: "usage-data" },
          { label: "Stored bytes", value: formatBytes(u?.StoredBytes), id: "usage-stored" },
          { label: "Unique bytes", value: formatBytes(u?.UniqueBytes), id: "usage-unique" },
          { label: "Shared bytes", value: formatBytes(u?.SharedBytes), id: "usage-shared" },
        ]}
      />
      <div>
        <PieChart
          size="small"
          variant="donut"
          statusType={p.loading ? "loading" : "finished"}
          data={[
            { title: "Unique", value: unique },
            { title: "Shared", value: shared },
          ]}
          ariaLabel="Unique and shared stored bytes"
          ariaDescription={text}
          innerMetricValue={formatBytes(u?.StoredBytes)}
          innerMetricDescription="stored"
          hideFilter
          segmentDescription={(d, sum) =>
            `${formatBytes(d.value)} (${sum ? Math.round((d.value * 100) / sum) : 0} %)`
          }
          detailPopoverContent={(d) => [{ key: "Stored bytes", value: formatBytes(d.value) }]}
          empty={<Box color="inherit">Nothing stored</Box>}
          loadingText="Loading storage usage"
          i18nStrings={{
            legendAriaLabel: "Legend",
            chartAriaRoleDescription: "donut chart",
            segmentAriaRoleDescription: "segment",
            detailsValue: "Bytes",
            detailsPercentage: "Percentage",
            filterLabel: "Filter displayed data",
            filterPlaceholder: "Filter data",
          }}
        />
        {/* The chart's text alternative, for every reader. */}
        <Box variant="small" color="text-body-secondary">
          <span data-testid="usage-summary">{text}</span>
        </Box>
      </div>
    </ColumnLayout>
  );
}
