// "Edit inbound rules" / "Edit outbound rules" (/security-groups/:id?edit=inbound): the group's
// rules of one direction as editable rows; "Save rules" applies the difference (rule-plan.ts).
// An error of the API is shown in the form with its code and message, and the rows stay as typed.
import Button from "@cloudscape-design/components/button";
import Container from "@cloudscape-design/components/container";
import Form from "@cloudscape-design/components/form";
import Header from "@cloudscape-design/components/header";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useNavigate } from "react-router";
import { errorText } from "../../api/errors.ts";
import {
  applyRulePlan,
  type Direction,
  getSecurityGroup,
  listGroupRules,
  rulesOf,
  securityGroupKeys,
} from "../../api/security-groups.ts";
import { useNotify } from "../../app/notifications.tsx";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { usePeerOptions } from "./hooks.ts";
import { RulesEditor } from "./RulesEditor.tsx";
import { type DraftError, draftOf, type RuleDraft } from "./rule-model.ts";
import { isEmptyPlan, planRules } from "./rule-plan.ts";

const TEXT = {
  inbound: {
    title: "Edit inbound rules",
    description: "Inbound rules control the incoming traffic that is allowed to reach the instance.",
    container: "Inbound rules",
  },
  outbound: {
    title: "Edit outbound rules",
    description: "Outbound rules control the outgoing traffic that is allowed to leave the instance.",
    container: "Outbound rules",
  },
};

export function EditRulesPage({ groupId, direction }: { groupId: string; direction: Direction }) {
  const { region } = useSession();
  const ec2 = useEc2();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const { notify } = useNotify();
  const group = useQuery({
    queryKey: securityGroupKeys.one(region, groupId),
    queryFn: () => getSecurityGroup(ec2, groupId),
  });
  const rules = useQuery({
    queryKey: securityGroupKeys.rules(region, groupId),
    queryFn: () => listGroupRules(ec2, groupId),
    // The rows start from the rules as they are now, not as a cached page last saw them.
    refetchOnMount: "always",
  });
  const peers = usePeerOptions(group.data?.VpcId);
  const [drafts, setDrafts] = useState<RuleDraft[]>();
  const [errors, setErrors] = useState(new Map<string, DraftError>());
  const [apiError, setApiError] = useState<string>();
  useEffect(() => {
    if (!drafts && rules.data && !rules.isFetching) setDrafts(rulesOf(rules.data, direction).map(draftOf));
  }, [drafts, rules.data, rules.isFetching, direction]);
  const back = () => navigate(`/security-groups/${groupId}`);

  const save = useMutation({
    mutationFn: async (rows: RuleDraft[]) => {
      // Planned against the rules as they are at this moment (see planRules).
      const current = rulesOf(await listGroupRules(ec2, groupId), direction);
      const result = planRules(current, rows);
      if ("errors" in result) return { errors: result.errors };
      if (!isEmptyPlan(result.plan)) await applyRulePlan(ec2, groupId, direction, result.plan);
      return { errors: undefined, changed: !isEmptyPlan(result.plan) };
    },
    onMutate: () => setApiError(undefined),
    onSuccess: (r) => {
      if (r.errors) {
        setErrors(r.errors);
        return;
      }
      setErrors(new Map());
      notify({
        type: r.changed ? "success" : "info",
        content: r.changed
          ? `Saved the ${direction} rules of security group ${groupId}.`
          : `The ${direction} rules of ${groupId} are unchanged.`,
      });
      back();
    },
    onError: (e) => setApiError(errorText(e)),
    onSettled: () => queries.invalidateQueries({ queryKey: securityGroupKeys.all(region) }),
  });

  const text = TEXT[direction];
  const loadError = group.error ?? rules.error;
  return (
    <form onSubmit={(e) => e.preventDefault()}>
      <Form
        header={
          <Header variant="h1" description={text.description}>
            {text.title}
          </Header>
        }
        errorText={apiError ?? (loadError ? errorText(loadError) : undefined)}
        errorIconAriaLabel="Error"
        actions={
          <SpaceBetween direction="horizontal" size="xs">
            <Button formAction="none" variant="link" onClick={back}>
              Cancel
            </Button>
            <Button
              variant="primary"
              loading={save.isPending}
              disabled={!drafts}
              onClick={() => drafts && save.mutate(drafts)}
            >
              Save rules
            </Button>
          </SpaceBetween>
        }
      >
        <Container
          header={
            <Header variant="h2" description={`${groupId}${group.data ? ` (${group.data.GroupName})` : ""}`}>
              {text.container}
            </Header>
          }
        >
          <RulesEditor
            direction={direction}
            drafts={drafts ?? []}
            onChange={(d) => {
              setDrafts(d);
              setErrors(new Map());
            }}
            errors={errors}
            groups={peers}
            disabled={!drafts || save.isPending}
          />
        </Container>
      </Form>
    </form>
  );
}
