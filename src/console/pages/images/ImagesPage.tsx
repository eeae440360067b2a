// Placeholder: replaced by the page's implementation.
import Header from "@cloudscape-design/components/header";

export function ImagesPage() {
  return <Header variant="h1">Amazon Machine Images (AMIs)</Header>;
}
