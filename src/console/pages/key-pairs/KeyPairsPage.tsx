// Placeholder: replaced by the page's implementation.
import Header from "@cloudscape-design/components/header";

export function KeyPairsPage() {
  return <Header variant="h1">Key pairs</Header>;
}
