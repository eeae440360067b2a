// Name and tags: the Name tag and any others, written on the instances and their volumes (the
// EC2 console's default resource types for the launch's tags).
import AttributeEditor from "@cloudscape-design/components/attribute-editor";
import Container from "@cloudscape-design/components/container";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import SpaceBetween from "@cloudscape-design/components/space-between";
import type { LaunchForm } from "./form.ts";

type Tag = LaunchForm["tags"][number];

export function NameAndTagsSection(p: {
  name: string;
  tags: Tag[];
  tagsError?: string;
  onChange(patch: Partial<LaunchForm>): void;
}) {
  const setTag = (index: number, patch: Partial<Tag>) =>
    p.onChange({ tags: p.tags.map((t, i) => (i === index ? { ...t, ...patch } : t)) });
  return (
    <Container header={<Header variant="h2">Name and tags</Header>}>
      <SpaceBetween size="l">
        <FormField label="Name" description="The Name tag of the instances and their volumes.">
          <Input
            value={p.name}
            onChange={(e) => p.onChange({ name: e.detail.value })}
            placeholder="e.g. My web server"
          />
        </FormField>
        <FormField label="Additional tags" errorText={p.tagsError}>
          <AttributeEditor
            items={p.tags}
            addButtonText="Add tag"
            removeButtonText="Remove"
            removeButtonAriaLabel={(t) => `Remove tag ${t.key}`}
            onAddButtonClick={() => p.onChange({ tags: [...p.tags, { key: "", value: "" }] })}
            onRemoveButtonClick={(e) =>
              p.onChange({ tags: p.tags.filter((_, i) => i !== e.detail.itemIndex) })
            }
            empty="No additional tags."
            definition={[
              {
                label: "Tag key",
                control: (t, i) => (
                  <Input value={t.key} onChange={(e) => setTag(i, { key: e.detail.value })} />
                ),
              },
              {
                label: "Tag value",
                control: (t, i) => (
                  <Input value={t.value} onChange={(e) => setTag(i, { value: e.detail.value })} />
                ),
              },
            ]}
          />
        </FormField>
      </SpaceBetween>
    </Container>
  );
}
