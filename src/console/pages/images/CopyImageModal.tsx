// Actions > Copy AMI: destination region, name, description and "Copy tags", as the AWS console
// asks. CopyImage is sent to the DESTINATION region's endpoint with the source region as a
// parameter, as EC2 requires; the copy then shows in that region, pending until its snapshots
// are copied.
import type { Image } from "@aws-sdk/client-ec2";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Checkbox from "@cloudscape-design/components/checkbox";
import FormField from "@cloudscape-design/components/form-field";
import Input from "@cloudscape-design/components/input";
import Select from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Textarea from "@cloudscape-design/components/textarea";
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { ec2Client } from "../../api/clients.ts";
import { copyImage } from "../../api/images.ts";
import { useNotify } from "../../app/notifications.tsx";
import { useRegions } from "../../app/regions.ts";
import { useSession, useSessionState } from "../../app/session-context.tsx";
import { ConfirmModal } from "../shared/ConfirmModal.tsx";
import { useInvalidateImages } from "./hooks.ts";
import { ModalError } from "./ModalError.tsx";

export function CopyImageModal({ image, onClose }: { image: Image; onClose(): void }) {
  const session = useSession();
  const { regions } = useRegions();
  const { notify } = useNotify();
  const invalidate = useInvalidateImages();
  const id = image.ImageId ?? "";
  const [destination, setDestination] = useState(
    () => regions.find((r) => r !== session.region) ?? session.region,
  );
  const [name, setName] = useState(image.Name ?? "");
  // The AWS console's default description for a copy.
  const [description, setDescription] = useState(`[Copied ${id} from ${session.region}] ${image.Name ?? ""}`);
  const [copyTags, setCopyTags] = useState(false);

  const copy = useMutation({
    mutationFn: () =>
      copyImage(ec2Client(session.credentials, destination), {
        sourceRegion: session.region,
        sourceImageId: id,
        name,
        description,
        copyTags,
      }),
    onSuccess: async (newId) => {
      const elsewhere = destination !== session.region;
      const to = destination;
      notify({
        type: "success",
        header: `Copying ${id} to ${to}: new AMI ${newId}`,
        content: elsewhere ? (
          <SwitchRegionHint region={to} imageId={newId} />
        ) : (
          `The copy ${newId} is pending until its snapshots are copied.`
        ),
      });
      await invalidate(to);
      onClose();
    },
  });

  return (
    <ConfirmModal
      visible
      title={`Copy AMI ${id}`}
      confirmLabel="Copy AMI"
      busy={copy.isPending}
      onConfirm={() => copy.mutate()}
      onCancel={onClose}
    >
      <SpaceBetween size="m">
        <Box variant="p">
          Source: {id} ({image.Name}) in {session.region}.
        </Box>
        <FormField label="Destination Region">
          <Select
            selectedOption={{ value: destination, label: destination }}
            options={(regions.includes(destination) ? regions : [destination, ...regions]).map((r) => ({
              value: r,
              label: r,
              tags: r === session.region ? ["current region"] : undefined,
            }))}
            onChange={(e) => setDestination(e.detail.selectedOption.value ?? destination)}
          />
        </FormField>
        <FormField
          label="Name"
          constraintText="3-128 characters: letters, digits, spaces and ( ) [ ] . / - ' @ _"
        >
          <Input value={name} onChange={(e) => setName(e.detail.value)} />
        </FormField>
        <FormField label="Description">
          <Textarea value={description} rows={2} onChange={(e) => setDescription(e.detail.value)} />
        </FormField>
        <Checkbox
          checked={copyTags}
          onChange={(e) => setCopyTags(e.detail.checked)}
          description="The copy gets the source AMI's tags."
        >
          Copy tags
        </Checkbox>
        <ModalError header="The copy was refused" error={copy.error} />
      </SpaceBetween>
    </ConfirmModal>
  );
}

/** The copy lives in another region: a button to go there, until the console shows that region. */
function SwitchRegionHint({ region, imageId }: { region: string; imageId: string }) {
  const { session, setRegion } = useSessionState();
  return (
    <>
      The copy {imageId} is in {region}; it is pending until its snapshots are copied.
      {session?.region !== region && (
        <>
          {" "}
          <Button variant="inline-link" onClick={() => setRegion(region)}>
            Switch to {region}
          </Button>{" "}
          to follow it.
        </>
      )}
    </>
  );
}
