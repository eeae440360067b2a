// Placeholder: replaced by the page's implementation.
import Header from "@cloudscape-design/components/header";

export function SecurityGroupDetailsPage() {
  return <Header variant="h1">Security group</Header>;
}
