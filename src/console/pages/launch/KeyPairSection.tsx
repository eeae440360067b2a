// Key pair (login): pick one of the region's key pairs, proceed without one, or create or import
// one on the spot (the Key pairs page's own dialogs); a new key is selected once it exists.
import Button from "@cloudscape-design/components/button";
import Container from "@cloudscape-design/components/container";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Select, { type SelectProps } from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { errorText } from "../../api/errors.ts";
import { keyPairKeys, listKeyPairs } from "../../api/key-pairs.ts";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { CreateKeyPairModal } from "../key-pairs/CreateKeyPairModal.tsx";
import { ImportKeyPairModal } from "../key-pairs/ImportKeyPairModal.tsx";

// Select values cannot be undefined; this one stands for "no key pair".
const NONE = "__none__";
const WITHOUT: SelectProps.Option = {
  value: NONE,
  label: "Proceed without a key pair (Not recommended)",
  description: "You will not be able to SSH in unless the image lets you in some other way.",
};

export function KeyPairSection(p: { value: string; onChange(keyName: string): void }) {
  const { region } = useSession();
  const ec2 = useEc2();
  const [modal, setModal] = useState<"create" | "import">();
  const keys = useQuery({ queryKey: keyPairKeys.all(region), queryFn: () => listKeyPairs(ec2) });
  const options: SelectProps.Option[] = [
    WITHOUT,
    ...(keys.data ?? []).map((k) => ({
      value: k.KeyName,
      label: k.KeyName,
      description: `${k.KeyType ?? ""} · ${k.KeyPairId ?? ""}`,
    })),
  ];
  const selected = p.value
    ? (options.find((o) => o.value === p.value) ?? { value: p.value, label: p.value })
    : WITHOUT;
  return (
    <Container header={<Header variant="h2">Key pair (login)</Header>}>
      <SpaceBetween size="s">
        <FormField
          label="Key pair"
          description="Its public key is put in the instance for SSH; you keep the private key."
          errorText={keys.error ? errorText(keys.error) : undefined}
        >
          <Select
            selectedOption={selected}
            options={options}
            onChange={(e) => {
              const v = e.detail.selectedOption.value;
              p.onChange(!v || v === NONE ? "" : v);
            }}
            statusType={keys.isLoading ? "loading" : "finished"}
            loadingText="Loading key pairs"
            filteringType="auto"
            filteringAriaLabel="Find a key"
          />
        </FormField>
        <SpaceBetween direction="horizontal" size="xs">
          <Button onClick={() => setModal("create")}>Create new key pair</Button>
          <Button onClick={() => setModal("import")}>Import key pair</Button>
        </SpaceBetween>
      </SpaceBetween>
      {/* Mounted only while open: a fresh form each time, and no hidden "Key pair name" field. */}
      {modal === "create" && (
        <CreateKeyPairModal visible onDismiss={() => setModal(undefined)} onCreated={p.onChange} />
      )}
      {modal === "import" && (
        <ImportKeyPairModal visible onDismiss={() => setModal(undefined)} onImported={p.onChange} />
      )}
    </Container>
  );
}
