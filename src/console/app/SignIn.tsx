// Sign in with an access key: pasted, or read from an AWS credentials file the user picks (the
// file stays in the browser). The key is checked with STS GetCallerIdentity before it is kept.
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Container from "@cloudscape-design/components/container";
import ContentLayout from "@cloudscape-design/components/content-layout";
import FileUpload from "@cloudscape-design/components/file-upload";
import Form from "@cloudscape-design/components/form";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import Select from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useEffect, useState } from "react";
import { errorText } from "../api/errors.ts";
import { type Credentials, parseCredentialsFile } from "../api/session.ts";
import { whoAmI } from "./account.ts";
import { useSessionState } from "./session-context.tsx";

export function SignIn() {
  const { signIn } = useSessionState();
  const [accessKeyId, setAccessKeyId] = useState("");
  const [secret, setSecret] = useState("");
  const [regions, setRegions] = useState<string[]>(["us-east-1"]);
  const [region, setRegion] = useState("us-east-1");
  const [files, setFiles] = useState<File[]>([]);
  const [profiles, setProfiles] = useState<Record<string, Credentials>>({});
  const [fileError, setFileError] = useState<string>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    // The daemon's regions are public (its health check lists them); the key is not needed yet.
    fetch("/health")
      .then((r) => r.json() as Promise<{ regions?: string[] }>)
      .then((h) => {
        if (h.regions?.length) {
          setRegions(h.regions);
          setRegion((r) => (h.regions!.includes(r) ? r : h.regions![0]));
        }
      })
      .catch(() => {});
  }, []);

  const pickProfile = (name: string, all = profiles) => {
    const c = all[name];
    if (!c) return;
    setAccessKeyId(c.accessKeyId);
    setSecret(c.secretAccessKey);
  };

  const readFile = async (picked: File[]) => {
    setFiles(picked);
    setFileError(undefined);
    if (!picked[0]) return;
    const found = parseCredentialsFile(await picked[0].text());
    setProfiles(found);
    const names = Object.keys(found);
    if (names.length === 0)
      setFileError("No profile with aws_access_key_id and aws_secret_access_key in this file.");
    else pickProfile(names.includes("default") ? "default" : names[0], found);
  };

  const submit = async () => {
    setBusy(true);
    setError(undefined);
    const credentials = { accessKeyId: accessKeyId.trim(), secretAccessKey: secret.trim() };
    try {
      await whoAmI(credentials, region);
      signIn({ credentials, region });
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Box padding="xxl">
      <ContentLayout header={<Header variant="h1">Sign in to Strata</Header>}>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <Form
            errorText={error}
            errorIconAriaLabel="Error"
            actions={
              <Button variant="primary" formAction="submit" loading={busy} disabled={!accessKeyId || !secret}>
                Sign in
              </Button>
            }
          >
            <Container header={<Header variant="h2">Access key</Header>}>
              <SpaceBetween size="l">
                <FormField
                  label="Credentials file"
                  description="Optional: an AWS shared credentials file; it is read here and never uploaded."
                  errorText={fileError}
                >
                  <FileUpload
                    value={files}
                    onChange={(e) => void readFile(e.detail.value)}
                    i18nStrings={{
                      uploadButtonText: () => "Choose credentials file",
                      dropzoneText: () => "Drop a credentials file",
                      removeFileAriaLabel: () => "Remove file",
                      errorIconAriaLabel: "Error",
                    }}
                  />
                </FormField>
                {Object.keys(profiles).length > 1 && (
                  <FormField label="Profile">
                    <Select
                      selectedOption={{
                        value:
                          Object.keys(profiles).find((p) => profiles[p].accessKeyId === accessKeyId) ?? "",
                      }}
                      options={Object.keys(profiles).map((p) => ({ value: p, label: p }))}
                      onChange={(e) => pickProfile(e.detail.selectedOption.value ?? "")}
                    />
                  </FormField>
                )}
                <FormField label="Access key ID">
                  <Input
                    value={accessKeyId}
                    onChange={(e) => setAccessKeyId(e.detail.value)}
                    autoComplete={false}
                  />
                </FormField>
                <FormField label="Secret access key">
                  <Input
                    type="password"
                    value={secret}
                    onChange={(e) => setSecret(e.detail.value)}
                    autoComplete={false}
                  />
                </FormField>
                <FormField label="Region">
                  <Select
                    selectedOption={{ value: region, label: region }}
                    options={regions.map((r) => ({ value: r, label: r }))}
                    onChange={(e) => setRegion(e.detail.selectedOption.value ?? region)}
                  />
                </FormField>
              </SpaceBetween>
            </Container>
          </Form>
        </form>
      </ContentLayout>
    </Box>
  );
}
