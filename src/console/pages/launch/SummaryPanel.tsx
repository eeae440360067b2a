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
        {/* Plain text, not KeyValuePairs: its labels would name these values too, and "Instance
            type" or "Key pair" must name the form's controls only (tests find them by label). */}
        <SpaceBetween size="s">
          {[
            [
              "Software image (AMI)",
              p.image ? `${p.image.Name ?? ""} (${p.image.ImageId})` : form.imageId || "-",
            ],
            ["Virtual server type", form.instanceType || "-"],
            ["Login key", form.keyName || "None"],
            ["Storage (volumes)", storage],
            ["Firewall (security groups)", form.securityGroupIds.join(", ") || "-"],
          ].map(([label, value]) => (
            <div key={label}>
              <Box variant="awsui-key-label">{label}</Box>
              <div>{value}</div>
            </div>
          ))}
        </SpaceBetween>
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
