// One instance, as the EC2 console's instance page shows it: the id (and Name) as the title, the
// same Instance state and Actions menus as the list, and tabs for details, storage, networking,
// security and the serial console's output. Polled like the list (fast while changing state).

import Alert from "@cloudscape-design/components/alert";
import BreadcrumbGroup from "@cloudscape-design/components/breadcrumb-group";
import Button from "@cloudscape-design/components/button";
import Header from "@cloudscape-design/components/header";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Spinner from "@cloudscape-design/components/spinner";
import Tabs from "@cloudscape-design/components/tabs";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useParams } from "react-router";
import { errorText } from "../../api/errors.ts";
import { getInstance, instanceKeys } from "../../api/instances.ts";
import { href, useFollow } from "../../app/navigation.ts";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { nameTag } from "../shared/format.ts";
import { ConsoleOutputTab } from "./ConsoleOutputTab.tsx";
import { InstanceActionsMenu } from "./InstanceActionsMenu.tsx";
import { InstanceStateMenu } from "./InstanceStateMenu.tsx";
import { InstanceVolumesTable } from "./InstanceVolumesTable.tsx";
import { pollInterval } from "./instance-state.ts";
import { DetailsTab, NetworkingTab, SecurityTab } from "./instance-tabs.tsx";

export function InstanceDetailsPage() {
  const { id = "" } = useParams();
  const { region } = useSession();
  const ec2 = useEc2();
  const follow = useFollow();
  const [tab, setTab] = useState("details");
  const q = useQuery({
    queryKey: instanceKeys.one(region, id),
    queryFn: () => getInstance(ec2, id),
    refetchInterval: (query) =>
      query.state.error ? false : pollInterval(query.state.data ? [query.state.data] : []),
  });
  const instance = q.data;
  const name = instance ? nameTag(instance.Tags) : "";

  return (
    <SpaceBetween size="m">
      <BreadcrumbGroup
        ariaLabel="Breadcrumbs"
        onFollow={follow}
        items={[
          { text: "Instances", href: href("/instances") },
          { text: id, href: href(`/instances/${id}`) },
        ]}
      />
      <Header
        variant="h1"
        actions={
          instance && (
            <SpaceBetween direction="horizontal" size="xs">
              <Button
                iconName="refresh"
                ariaLabel="Refresh instance"
                loading={q.isFetching}
                onClick={() => void q.refetch()}
              />
              <InstanceStateMenu selected={[instance]} />
              <InstanceActionsMenu selected={[instance]} />
            </SpaceBetween>
          )
        }
      >
        {id}
        {name ? ` (${name})` : ""}
      </Header>
      {q.error && (
        <Alert type="error" header={`Failed to load ${id}`}>
          {errorText(q.error)}
        </Alert>
      )}
      {q.isLoading && <Spinner size="large" />}
      {instance && (
        <Tabs
          variant="container"
          ariaLabel="Instance details"
          activeTabId={tab}
          onChange={(e) => setTab(e.detail.activeTabId)}
          tabs={[
            { id: "details", label: "Details", content: <DetailsTab instance={instance} /> },
            {
              id: "storage",
              label: "Storage",
              content: <InstanceVolumesTable instance={instance} variant="embedded" />,
            },
            { id: "networking", label: "Networking", content: <NetworkingTab instance={instance} /> },
            { id: "security", label: "Security", content: <SecurityTab instance={instance} /> },
            { id: "console", label: "Console output", content: <ConsoleOutputTab instanceId={id} /> },
          ]}
        />
      )}
    </SpaceBetween>
  );
}
