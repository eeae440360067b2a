// A security group (/security-groups/:id): its details and its inbound and outbound rules in tabs,
// as the AWS console shows them; `?edit=inbound` or `?edit=outbound` is the rules editor.
import Alert from "@cloudscape-design/components/alert";
import BreadcrumbGroup from "@cloudscape-design/components/breadcrumb-group";
import Button from "@cloudscape-design/components/button";
import Container from "@cloudscape-design/components/container";
import Header from "@cloudscape-design/components/header";
import KeyValuePairs from "@cloudscape-design/components/key-value-pairs";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Tabs from "@cloudscape-design/components/tabs";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigate, useParams, useSearchParams } from "react-router";
import { errorText } from "../../api/errors.ts";
import {
  getSecurityGroup,
  listGroupRules,
  ruleCount,
  rulesOf,
  securityGroupKeys,
} from "../../api/security-groups.ts";
import { href, useFollow } from "../../app/navigation.ts";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { nameTag } from "../shared/format.ts";
import { DeleteSecurityGroupModal } from "./DeleteSecurityGroupModal.tsx";
import { EditRulesPage } from "./EditRulesPage.tsx";
import { RulesTable } from "./RulesTable.tsx";

export function SecurityGroupDetailsPage() {
  const { id = "" } = useParams();
  const [search] = useSearchParams();
  const edit = search.get("edit");
  if (edit === "inbound" || edit === "outbound") return <EditRulesPage groupId={id} direction={edit} />;
  return <GroupDetails id={id} />;
}

const REFRESH_MS = 10_000;

function GroupDetails({ id }: { id: string }) {
  const { region } = useSession();
  const ec2 = useEc2();
  const follow = useFollow();
  const navigate = useNavigate();
  const [tab, setTab] = useState("inbound");
  const [deleting, setDeleting] = useState(false);
  const group = useQuery({
    queryKey: securityGroupKeys.one(region, id),
    queryFn: () => getSecurityGroup(ec2, id),
    refetchInterval: REFRESH_MS,
  });
  const rules = useQuery({
    queryKey: securityGroupKeys.rules(region, id),
    queryFn: () => listGroupRules(ec2, id),
    refetchInterval: REFRESH_MS,
  });
  const g = group.data;
  const name = g ? nameTag(g.Tags) : "";
  const error = group.error ?? rules.error;
  return (
    <SpaceBetween size="l">
      <BreadcrumbGroup
        ariaLabel="Breadcrumbs"
        onFollow={follow}
        items={[
          { text: "Security groups", href: href("/security-groups") },
          { text: id, href: href(`/security-groups/${id}`) },
        ]}
      />
      <Header
        variant="h1"
        actions={
          <Button disabled={!g} onClick={() => setDeleting(true)}>
            Delete security group
          </Button>
        }
      >
        {name ? `${id} - ${name}` : id}
      </Header>
      {error ? (
        <Alert type="error" header="Could not load the security group">
          {errorText(error)}
        </Alert>
      ) : null}
      <Container header={<Header variant="h2">Details</Header>}>
        <KeyValuePairs
          columns={3}
          items={[
            { label: "Security group name", value: g?.GroupName ?? "-" },
            { label: "Security group ID", value: id },
            { label: "Description", value: g?.Description ?? "-" },
            { label: "VPC ID", value: g?.VpcId ?? "-" },
            { label: "Owner", value: g?.OwnerId ?? "-" },
            { label: "Inbound rules count", value: g ? String(ruleCount(g.IpPermissions)) : "-" },
            { label: "Outbound rules count", value: g ? String(ruleCount(g.IpPermissionsEgress)) : "-" },
          ]}
        />
      </Container>
      <Tabs
        activeTabId={tab}
        onChange={(e) => setTab(e.detail.activeTabId)}
        ariaLabel="Security group rules"
        tabs={(["inbound", "outbound"] as const).map((direction) => ({
          id: direction,
          label: direction === "inbound" ? "Inbound rules" : "Outbound rules",
          content: (
            <RulesTable
              direction={direction}
              rules={rulesOf(rules.data ?? [], direction)}
              loading={rules.isPending}
              onEdit={() => navigate(`/security-groups/${id}?edit=${direction}`)}
            />
          ),
        }))}
      />
      <DeleteSecurityGroupModal
        group={deleting ? g : undefined}
        onClose={() => setDeleting(false)}
        onDeleted={() => navigate("/security-groups")}
      />
    </SpaceBetween>
  );
}
