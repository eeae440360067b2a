// /images/:id: one AMI as the AWS console's AMI page shows it: details, block devices (with
// links to their snapshots), permissions (owner only), tags and storage, with the list's actions.
// Polls every 2 s while the image is pending.
import Alert from "@cloudscape-design/components/alert";
import BreadcrumbGroup from "@cloudscape-design/components/breadcrumb-group";
import ContentLayout from "@cloudscape-design/components/content-layout";
import Header from "@cloudscape-design/components/header";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Spinner from "@cloudscape-design/components/spinner";
import { useQuery } from "@tanstack/react-query";
import { useNavigate, useParams } from "react-router";
import { errorText } from "../../api/errors.ts";
import { describeImage, imageKeys, isPending } from "../../api/images.ts";
import { href, useFollow } from "../../app/navigation.ts";
import { useEc2, useSession } from "../../app/session-context.tsx";
import {
  BlockDevices,
  ImageDetails,
  ImagePermissions,
  ImageStorageSection,
  ImageTags,
} from "./DetailsSections.tsx";
import { useAccountId } from "./hooks.ts";
import { ImageActions } from "./ImageActions.tsx";

export function ImageDetailsPage() {
  const id = useParams().id ?? "";
  const { region } = useSession();
  const ec2 = useEc2();
  const follow = useFollow();
  const navigate = useNavigate();
  const accountId = useAccountId();
  const q = useQuery({
    queryKey: imageKeys.detail(region, id),
    queryFn: () => describeImage(ec2, id),
    refetchInterval: (query) => (query.state.data && isPending(query.state.data) ? 2000 : 10_000),
  });
  const image = q.data;
  const owned = !!image && image.OwnerId === accountId;
  return (
    <ContentLayout
      header={
        <SpaceBetween size="xs">
          <BreadcrumbGroup
            ariaLabel="Breadcrumbs"
            onFollow={follow}
            items={[
              { text: "AMIs", href: href("/images") },
              { text: id, href: href(`/images/${id}`) },
            ]}
          />
          <Header
            variant="h1"
            actions={
              image && <ImageActions image={image} owned={owned} onDeregistered={() => navigate("/images")} />
            }
          >
            {image?.Name ? `${id} (${image.Name})` : id}
          </Header>
        </SpaceBetween>
      }
    >
      {q.error ? (
        <Alert type="error" header={`Could not load ${id}`} statusIconAriaLabel="Error">
          {errorText(q.error)}
        </Alert>
      ) : !image ? (
        <Spinner size="large" />
      ) : (
        <SpaceBetween size="l">
          <ImageDetails image={image} />
          <BlockDevices image={image} />
          {owned && <ImagePermissions imageId={id} />}
          <ImageTags image={image} />
          <ImageStorageSection image={image} owned={owned} />
        </SpaceBetween>
      )}
    </ContentLayout>
  );
}
