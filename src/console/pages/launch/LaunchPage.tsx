// Placeholder: replaced by the page's implementation.
import Header from "@cloudscape-design/components/header";

export function LaunchPage() {
  return <Header variant="h1">Launch an instance</Header>;
}
