// Placeholder: replaced by the page's implementation.
import Header from "@cloudscape-design/components/header";

export function SecurityGroupsPage() {
  return <Header variant="h1">Security groups</Header>;
}
