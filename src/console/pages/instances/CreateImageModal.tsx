// Actions > Image and templates > Create image: CreateImage of one instance with a name,
// description, no-reboot and tags; its volumes are listed as the image will capture them (the EC2
// console's Create image page, as a modal).
import type { Instance, Tag } from "@aws-sdk/client-ec2";
import AttributeEditor from "@cloudscape-design/components/attribute-editor";
import Checkbox from "@cloudscape-design/components/checkbox";
import FormField from "@cloudscape-design/components/form-field";
import Input from "@cloudscape-design/components/input";
import Link from "@cloudscape-design/components/link";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Textarea from "@cloudscape-design/components/textarea";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { createImage, instanceKeys } from "../../api/instances.ts";
import { href, useFollow } from "../../app/navigation.ts";
import { useNotify } from "../../app/notifications.tsx";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { FormModal } from "../shared/FormModal.tsx";
import { InstanceVolumesTable } from "./InstanceVolumesTable.tsx";
import { imageDescriptionError, imageNameError, tagKeyError, tagValueError } from "./image-rules.ts";

export function CreateImageModal({ instance, onClose }: { instance: Instance; onClose(): void }) {
  const { region } = useSession();
  const ec2 = useEc2();
  const queries = useQueryClient();
  const follow = useFollow();
  const { notify, fail } = useNotify();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [noReboot, setNoReboot] = useState(false);
  const [tags, setTags] = useState<Tag[]>([]);
  const [submitted, setSubmitted] = useState(false);
  const id = instance.InstanceId ?? "";

  const mutation = useMutation({
    mutationFn: () => createImage(ec2, { instanceId: id, name, description, noReboot, tags }),
    onSuccess: (imageId) => {
      notify({
        type: "success",
        header: `Creating image ${imageId}`,
        content: (
          <>
            Image{" "}
            <Link href={href(`/images/${imageId}`)} onFollow={follow}>
              {imageId}
            </Link>{" "}
            is being created from {id}; it is pending until its snapshots complete.
          </>
        ),
      });
      void queries.invalidateQueries({ queryKey: ["images", region] });
      void queries.invalidateQueries({ queryKey: instanceKeys.all(region) });
      onClose();
    },
    // Shown in the form (the modal covers the page) and flashed, so it stays after Cancel.
    onError: (e) => fail(`Failed to create an image from ${id}`, e),
  });

  const nameError = imageNameError(name);
  const descriptionError = imageDescriptionError(description);
  const tagsInvalid = tags.some((t) => tagKeyError(t, tags) || tagValueError(t));
  const submit = () => {
    setSubmitted(true);
    if (!nameError && !descriptionError && !tagsInvalid) mutation.mutate();
  };
  const show = (error: string | undefined) => (submitted ? error : undefined);

  return (
    <FormModal
      visible
      size="large"
      header={`Create image from ${id}`}
      submitLabel="Create image"
      busy={mutation.isPending}
      error={mutation.error}
      onSubmit={submit}
      onClose={onClose}
    >
      <SpaceBetween size="l">
        <FormField
          label="Image name"
          constraintText="3-128 characters: letters, numbers, spaces and ( ) [ ] . / - ' @ _"
          errorText={show(nameError)}
        >
          <Input value={name} onChange={(e) => setName(e.detail.value)} />
        </FormField>
        <FormField
          label="Image description"
          constraintText="Optional, up to 255 characters"
          errorText={show(descriptionError)}
        >
          <Textarea value={description} rows={2} onChange={(e) => setDescription(e.detail.value)} />
        </FormField>
        <FormField
          label="Reboot"
          description="By default the instance is shut down cleanly before its volumes are snapshotted and started again after, so the image is consistent. With No reboot it keeps running; files being written may be captured half-done."
        >
          <Checkbox checked={noReboot} onChange={(e) => setNoReboot(e.detail.checked)}>
            No reboot
          </Checkbox>
        </FormField>
        <FormField label="Instance volumes" description="Every volume is snapshotted into the image." stretch>
          <InstanceVolumesTable instance={instance} variant="embedded" brief />
        </FormField>
        <FormField label="Tags" description="Applied to the image and its snapshots." stretch>
          <AttributeEditor
            items={tags}
            addButtonText="Add new tag"
            removeButtonText="Remove"
            removeButtonAriaLabel={(t: Tag) => `Remove tag ${t.Key ?? ""}`}
            empty="No tags"
            onAddButtonClick={() => setTags((all) => [...all, { Key: "", Value: "" }])}
            onRemoveButtonClick={(e) => setTags((all) => all.filter((_t, i) => i !== e.detail.itemIndex))}
            definition={[
              {
                label: "Key",
                control: (t: Tag, i: number) => (
                  <Input
                    value={t.Key ?? ""}
                    onChange={(e) => setTags(edit(tags, i, { Key: e.detail.value }))}
                  />
                ),
                errorText: (t: Tag) => show(tagKeyError(t, tags)),
              },
              {
                label: "Value",
                control: (t: Tag, i: number) => (
                  <Input
                    value={t.Value ?? ""}
                    onChange={(e) => setTags(edit(tags, i, { Value: e.detail.value }))}
                  />
                ),
                errorText: (t: Tag) => show(tagValueError(t)),
              },
            ]}
          />
        </FormField>
      </SpaceBetween>
    </FormModal>
  );
}

function edit(tags: Tag[], index: number, change: Partial<Tag>): Tag[] {
  return tags.map((t, i) => (i === index ? { ...t, ...change } : t));
}
