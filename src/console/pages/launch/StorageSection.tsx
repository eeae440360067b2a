// Configure storage: the root volume (at least the image's root snapshot in size), the image's
// other volumes as it defines them, and new empty volumes ("Add new volume" in the EC2 console).
import type { Image } from "@aws-sdk/client-ec2";
import AttributeEditor from "@cloudscape-design/components/attribute-editor";
import Box from "@cloudscape-design/components/box";
import Checkbox from "@cloudscape-design/components/checkbox";
import ColumnLayout from "@cloudscape-design/components/column-layout";
import Container from "@cloudscape-design/components/container";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import Select from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { rootVolumeOf } from "../../api/launch.ts";
import { type ExtraVolume, type LaunchForm, nextDevice, VOLUME_TYPES } from "./form.ts";

const typeOptions = VOLUME_TYPES.map((t) => ({ value: t, label: t }));

export function StorageSection(p: {
  image: Image | undefined;
  rootSize: string;
  rootType: string;
  volumes: ExtraVolume[];
  errors: { rootSize?: string; volumes?: string };
  onChange(patch: Partial<LaunchForm>): void;
}) {
  const root = rootVolumeOf(p.image);
  const setVolume = (index: number, patch: Partial<ExtraVolume>) =>
    p.onChange({ volumes: p.volumes.map((v, i) => (i === index ? { ...v, ...patch } : v)) });
  const imageVolumes = (p.image?.BlockDeviceMappings ?? []).filter(
    (m) => m.Ebs && m.DeviceName !== p.image?.RootDeviceName,
  );
  return (
    <Container header={<Header variant="h2">Configure storage</Header>}>
      <SpaceBetween size="l">
        <ColumnLayout columns={2}>
          <FormField
            label="Root volume size (GiB)"
            constraintText={
              root ? `At least ${root.sizeGiB} GiB, the size of the image's root snapshot.` : undefined
            }
            errorText={p.errors.rootSize}
          >
            <Input
              type="number"
              inputMode="numeric"
              value={p.rootSize}
              onChange={(e) => p.onChange({ rootSize: e.detail.value })}
            />
          </FormField>
          <FormField label="Root volume type">
            <Select
              selectedOption={{ value: p.rootType, label: p.rootType }}
              options={typeOptions}
              onChange={(e) => p.onChange({ rootType: e.detail.selectedOption.value ?? "gp3" })}
            />
          </FormField>
        </ColumnLayout>
        {imageVolumes.length > 0 && (
          <Box variant="small">
            Also from the image:{" "}
            {imageVolumes
              .map((m) => `${m.DeviceName} ${m.Ebs?.VolumeSize ?? "?"} GiB ${m.Ebs?.VolumeType ?? ""}`)
              .join(", ")}
          </Box>
        )}
        <FormField label="New volumes" errorText={p.errors.volumes}>
          <AttributeEditor
            items={p.volumes}
            addButtonText="Add new volume"
            removeButtonText="Remove"
            removeButtonAriaLabel={(v) => `Remove volume ${v.device}`}
            onAddButtonClick={() =>
              p.onChange({
                volumes: [
                  ...p.volumes,
                  {
                    device: nextDevice(p.image, p.volumes),
                    size: "8",
                    type: "gp3",
                    deleteOnTermination: true,
                  },
                ],
              })
            }
            onRemoveButtonClick={(e) =>
              p.onChange({ volumes: p.volumes.filter((_, i) => i !== e.detail.itemIndex) })
            }
            empty="No new volumes: the instance has the image's volumes only."
            definition={[
              {
                label: "Device name",
                control: (v, i) => (
                  <Input value={v.device} onChange={(e) => setVolume(i, { device: e.detail.value })} />
                ),
              },
              {
                label: "Size (GiB)",
                control: (v, i) => (
                  <Input
                    type="number"
                    value={v.size}
                    onChange={(e) => setVolume(i, { size: e.detail.value })}
                  />
                ),
              },
              {
                label: "Volume type",
                control: (v, i) => (
                  <Select
                    selectedOption={{ value: v.type, label: v.type }}
                    options={typeOptions}
                    onChange={(e) => setVolume(i, { type: e.detail.selectedOption.value ?? "gp3" })}
                  />
                ),
              },
              {
                label: "Delete on termination",
                control: (v, i) => (
                  <Checkbox
                    checked={v.deleteOnTermination}
                    onChange={(e) => setVolume(i, { deleteOnTermination: e.detail.checked })}
                  >
                    Delete on termination
                  </Checkbox>
                ),
              },
            ]}
          />
        </FormField>
      </SpaceBetween>
    </Container>
  );
}
