// Instance type: every type DescribeInstanceTypes lists, with its vCPUs and memory. A type whose
// processor cannot run the image's architecture is shown disabled with why (Strata's guests are
// x86_64, so arm64 types are known but cannot launch), as the EC2 console greys out mismatches.
import type { Image, InstanceTypeInfo } from "@aws-sdk/client-ec2";
import Container from "@cloudscape-design/components/container";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Select, { type SelectProps } from "@cloudscape-design/components/select";

function memory(t: InstanceTypeInfo): string {
  const mib = t.MemoryInfo?.SizeInMiB ?? 0;
  return mib < 1024 ? `${mib} MiB` : `${Number((mib / 1024).toFixed(2))} GiB`;
}

export function typeOption(t: InstanceTypeInfo, image: Image | undefined): SelectProps.Option {
  const archs = t.ProcessorInfo?.SupportedArchitectures ?? [];
  const arch = image?.Architecture ?? "x86_64";
  const runs = archs.includes(arch as "x86_64");
  return {
    value: t.InstanceType,
    label: t.InstanceType,
    description: `${t.VCpuInfo?.DefaultVCpus ?? "?"} vCPU · ${memory(t)} memory · ${archs.join(", ")}`,
    tags: t.FreeTierEligible ? ["Free tier eligible"] : undefined,
    disabled: !runs,
    disabledReason: runs
      ? undefined
      : `${archs.join(", ")}: cannot run this ${arch} image (Strata runs x86_64 guests only).`,
  };
}

export function InstanceTypeSection(p: {
  types: InstanceTypeInfo[] | undefined;
  loading: boolean;
  image: Image | undefined;
  value: string;
  errorText?: string;
  onChange(type: string): void;
}) {
  const options = (p.types ?? []).map((t) => typeOption(t, p.image));
  const selected =
    options.find((o) => o.value === p.value) ?? (p.value ? { value: p.value, label: p.value } : null);
  return (
    <Container header={<Header variant="h2">Instance type</Header>}>
      <FormField
        label="Instance type"
        description="The vCPUs and memory of each instance."
        errorText={p.errorText}
      >
        <Select
          selectedOption={selected}
          options={options}
          onChange={(e) => p.onChange(e.detail.selectedOption.value ?? "")}
          filteringType="auto"
          filteringPlaceholder="Find a type, e.g. t3.micro"
          filteringAriaLabel="Find a type"
          triggerVariant="option"
          statusType={p.loading ? "loading" : "finished"}
          loadingText="Loading instance types"
          virtualScroll
        />
      </FormField>
    </Container>
  );
}
