// Create key pair, as the EC2 console's dialog: name, type (RSA or ED25519), private key file
// format (.pem for OpenSSH, .ppk for PuTTY). EC2 returns the private key in CreateKeyPair's answer
// only, so it is downloaded at once and not kept here: there is no second chance to get it.
import Alert from "@cloudscape-design/components/alert";
import FormField from "@cloudscape-design/components/form-field";
import Input from "@cloudscape-design/components/input";
import RadioGroup from "@cloudscape-design/components/radio-group";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorText } from "../../api/errors.ts";
import { createKeyPair, type KeyFormat, type KeyType, keyPairKeys } from "../../api/key-pairs.ts";
import { useNotify } from "../../app/notifications.tsx";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { FormModal } from "../shared/FormModal.tsx";
import { downloadText } from "./download.ts";

export function CreateKeyPairModal(p: {
  visible: boolean;
  onDismiss(): void;
  onCreated?(name: string): void;
}) {
  const { region } = useSession();
  const ec2 = useEc2();
  const queries = useQueryClient();
  const { notify } = useNotify();
  const [name, setName] = useState("");
  const [type, setType] = useState<KeyType>("rsa");
  const [format, setFormat] = useState<KeyFormat>("pem");
  const [error, setError] = useState<string>();
  const create = useMutation({
    mutationFn: () => createKeyPair(ec2, { name, type, format }),
    onSuccess: (key) => {
      const file = `${key.name}.${format}`;
      downloadText(file, key.material, format === "pem" ? "application/x-pem-file" : "text/plain");
      notify({
        type: "success",
        header: `Key pair ${key.name} created`,
        content: `Its private key was downloaded as ${file}. Keep it safe: it cannot be downloaded again.`,
      });
      void queries.invalidateQueries({ queryKey: keyPairKeys.all(region) });
      p.onCreated?.(key.name);
      close();
    },
    onError: (e) => setError(errorText(e)),
  });
  const close = () => {
    setName("");
    setType("rsa");
    setFormat("pem");
    setError(undefined);
    create.reset();
    p.onDismiss();
  };
  const submit = () => {
    if (create.isPending) return; // one CreateKeyPair per click, however fast the clicks
    if (!name.trim()) {
      setError("Enter a name for the key pair.");
      return;
    }
    setError(undefined);
    create.mutate();
  };
  return (
    <FormModal
      visible={p.visible}
      header="Create key pair"
      submitLabel="Create key pair"
      busy={create.isPending}
      error={error}
      onSubmit={submit}
      onClose={close}
    >
      <SpaceBetween size="l">
        <FormField
          label="Key pair name"
          constraintText="Up to 255 ASCII characters, no leading or trailing spaces."
        >
          <Input value={name} onChange={(e) => setName(e.detail.value)} autoFocus />
        </FormField>
        <FormField label="Key pair type">
          <RadioGroup
            value={type}
            onChange={(e) => setType(e.detail.value as KeyType)}
            items={[
              { value: "rsa", label: "RSA", description: "RSA encrypted private and public key pair" },
              {
                value: "ed25519",
                label: "ED25519",
                description: "ED25519 encrypted private and public key pair",
              },
            ]}
          />
        </FormField>
        <FormField label="Private key file format">
          <RadioGroup
            value={format}
            onChange={(e) => setFormat(e.detail.value as KeyFormat)}
            items={[
              { value: "pem", label: ".pem", description: "For use with OpenSSH" },
              { value: "ppk", label: ".ppk", description: "For use with PuTTY" },
            ]}
          />
        </FormField>
        <Alert type="warning" header="The private key is downloaded once">
          Your browser saves the private key file as soon as the key pair is created. Neither Strata nor EC2
          keeps a copy: store it somewhere safe, it cannot be downloaded again.
        </Alert>
      </SpaceBetween>
    </FormModal>
  );
}
