// "Create security group" (/security-groups/create), as the AWS console's page: name, description,
// VPC (the default VPC preselected), inbound rules (none) and outbound rules (all traffic to
// anywhere, the rule EC2 gives every new group). CreateSecurityGroup, then the rules' changes
// against what EC2 made (Authorize for the new rows, Revoke for the default egress rule if removed).
import Button from "@cloudscape-design/components/button";
import Container from "@cloudscape-design/components/container";
import Form from "@cloudscape-design/components/form";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import Select from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigate } from "react-router";
import { errorText } from "../../api/errors.ts";
import {
  applyRulePlan,
  createSecurityGroup,
  type Direction,
  listGroupRules,
  rulesOf,
  securityGroupKeys,
} from "../../api/security-groups.ts";
import { useNotify } from "../../app/notifications.tsx";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { nameTag } from "../shared/format.ts";
import { usePeerOptions, useVpcs } from "./hooks.ts";
import { RulesEditor } from "./RulesEditor.tsx";
import { type DraftError, newDraft, type RuleDraft } from "./rule-model.ts";
import { planRules } from "./rule-plan.ts";

export function CreateSecurityGroupPage() {
  const { region } = useSession();
  const ec2 = useEc2();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const { notify, fail } = useNotify();
  const vpcs = useVpcs();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [vpcChoice, setVpcId] = useState<string>();
  const vpcId = vpcChoice ?? vpcs.data?.[0]?.VpcId;
  const [inbound, setInbound] = useState<RuleDraft[]>([]);
  const [outbound, setOutbound] = useState<RuleDraft[]>(() => [newDraft("all-traffic", "0.0.0.0/0")]);
  const [errors, setErrors] = useState(new Map<string, DraftError>());
  const [submitted, setSubmitted] = useState(false);
  const [apiError, setApiError] = useState<string>();
  const peers = usePeerOptions(vpcId);

  const create = useMutation({
    mutationFn: async () => {
      const groupId = await createSecurityGroup(ec2, { name: name.trim(), description, vpcId });
      try {
        // Against the rules EC2 gave the new group (its default egress rule).
        const current = await listGroupRules(ec2, groupId);
        for (const [direction, rows] of [
          ["inbound", inbound],
          ["outbound", outbound],
        ] as const) {
          const result = planRules(rulesOf(current, direction), rows);
          if ("plan" in result) await applyRulePlan(ec2, groupId, direction, result.plan);
        }
      } catch (e) {
        return { groupId, rulesError: e };
      }
      return { groupId };
    },
    onMutate: () => setApiError(undefined),
    onSuccess: ({ groupId, rulesError }) => {
      if (rulesError) fail(`Security group ${groupId} was created, but not all its rules`, rulesError);
      else notify({ type: "success", content: `Created security group ${groupId}.` });
      navigate(`/security-groups/${groupId}`);
    },
    onError: (e) => setApiError(errorText(e)),
    onSettled: () => queries.invalidateQueries({ queryKey: securityGroupKeys.all(region) }),
  });

  /** What the console can tell before any call: required fields, rows it cannot turn into rules. */
  const submit = () => {
    setSubmitted(true);
    const rowErrors = new Map<string, DraftError>();
    for (const rows of [inbound, outbound]) {
      const r = planRules([], rows);
      if ("errors" in r) for (const [k, v] of r.errors) rowErrors.set(k, v);
    }
    setErrors(rowErrors);
    if (!name.trim() || !description.trim() || rowErrors.size) return;
    create.mutate();
  };

  const vpcOptions = (vpcs.data ?? []).map((v) => ({
    value: v.VpcId ?? "",
    label: v.VpcId,
    description: [nameTag(v.Tags), v.CidrBlock, v.IsDefault ? "default" : ""].filter(Boolean).join(" | "),
  }));
  const editor = (direction: Direction, rows: RuleDraft[], set: (d: RuleDraft[]) => void) => (
    <Container
      header={<Header variant="h2">{direction === "inbound" ? "Inbound rules" : "Outbound rules"}</Header>}
    >
      <RulesEditor
        direction={direction}
        drafts={rows}
        onChange={(d) => {
          set(d);
          setErrors(new Map());
        }}
        errors={errors}
        groups={peers}
        disabled={create.isPending}
      />
    </Container>
  );
  return (
    <form onSubmit={(e) => e.preventDefault()}>
      <Form
        header={
          <Header
            variant="h1"
            description="A security group acts as a virtual firewall for your instance to control inbound and outbound traffic."
          >
            Create security group
          </Header>
        }
        errorText={apiError ?? (vpcs.error ? errorText(vpcs.error) : undefined)}
        errorIconAriaLabel="Error"
        actions={
          <SpaceBetween direction="horizontal" size="xs">
            <Button formAction="none" variant="link" onClick={() => navigate("/security-groups")}>
              Cancel
            </Button>
            <Button variant="primary" loading={create.isPending} onClick={submit}>
              Create security group
            </Button>
          </SpaceBetween>
        }
      >
        <SpaceBetween size="l">
          <Container header={<Header variant="h2">Basic details</Header>}>
            <SpaceBetween size="m">
              <FormField
                label="Security group name"
                constraintText="Up to 255 characters. Cannot start with sg-."
                errorText={submitted && !name.trim() ? "Enter a name." : undefined}
              >
                <Input value={name} onChange={(e) => setName(e.detail.value)} />
              </FormField>
              <FormField
                label="Description"
                errorText={submitted && !description.trim() ? "Enter a description." : undefined}
              >
                <Input value={description} onChange={(e) => setDescription(e.detail.value)} />
              </FormField>
              <FormField label="VPC">
                <Select
                  selectedOption={vpcOptions.find((o) => o.value === vpcId) ?? null}
                  options={vpcOptions}
                  statusType={vpcs.isPending ? "loading" : "finished"}
                  loadingText="Loading VPCs"
                  placeholder="Choose a VPC"
                  onChange={(e) => setVpcId(e.detail.selectedOption.value)}
                />
              </FormField>
            </SpaceBetween>
          </Container>
          {editor("inbound", inbound, setInbound)}
          {editor("outbound", outbound, setOutbound)}
        </SpaceBetween>
      </Form>
    </form>
  );
}
