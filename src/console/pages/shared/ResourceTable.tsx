// The one table every list page uses: Cloudscape's Table with collection hooks for text
// filtering, sorting and pagination, a header with a count and actions, selection, and empty
// and no-match states. Pages give it their items and columns only.
import { useCollection } from "@cloudscape-design/collection-hooks";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Header from "@cloudscape-design/components/header";
import Pagination from "@cloudscape-design/components/pagination";
import Table, { type TableProps } from "@cloudscape-design/components/table";
import TextFilter from "@cloudscape-design/components/text-filter";
import type { ReactNode } from "react";

export interface ResourceTableProps<T> {
  /** Plural resource name, e.g. "Instances": the header and the table's accessible name. */
  title: string;
  items: readonly T[];
  columns: TableProps.ColumnDefinition<T>[];
  trackBy: keyof T & string;
  loading?: boolean;
  actions?: ReactNode;
  description?: ReactNode;
  selectionType?: "single" | "multi";
  selected?: T[];
  onSelect?: (items: T[]) => void;
  /** Which column sorts first, descending when true (e.g. newest first). */
  defaultSort?: { column: string; descending?: boolean };
  pageSize?: number;
  /** Extra filters beside the text filter (segmented controls, selects). */
  filters?: ReactNode;
  emptyText?: string;
  /**
   * "full-page" (default): the page's main table, its title an h1. "container": a table within a
   * page (e.g. a details page's rules), its title an h2.
   */
  variant?: "full-page" | "container";
  /** Wrap long cell text instead of truncating it (e.g. fingerprints). */
  wrapLines?: boolean;
}

export function ResourceTable<T>(p: ResourceTableProps<T>) {
  const noun = p.title.toLowerCase();
  const sortColumn = p.columns.find((c) => c.id === p.defaultSort?.column);
  const { items, actions, filteredItemsCount, collectionProps, filterProps, paginationProps } = useCollection(
    p.items as T[],
    {
      filtering: {
        empty: (
          <Box textAlign="center" color="inherit">
            {p.emptyText ?? `No ${noun}`}
          </Box>
        ),
        noMatch: (
          <Box textAlign="center" color="inherit">
            <SpaceFree>No matches</SpaceFree>
            <Button onClick={() => actions.setFiltering("")}>Clear filter</Button>
          </Box>
        ),
      },
      sorting: sortColumn
        ? { defaultState: { sortingColumn: sortColumn, isDescending: p.defaultSort?.descending } }
        : {},
      pagination: { pageSize: p.pageSize ?? 50 },
      selection: { trackBy: p.trackBy },
    },
  );
  const count = p.items.length;
  return (
    <Table
      {...collectionProps}
      ariaLabels={{
        tableLabel: p.title,
        selectionGroupLabel: `${p.title} selection`,
        allItemsSelectionLabel: () => `Select all ${noun}`,
        itemSelectionLabel: (_s, item) => `Select ${String(item[p.trackBy])}`,
      }}
      variant={p.variant ?? "full-page"}
      items={items}
      columnDefinitions={p.columns}
      trackBy={p.trackBy}
      loading={p.loading}
      wrapLines={p.wrapLines}
      loadingText={`Loading ${noun}`}
      selectionType={p.selectionType}
      selectedItems={p.selected ?? []}
      onSelectionChange={(e) => p.onSelect?.(e.detail.selectedItems)}
      header={
        <Header
          variant={p.variant === "container" ? "h2" : "awsui-h1-sticky"}
          counter={p.loading ? undefined : `(${count})`}
          actions={p.actions}
          description={p.description}
        >
          {p.title}
        </Header>
      }
      filter={
        <div style={{ display: "flex", gap: 16, flexWrap: "wrap", alignItems: "center" }}>
          <div style={{ flex: "1 1 300px" }}>
            <TextFilter
              {...filterProps}
              filteringPlaceholder={`Find ${noun}`}
              filteringAriaLabel={`Filter ${noun}`}
              countText={`${filteredItemsCount ?? 0} ${filteredItemsCount === 1 ? "match" : "matches"}`}
            />
          </div>
          {p.filters}
        </div>
      }
      pagination={
        <Pagination
          {...paginationProps}
          ariaLabels={{
            nextPageLabel: "Next page",
            previousPageLabel: "Previous page",
            pageLabel: (n) => `Page ${n}`,
          }}
        />
      }
    />
  );
}

function SpaceFree({ children }: { children: ReactNode }) {
  return <Box padding={{ bottom: "s" }}>{children}</Box>;
}
