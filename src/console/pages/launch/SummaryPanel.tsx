// The Summary beside the form, as in the EC2 console: what will be launched, the number of
// instances, and the Launch instance button (with the API's error, if the launch was refused).
import type { Image } from "@aws-sdk/client-ec2";
import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Container from "@cloudscape-design/components/container";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import KeyValuePairs from "@cloudscape-design/components/key-value-pairs";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { href, useFollow } from "../../app/navigation.ts";
import { type LaunchForm, MAX_COUNT } from "./form.ts";

export function SummaryPanel(p: {
  form: LaunchForm;
  image: Image | undefined;
  countError?: string;
  error?: string;
  busy: boolean;
  onCount(count: string): void;
  onLaunch(): void;
}) {
  const follow = useFollow();
  const { form } = p;
  const storage = [
    `${form.rootSize || "?"} GiB ${form.rootType} root`,
    ...form.volumes.map((v) => `${v.size || "?"} GiB ${v.type} at ${v.device}`),
  ].join(", ");
  return (
    <Container header={<Header variant="h2">Summary</Header>}>
      <SpaceBetween size="l">
        <FormField label="Number of instances" constraintText={`1 to ${MAX_COUNT}`} errorText={p.countError}>
          <Input
            type="number"
            inputMode="numeric"
            value={form.count}
            onChange={(e) => p.onCount(e.detail.value)}
          />
        </FormField>
        <KeyValuePairs
          items={[
            {
              label: "Image",
              value: p.image ? `${p.image.Name ?? ""} (${p.image.ImageId})` : form.imageId || "-",
            },
            { label: "Instance type", value: form.instanceType || "-" },
            { label: "Key pair", value: form.keyName || "None" },
            { label: "Storage", value: storage },
            { label: "Security groups", value: form.securityGroupIds.join(", ") || "-" },
          ]}
        />
        {p.error && (
          <Alert type="error" header="The launch failed">
            {p.error}
          </Alert>
        )}
        <Box float="right">
          <SpaceBetween direction="horizontal" size="xs">
            <Button variant="link" href={href("/instances")} onFollow={follow}>
              Cancel
            </Button>
            <Button variant="primary" loading={p.busy} onClick={p.onLaunch}>
              Launch instance
            </Button>
          </SpaceBetween>
        </Box>
      </SpaceBetween>
    </Container>
  );
}
