// Application and OS image: the images the caller may launch, grouped as the EC2 console's AMI
// picker groups them (mine, shared with me, public), each shown by name and id.
import type { Image } from "@aws-sdk/client-ec2";
import Container from "@cloudscape-design/components/container";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import KeyValuePairs from "@cloudscape-design/components/key-value-pairs";
import Select, { type SelectProps } from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import type { ImageSource, LaunchableImage } from "../../api/launch.ts";
import { formatDate } from "../shared/format.ts";

const GROUPS: { source: ImageSource; label: string }[] = [
  { source: "owned", label: "My AMIs" },
  { source: "shared", label: "Shared with me" },
  { source: "public", label: "Public images" },
];

function option(i: Image): SelectProps.Option {
  return {
    value: i.ImageId,
    label: i.Name ?? i.ImageId,
    description: `${i.ImageId} · ${i.Architecture ?? "?"} · owner ${i.ImageOwnerAlias ?? i.OwnerId}`,
    tags: [i.Architecture ?? ""],
    filteringTags: [i.ImageId ?? "", i.Description ?? ""],
  };
}

export function ImageSection(p: {
  images: LaunchableImage[] | undefined;
  loading: boolean;
  image: Image | undefined;
  imageId: string;
  errorText?: string;
  onChange(imageId: string): void;
}) {
  const groups: SelectProps.OptionGroup[] = GROUPS.map((g) => ({
    label: g.label,
    options: (p.images ?? []).filter((i) => i.source === g.source).map((i) => option(i.image)),
  })).filter((g) => g.options.length > 0);
  // An image named by ?imageId= that no list has (e.g. deprecated) is still offered.
  const listed = p.images?.some((i) => i.image.ImageId === p.imageId);
  const extra = p.image && !listed ? [option(p.image)] : [];
  const selected = p.image ? option(p.image) : p.imageId ? { value: p.imageId, label: p.imageId } : null;
  return (
    <Container header={<Header variant="h2">Application and OS image</Header>}>
      <SpaceBetween size="l">
        <FormField
          label="Amazon Machine Image (AMI)"
          description="The images you own, those shared with you, and public ones."
          errorText={p.errorText}
        >
          <Select
            selectedOption={selected}
            options={[...extra, ...groups]}
            onChange={(e) => p.onChange(e.detail.selectedOption.value ?? "")}
            filteringType="auto"
            filteringPlaceholder="Find an image by name or id"
            filteringAriaLabel="Find an image"
            placeholder="Choose an image"
            triggerVariant="option"
            statusType={p.loading ? "loading" : "finished"}
            loadingText="Loading images"
            empty="No images you can launch in this region"
            virtualScroll
          />
        </FormField>
        {p.image && (
          <KeyValuePairs
            columns={4}
            items={[
              { label: "Architecture", value: p.image.Architecture ?? "-" },
              { label: "Root device", value: p.image.RootDeviceName ?? "-" },
              { label: "Owner", value: p.image.ImageOwnerAlias ?? p.image.OwnerId ?? "-" },
              { label: "Created", value: formatDate(p.image.CreationDate) },
            ]}
          />
        )}
      </SpaceBetween>
    </Container>
  );
}
