// Advanced details: user data, typed or loaded from a file (read in the browser as text). It is
// base64-encoded when the request is made (see form.ts), as RunInstances expects.
import Container from "@cloudscape-design/components/container";
import FileUpload from "@cloudscape-design/components/file-upload";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Textarea from "@cloudscape-design/components/textarea";
import { useState } from "react";
import { base64Utf8, MAX_USER_DATA as LIMIT } from "./form.ts";

export function AdvancedSection(p: { userData: string; onChange(userData: string): void }) {
  const [files, setFiles] = useState<File[]>([]);
  const [fileError, setFileError] = useState<string>();
  const bytes = new TextEncoder().encode(p.userData).length;
  const load = async (picked: File[]) => {
    setFiles(picked);
    setFileError(undefined);
    if (!picked[0]) return;
    try {
      p.onChange(await picked[0].text());
    } catch (e) {
      setFileError(`Could not read ${picked[0].name}: ${(e as Error).message}`);
    }
  };
  return (
    <Container header={<Header variant="h2">Advanced details</Header>}>
      <SpaceBetween size="l">
        <FormField
          label="Load a script from a file"
          description="Its text replaces the user data below."
          errorText={fileError}
        >
          <FileUpload
            value={files}
            onChange={(e) => void load(e.detail.value)}
            i18nStrings={{
              uploadButtonText: () => "Choose file",
              dropzoneText: () => "Drop a file",
              removeFileAriaLabel: () => "Remove file",
              errorIconAriaLabel: "Error",
            }}
          />
        </FormField>
        <FormField
          label="User data"
          description="A script or cloud-init config run at first boot."
          constraintText={`${bytes} of ${LIMIT} bytes${p.userData ? ` (${base64Utf8(p.userData).length} once base64-encoded)` : ""}`}
          errorText={bytes > LIMIT ? `User data is limited to ${LIMIT} bytes.` : undefined}
        >
          <Textarea
            value={p.userData}
            onChange={(e) => p.onChange(e.detail.value)}
            rows={6}
            spellcheck={false}
            placeholder={"#!/bin/sh\necho hello"}
          />
        </FormField>
      </SpaceBetween>
    </Container>
  );
}
