// Placeholder: replaced by the page's implementation.
import Header from "@cloudscape-design/components/header";

export function SnapshotDetailsPage() {
  return <Header variant="h1">Snapshot</Header>;
}
