// Placeholder: replaced by the page's implementation.
import Header from "@cloudscape-design/components/header";

export function ImageDetailsPage() {
  return <Header variant="h1">Image</Header>;
}
