// Placeholder: replaced by the page's implementation.
import Header from "@cloudscape-design/components/header";

export function InstancesPage() {
  return <Header variant="h1">Instances</Header>;
}
