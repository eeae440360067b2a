// Launch an instance, as the EC2 console's one-page wizard: name and tags, image, instance type,
// key pair, network, storage, advanced details, and a Summary with the count and the Launch
// button. `?imageId=` preselects an image (Launch instance from AMI), even another account's
// image shared with this one. On success: the Instances list, with the new ids in a flash.
import ContentLayout from "@cloudscape-design/components/content-layout";
import Grid from "@cloudscape-design/components/grid";
import Header from "@cloudscape-design/components/header";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { useNavigate, useSearchParams } from "react-router";
import { errorText } from "../../api/errors.ts";
import {
  getImage,
  launchKeys,
  listInstanceTypes,
  listLaunchableImages,
  rootVolumeOf,
  runInstances,
} from "../../api/launch.ts";
import { useNotify } from "../../app/notifications.tsx";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { AdvancedSection } from "./AdvancedSection.tsx";
import {
  type FormErrors,
  initialForm,
  type LaunchForm,
  newClientToken,
  toRunInstances,
  validate,
} from "./form.ts";
import { ImageSection } from "./ImageSection.tsx";
import { InstanceTypeSection } from "./InstanceTypeSection.tsx";
import { KeyPairSection } from "./KeyPairSection.tsx";
import { LaunchedInstances } from "./LaunchedInstances.tsx";
import { NameAndTagsSection } from "./NameAndTagsSection.tsx";
import { NetworkSection } from "./NetworkSection.tsx";
import { StorageSection } from "./StorageSection.tsx";
import { SummaryPanel } from "./SummaryPanel.tsx";

export function LaunchPage() {
  const { region } = useSession();
  const ec2 = useEc2();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const { notify } = useNotify();
  const [params] = useSearchParams();
  const [form, setForm] = useState<LaunchForm>(() => initialForm(params.get("imageId") ?? ""));
  const [errors, setErrors] = useState<FormErrors>({});
  const [launchError, setLaunchError] = useState<string>();
  const update = useCallback((patch: Partial<LaunchForm>) => setForm((f) => ({ ...f, ...patch })), []);

  const images = useQuery({ queryKey: launchKeys.images(region), queryFn: () => listLaunchableImages(ec2) });
  const types = useQuery({
    queryKey: launchKeys.instanceTypes(region),
    queryFn: () => listInstanceTypes(ec2),
    staleTime: 10 * 60_000,
  });
  const listed = images.data?.find((i) => i.image.ImageId === form.imageId)?.image;
  // An image no list has (deprecated, or a bad ?imageId=) is looked up by id: its error is shown.
  const byId = useQuery({
    queryKey: launchKeys.image(region, form.imageId),
    queryFn: async () => (await getImage(ec2, form.imageId)) ?? null,
    enabled: !!form.imageId && images.isSuccess && !listed,
    retry: false,
  });
  const image = listed ?? byId.data ?? undefined;

  // No image asked for: the first public x86_64 one, as the EC2 console opens on a Quick Start AMI.
  useEffect(() => {
    if (form.imageId || !images.data?.length) return;
    const first =
      images.data.find((i) => i.source === "public" && i.image.Architecture === "x86_64") ?? images.data[0];
    update({ imageId: first.image.ImageId ?? "" });
  }, [form.imageId, images.data, update]);

  // A new image: its root volume's size and type become the form's (the size is also the minimum).
  const rootFor = useRef<string>(undefined);
  useEffect(() => {
    const root = rootVolumeOf(image);
    if (!image?.ImageId || !root || rootFor.current === image.ImageId) return;
    rootFor.current = image.ImageId;
    update({ rootSize: String(root.sizeGiB), rootType: root.type });
  }, [image, update]);

  const imageError = images.error
    ? errorText(images.error)
    : byId.error
      ? errorText(byId.error)
      : byId.data === null
        ? `Image ${form.imageId} is not available to this account in ${region}.`
        : errors.image;

  // A second click while RunInstances is on its way launches nothing more: the ref is set before
  // React re-renders the button as loading, and the ClientToken makes SDK retries idempotent.
  const inFlight = useRef(false);
  const launch = useMutation({
    mutationFn: () => runInstances(ec2, toRunInstances(form, image, newClientToken())),
    onSuccess: (ids) => {
      void queries.invalidateQueries({ queryKey: ["instances", region] });
      notify({
        type: "success",
        header: `Launched ${ids.length} ${ids.length === 1 ? "instance" : "instances"}`,
        content: <LaunchedInstances ids={ids} />,
      });
      navigate("/instances");
    },
    onError: (e) => setLaunchError(errorText(e)),
    onSettled: () => {
      inFlight.current = false;
    },
  });
  const submit = () => {
    if (inFlight.current) return;
    const found = validate(form, image);
    setErrors(found);
    setLaunchError(undefined);
    if (Object.keys(found).length > 0) {
      setLaunchError("Correct the fields marked above before launching.");
      return;
    }
    inFlight.current = true;
    launch.mutate();
  };

  return (
    <ContentLayout
      header={
        <Header variant="h1" description="Launch instances from an image, with its storage, network and key.">
          Launch an instance
        </Header>
      }
    >
      <Grid gridDefinition={[{ colspan: { default: 12, s: 8 } }, { colspan: { default: 12, s: 4 } }]}>
        <SpaceBetween size="l">
          <NameAndTagsSection name={form.name} tags={form.tags} tagsError={errors.tags} onChange={update} />
          <ImageSection
            images={images.data}
            loading={images.isLoading}
            image={image}
            imageId={form.imageId}
            errorText={imageError}
            onChange={(imageId) => update({ imageId })}
          />
          <InstanceTypeSection
            types={types.data}
            loading={types.isLoading}
            image={image}
            value={form.instanceType}
            errorText={types.error ? errorText(types.error) : errors.instanceType}
            onChange={(instanceType) => update({ instanceType })}
          />
          <KeyPairSection value={form.keyName} onChange={(keyName) => update({ keyName })} />
          <NetworkSection
            vpcId={form.vpcId}
            subnetId={form.subnetId}
            autoAssignPublicIp={form.autoAssignPublicIp}
            securityGroupIds={form.securityGroupIds}
            onChange={update}
          />
          <StorageSection
            image={image}
            rootSize={form.rootSize}
            rootType={form.rootType}
            volumes={form.volumes}
            errors={errors}
            onChange={update}
          />
          <AdvancedSection userData={form.userData} onChange={(userData) => update({ userData })} />
        </SpaceBetween>
        <div style={{ position: "sticky", top: 72 }}>
          <SummaryPanel
            form={form}
            image={image}
            countError={errors.count}
            error={launchError}
            busy={launch.isPending}
            onCount={(count) => update({ count })}
            onLaunch={submit}
          />
        </div>
      </Grid>
    </ContentLayout>
  );
}
