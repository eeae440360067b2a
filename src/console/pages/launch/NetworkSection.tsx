// Network settings: VPC (the default one preselected), subnet ("No preference" = a default subnet
// in any zone, offered only in the default VPC as on EC2), auto-assign public IP (the subnet's own
// setting until changed), security groups of the VPC (its "default" group preselected).
import type { Subnet } from "@aws-sdk/client-ec2";
import Box from "@cloudscape-design/components/box";
import Container from "@cloudscape-design/components/container";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Multiselect from "@cloudscape-design/components/multiselect";
import Select, { type SelectProps } from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Toggle from "@cloudscape-design/components/toggle";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { errorText } from "../../api/errors.ts";
import { launchKeys, listSecurityGroups, listSubnets, listVpcs } from "../../api/launch.ts";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { nameTag } from "../shared/format.ts";
import type { LaunchForm } from "./form.ts";

const NO_PREFERENCE = "__none__";

function subnetLabel(s: Subnet): string {
  const name = nameTag(s.Tags);
  return `${s.SubnetId}${name ? ` (${name})` : ""}`;
}

type NetworkFields = Pick<LaunchForm, "vpcId" | "subnetId" | "autoAssignPublicIp" | "securityGroupIds">;

export function NetworkSection(p: NetworkFields & { onChange(patch: Partial<LaunchForm>): void }) {
  const { region } = useSession();
  const ec2 = useEc2();
  const { onChange } = p;
  const vpcs = useQuery({ queryKey: launchKeys.vpcs(region), queryFn: () => listVpcs(ec2) });
  const subnets = useQuery({
    queryKey: launchKeys.subnets(region, p.vpcId),
    queryFn: () => listSubnets(ec2, p.vpcId),
    enabled: !!p.vpcId,
  });
  const groups = useQuery({
    queryKey: launchKeys.securityGroups(region, p.vpcId),
    queryFn: () => listSecurityGroups(ec2, p.vpcId),
    enabled: !!p.vpcId,
  });
  const vpc = vpcs.data?.find((v) => v.VpcId === p.vpcId);
  const isDefaultVpc = vpc?.IsDefault ?? false;

  // The default VPC (listed first) until the user picks another.
  useEffect(() => {
    if (!p.vpcId && vpcs.data?.length) onChange({ vpcId: vpcs.data[0].VpcId ?? "" });
  }, [p.vpcId, vpcs.data, onChange]);

  // A VPC other than the default one has no "No preference": its first subnet is chosen.
  useEffect(() => {
    if (vpc && !isDefaultVpc && !p.subnetId && subnets.data?.length) {
      onChange({ subnetId: subnets.data[0].SubnetId ?? "" });
    }
  }, [vpc, isDefaultVpc, p.subnetId, subnets.data, onChange]);

  // Auto-assign public IP follows the subnet's MapPublicIpOnLaunch (EC2's default) when it changes.
  const subnet = subnets.data?.find((s) => s.SubnetId === p.subnetId);
  const mapsPublic = subnet
    ? (subnet.MapPublicIpOnLaunch ?? false)
    : (subnets.data?.some((s) => s.DefaultForAz && s.MapPublicIpOnLaunch) ?? true);
  const subnetSeen = useRef<string>(undefined);
  useEffect(() => {
    if (!subnets.data) return;
    const key = `${p.vpcId}/${p.subnetId}`;
    if (subnetSeen.current === key) return;
    subnetSeen.current = key;
    onChange({ autoAssignPublicIp: mapsPublic });
  }, [subnets.data, p.vpcId, p.subnetId, mapsPublic, onChange]);

  // The VPC's "default" security group, once per VPC chosen (as the EC2 console preselects it).
  const groupsFor = useRef<string>(undefined);
  useEffect(() => {
    if (!groups.data || groupsFor.current === p.vpcId) return;
    groupsFor.current = p.vpcId;
    const def = groups.data.find((g) => g.GroupName === "default");
    onChange({ securityGroupIds: def?.GroupId ? [def.GroupId] : [] });
  }, [groups.data, p.vpcId, onChange]);

  if (vpcs.isSuccess && vpcs.data.length === 0) {
    return (
      <Container header={<Header variant="h2">Network settings</Header>}>
        <Box>This region has no VPC: instances join the daemon's default network.</Box>
      </Container>
    );
  }

  const vpcOptions: SelectProps.Option[] = (vpcs.data ?? []).map((v) => ({
    value: v.VpcId,
    label: `${v.VpcId}${nameTag(v.Tags) ? ` (${nameTag(v.Tags)})` : ""}`,
    description: `${v.CidrBlock ?? ""}${v.IsDefault ? " · default VPC" : ""}`,
  }));
  const subnetOptions: SelectProps.Option[] = [
    ...(isDefaultVpc
      ? [
          {
            value: NO_PREFERENCE,
            label: "No preference",
            description: "A default subnet in any Availability Zone",
          },
        ]
      : []),
    ...(subnets.data ?? []).map((s) => ({
      value: s.SubnetId,
      label: subnetLabel(s),
      description: `${s.AvailabilityZone ?? ""} · ${s.CidrBlock ?? ""} · ${s.AvailableIpAddressCount ?? "?"} addresses free`,
    })),
  ];
  const groupOptions: SelectProps.Option[] = (groups.data ?? []).map((g) => ({
    value: g.GroupId,
    label: g.GroupName ?? g.GroupId,
    description: `${g.GroupId} · ${g.Description ?? ""}`,
  }));
  const subnetValue = p.subnetId || NO_PREFERENCE;
  return (
    <Container header={<Header variant="h2">Network settings</Header>}>
      <SpaceBetween size="l">
        <FormField label="VPC" errorText={vpcs.error ? errorText(vpcs.error) : undefined}>
          <Select
            selectedOption={vpcOptions.find((o) => o.value === p.vpcId) ?? null}
            options={vpcOptions}
            onChange={(e) =>
              onChange({ vpcId: e.detail.selectedOption.value ?? "", subnetId: "", securityGroupIds: [] })
            }
            statusType={vpcs.isLoading ? "loading" : "finished"}
            loadingText="Loading VPCs"
            filteringType="auto"
            filteringAriaLabel="Find a network"
            placeholder="Choose a VPC"
          />
        </FormField>
        <FormField label="Subnet" errorText={subnets.error ? errorText(subnets.error) : undefined}>
          <Select
            selectedOption={subnetOptions.find((o) => o.value === subnetValue) ?? null}
            options={subnetOptions}
            onChange={(e) => {
              const v = e.detail.selectedOption.value;
              onChange({ subnetId: !v || v === NO_PREFERENCE ? "" : v });
            }}
            statusType={subnets.isLoading ? "loading" : "finished"}
            loadingText="Loading subnets"
            filteringType="auto"
            filteringAriaLabel="Find a zone or range"
            placeholder="Choose a subnet"
          />
        </FormField>
        <FormField description="A public IPv4 address on the instance's interface (the subnet's setting by default).">
          <Toggle
            checked={p.autoAssignPublicIp}
            onChange={(e) => onChange({ autoAssignPublicIp: e.detail.checked })}
          >
            Auto-assign public IP
          </Toggle>
        </FormField>
        <FormField label="Security groups" errorText={groups.error ? errorText(groups.error) : undefined}>
          <Multiselect
            selectedOptions={groupOptions.filter((o) => p.securityGroupIds.includes(o.value ?? ""))}
            options={groupOptions}
            onChange={(e) =>
              onChange({
                securityGroupIds: e.detail.selectedOptions.map((o) => o.value ?? "").filter(Boolean),
              })
            }
            filteringType="auto"
            filteringAriaLabel="Find a group"
            virtualScroll
            // Not "Choose security groups": Cloudscape names the closed option list after the trigger's
            // text, and "Security groups" must name one control (tests find controls by label).
            placeholder="Choose groups"
            statusType={groups.isLoading ? "loading" : "finished"}
            loadingText="Loading security groups"
            deselectAriaLabel={(o) => `Remove ${o.label}`}
          />
        </FormField>
      </SpaceBetween>
    </Container>
  );
}
