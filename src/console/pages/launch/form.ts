// The Launch instance form's state, its checks, and the RunInstances request it makes: kept apart
// from the sections that edit it, so what is sent to EC2 is in one place.
import type { BlockDeviceMapping, Image, RunInstancesCommandInput, Tag } from "@aws-sdk/client-ec2";
import { rootVolumeOf } from "../../api/launch.ts";

export interface ExtraVolume {
  device: string;
  size: string;
  type: string;
  deleteOnTermination: boolean;
}

export interface LaunchForm {
  name: string;
  tags: { key: string; value: string }[];
  imageId: string;
  instanceType: string;
  /** "" = proceed without a key pair. */
  keyName: string;
  vpcId: string;
  /** "" = no preference (a default subnet of the default VPC, in any zone). */
  subnetId: string;
  autoAssignPublicIp: boolean;
  securityGroupIds: string[];
  rootSize: string;
  rootType: string;
  volumes: ExtraVolume[];
  userData: string;
  count: string;
}

export const DEFAULT_INSTANCE_TYPE = "t2.micro";
export const MAX_COUNT = 20;
/** RunInstances' volume types that need no IOPS or size minimum of their own. */
export const VOLUME_TYPES = ["gp3", "gp2", "standard"];

export function initialForm(imageId: string): LaunchForm {
  return {
    name: "",
    tags: [],
    imageId,
    instanceType: DEFAULT_INSTANCE_TYPE,
    keyName: "",
    vpcId: "",
    subnetId: "",
    autoAssignPublicIp: true,
    securityGroupIds: [],
    rootSize: "",
    rootType: "gp3",
    volumes: [],
    userData: "",
    count: "1",
  };
}

/** The next free /dev/sd[f-p] name, as the EC2 console suggests for a new volume. */
export function nextDevice(image: Image | undefined, volumes: ExtraVolume[]): string {
  const used = new Set([
    ...(image?.BlockDeviceMappings ?? []).map((m) => m.DeviceName),
    ...volumes.map((v) => v.device),
  ]);
  for (const c of "fghijklmnop") if (!used.has(`/dev/sd${c}`)) return `/dev/sd${c}`;
  return "/dev/sdq";
}

/** UTF-8 text to base64: RunInstances takes UserData already encoded (the SDK sends it as is). */
export function base64Utf8(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

const wholeNumber = (s: string) => /^\d+$/.test(s.trim());

export const MAX_USER_DATA = 16 * 1024;

export type FormErrors = Partial<
  Record<"image" | "instanceType" | "rootSize" | "count" | "volumes" | "tags" | "userData", string>
>;

export function validate(form: LaunchForm, image: Image | undefined): FormErrors {
  const errors: FormErrors = {};
  if (!form.imageId) errors.image = "Choose an image.";
  if (!form.instanceType) errors.instanceType = "Choose an instance type.";
  const min = rootVolumeOf(image)?.sizeGiB ?? 1;
  if (form.rootSize !== "" && (!wholeNumber(form.rootSize) || Number(form.rootSize) < min)) {
    errors.rootSize = `At least ${min} GiB (the image's root snapshot), a whole number.`;
  } else if (Number(form.rootSize) > 16384) errors.rootSize = "At most 16384 GiB.";
  if (!wholeNumber(form.count) || Number(form.count) < 1 || Number(form.count) > MAX_COUNT) {
    errors.count = `From 1 to ${MAX_COUNT}.`;
  }
  const bad = form.volumes.find((v) => !wholeNumber(v.size) || Number(v.size) < 1 || !v.device.trim());
  if (bad) errors.volumes = "Each new volume needs a device name and a size of at least 1 GiB.";
  if (form.tags.some((t) => !t.key.trim())) errors.tags = "Each tag needs a key.";
  // EC2's limit on the decoded user data.
  if (new TextEncoder().encode(form.userData).length > MAX_USER_DATA) {
    errors.userData = `User data is limited to ${MAX_USER_DATA} bytes.`;
  }
  return errors;
}

/** What the EC2 console sends for the form: one RunInstances with MinCount = MaxCount = count. */
export function toRunInstances(
  form: LaunchForm,
  image: Image | undefined,
  clientToken: string,
): RunInstancesCommandInput {
  const count = Number(form.count);
  const tags: Tag[] = [
    ...(form.name.trim() ? [{ Key: "Name", Value: form.name.trim() }] : []),
    ...form.tags.filter((t) => t.key.trim()).map((t) => ({ Key: t.key.trim(), Value: t.value })),
  ];
  const mappings: BlockDeviceMapping[] = [];
  const root = rootVolumeOf(image);
  if (image?.RootDeviceName && root) {
    mappings.push({
      DeviceName: image.RootDeviceName,
      Ebs: {
        VolumeSize: form.rootSize === "" ? root.sizeGiB : Number(form.rootSize),
        VolumeType: form.rootType as "gp3",
        DeleteOnTermination: true,
      },
    });
  }
  for (const v of form.volumes) {
    mappings.push({
      DeviceName: v.device.trim(),
      Ebs: {
        VolumeSize: Number(v.size),
        VolumeType: v.type as "gp3",
        DeleteOnTermination: v.deleteOnTermination,
      },
    });
  }
  // The EC2 console puts the subnet, groups and public-address choice on one network interface:
  // AssociatePublicIpAddress exists only there.
  const network: Partial<RunInstancesCommandInput> = form.vpcId
    ? {
        NetworkInterfaces: [
          {
            DeviceIndex: 0,
            SubnetId: form.subnetId || undefined,
            Groups: form.securityGroupIds.length ? form.securityGroupIds : undefined,
            AssociatePublicIpAddress: form.autoAssignPublicIp,
            DeleteOnTermination: true,
          },
        ],
      }
    : {};
  return {
    ImageId: form.imageId,
    InstanceType: form.instanceType as "t2.micro",
    MinCount: count,
    MaxCount: count,
    KeyName: form.keyName || undefined,
    UserData: form.userData ? base64Utf8(form.userData) : undefined,
    BlockDeviceMappings: mappings.length ? mappings : undefined,
    TagSpecifications: tags.length
      ? [
          { ResourceType: "instance", Tags: tags },
          { ResourceType: "volume", Tags: tags },
        ]
      : undefined,
    ClientToken: clientToken,
    ...network,
  };
}

/** An idempotency token (crypto.randomUUID needs a secure context; a daemon on a LAN address is not one). */
export function newClientToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
