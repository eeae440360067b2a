// Placeholder: replaced by the page's implementation.
import Header from "@cloudscape-design/components/header";

export function SnapshotsPage() {
  return <Header variant="h1">Snapshots</Header>;
}
