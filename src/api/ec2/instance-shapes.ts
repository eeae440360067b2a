// Instance records as EC2's Instance, InstanceState and InstanceStatus shapes.
import type * as EC2 from "@aws-sdk/client-ec2";
import { instanceType } from "../../compute/instance-types.ts";
import { privateDnsName } from "../../services/instances/instance-runtime.ts";
import type { Tag } from "../../storage/metadata/catalog-store.ts";
import type {
  InstanceRecord,
  InstanceStateName,
  VolumeAttachmentRecord,
} from "../../storage/metadata/instance-store.ts";
import { toSdkTags } from "./tagging.ts";

const STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  "shutting-down": 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

/** Where SSH to an instance lands: this tag on the instance (a host port forwarded to its port 22). */
export const SSH_PORT_TAG = "strata:ssh-port";

export function toInstanceState(state: InstanceStateName): EC2.InstanceState {
  return { Code: STATE_CODES[state], Name: state };
}

export function toInstance(
  i: InstanceRecord,
  region: string,
  attachments: VolumeAttachmentRecord[],
  tags: Tag[],
): EC2.Instance {
  const live = i.state !== "terminated";
  const running = i.state === "running";
  const type = instanceType(i.instanceType);
  return {
    InstanceId: i.id,
    ImageId: i.imageId,
    State: toInstanceState(i.state),
    PrivateDnsName: live ? privateDnsName(i.privateIp, region) : "",
    PrivateIpAddress: live ? i.privateIp : undefined,
    // SSH reaches the guest through the host's loopback: PublicIpAddress + the strata:ssh-port tag.
    PublicDnsName: running ? "localhost" : "",
    PublicIpAddress: running ? "127.0.0.1" : undefined,
    StateTransitionReason: i.stateTransitionReason,
    StateReason: i.stateReason ? { Code: i.stateReason.code, Message: i.stateReason.message } : undefined,
    KeyName: i.keyName ?? undefined,
    AmiLaunchIndex: i.launchIndex,
    InstanceType: i.instanceType as EC2._InstanceType,
    LaunchTime: new Date(i.launchedAt),
    Placement: { AvailabilityZone: i.availabilityZone, Tenancy: "default", GroupName: "" },
    Monitoring: { State: "disabled" },
    Architecture: i.architecture as EC2.ArchitectureValues,
    RootDeviceType: "ebs",
    RootDeviceName: i.rootDeviceName,
    BlockDeviceMappings: attachments.map((a) => ({
      DeviceName: a.device,
      Ebs: {
        VolumeId: a.volumeId,
        Status: "attached",
        AttachTime: new Date(a.attachedAt),
        DeleteOnTermination: a.deleteOnTermination,
      },
    })),
    VirtualizationType: "hvm",
    Hypervisor: "xen",
    ClientToken: i.clientToken ?? "",
    EbsOptimized: false,
    EnaSupport: true,
    SourceDestCheck: true,
    CpuOptions: type ? { CoreCount: type.cores, ThreadsPerCore: type.threadsPerCore } : undefined,
    PlatformDetails: "Linux/UNIX",
    UsageOperation: "RunInstances",
    BootMode: "legacy-bios",
    MetadataOptions: {
      State: "applied",
      HttpTokens: "optional",
      HttpPutResponseHopLimit: 1,
      HttpEndpoint: "enabled",
      HttpProtocolIpv6: "disabled",
      InstanceMetadataTags: "disabled",
    },
    Tags: toSdkTags(instanceTags(i, tags)),
  };
}

/** The user's tags plus, while the instance runs, the SSH port tag Strata maintains. */
export function instanceTags(i: InstanceRecord, tags: Tag[]): Tag[] {
  // The port is chosen at each boot, so a stopped instance has none.
  if (i.state !== "running" || !i.sshPort) return tags;
  return [...tags.filter((t) => t.key !== SSH_PORT_TAG), { key: SSH_PORT_TAG, value: String(i.sshPort) }];
}

/**
 * EC2's status checks: `initializing` until the guest shows it is up (here: it has asked its
 * metadata service something), then `ok`; `not-applicable` unless running.
 */
export function instanceStatusOf(
  i: InstanceRecord,
  guestReachable: boolean,
): "ok" | "initializing" | "not-applicable" {
  if (i.state !== "running") return "not-applicable";
  return guestReachable ? "ok" : "initializing";
}

export function toInstanceStatus(i: InstanceRecord, guestReachable: boolean): EC2.InstanceStatus {
  const s = instanceStatusOf(i, guestReachable);
  const summary = {
    Status: s,
    Details:
      s === "not-applicable"
        ? undefined
        : [
            {
              Name: "reachability" as const,
              Status: s === "ok" ? ("passed" as const) : ("initializing" as const),
            },
          ],
  };
  return {
    InstanceId: i.id,
    AvailabilityZone: i.availabilityZone,
    InstanceState: toInstanceState(i.state),
    InstanceStatus: summary,
    SystemStatus: summary,
  };
}
