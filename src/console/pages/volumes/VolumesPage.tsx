// Placeholder: replaced by the page's implementation.
import Header from "@cloudscape-design/components/header";

export function VolumesPage() {
  return <Header variant="h1">Volumes</Header>;
}
