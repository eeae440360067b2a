// Placeholder: replaced by the page's implementation.
import Header from "@cloudscape-design/components/header";

export function InstanceDetailsPage() {
  return <Header variant="h1">Instance</Header>;
}
