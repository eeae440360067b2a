// Import key pair, as the EC2 console's page: a name and an OpenSSH public key, pasted or read
// from a file (the file stays in the browser; only its text goes to ImportKeyPair).
import FileUpload from "@cloudscape-design/components/file-upload";
import FormField from "@cloudscape-design/components/form-field";
import Input from "@cloudscape-design/components/input";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Textarea from "@cloudscape-design/components/textarea";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorText } from "../../api/errors.ts";
import { importKeyPair, keyPairKeys } from "../../api/key-pairs.ts";
import { useNotify } from "../../app/notifications.tsx";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { FormModal } from "../shared/FormModal.tsx";

export function ImportKeyPairModal(p: {
  visible: boolean;
  onDismiss(): void;
  onImported?(name: string): void;
}) {
  const { region } = useSession();
  const ec2 = useEc2();
  const queries = useQueryClient();
  const { notify } = useNotify();
  const [name, setName] = useState("");
  const [publicKey, setPublicKey] = useState("");
  const [files, setFiles] = useState<File[]>([]);
  const [error, setError] = useState<string>();
  const importKey = useMutation({
    mutationFn: () => importKeyPair(ec2, { name, publicKey }),
    onSuccess: (key) => {
      notify({
        type: "success",
        header: `Key pair ${key.name} imported`,
        content: `Fingerprint ${key.fingerprint}`,
      });
      void queries.invalidateQueries({ queryKey: keyPairKeys.all(region) });
      p.onImported?.(key.name);
      close();
    },
    onError: (e) => setError(errorText(e)),
  });
  const close = () => {
    setName("");
    setPublicKey("");
    setFiles([]);
    setError(undefined);
    importKey.reset();
    p.onDismiss();
  };
  const readFile = async (picked: File[]) => {
    setFiles(picked);
    if (!picked[0]) return;
    const text = await picked[0].text();
    setPublicKey(text.trim());
    // As the EC2 console does: a key named after its file ("id_ed25519.pub" -> "id_ed25519").
    if (!name) setName(picked[0].name.replace(/\.pub$/, ""));
  };
  const submit = () => {
    if (importKey.isPending) return;
    if (!name.trim() || !publicKey.trim()) {
      setError("Enter a name and a public key.");
      return;
    }
    setError(undefined);
    importKey.mutate();
  };
  return (
    <FormModal
      visible={p.visible}
      header="Import key pair"
      submitLabel="Import key pair"
      busy={importKey.isPending}
      error={error}
      onSubmit={submit}
      onClose={close}
    >
      <SpaceBetween size="l">
        <FormField label="Key pair name">
          <Input value={name} onChange={(e) => setName(e.detail.value)} />
        </FormField>
        <FormField label="Public key file" description="An OpenSSH public key file (.pub); it is read here.">
          <FileUpload
            value={files}
            onChange={(e) => void readFile(e.detail.value)}
            accept=".pub,text/plain"
            i18nStrings={{
              uploadButtonText: () => "Choose public key file",
              dropzoneText: () => "Drop a public key file",
              removeFileAriaLabel: () => "Remove file",
              errorIconAriaLabel: "Error",
            }}
          />
        </FormField>
        <FormField
          label="Public key contents"
          description="ssh-rsa or ssh-ed25519 in OpenSSH format, as in ~/.ssh/id_ed25519.pub."
        >
          <Textarea
            value={publicKey}
            onChange={(e) => setPublicKey(e.detail.value)}
            rows={4}
            placeholder="ssh-ed25519 AAAA... user@host"
          />
        </FormField>
      </SpaceBetween>
    </FormModal>
  );
}
