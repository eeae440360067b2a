// An instance's volumes: its block device mappings (device, volume, delete on termination) joined
// with DescribeVolumes (size, type, state), as the EC2 console's Storage tab lists them.
import type { Instance } from "@aws-sdk/client-ec2";
import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Table, { type TableProps } from "@cloudscape-design/components/table";
import { useQuery } from "@tanstack/react-query";
import { errorText } from "../../api/errors.ts";
import { instanceKeys, instanceVolumes } from "../../api/instances.ts";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { formatDate } from "../shared/format.ts";
import { StateIndicator } from "../shared/StateIndicator.tsx";

interface Row {
  device: string;
  volumeId: string;
  root: boolean;
  size?: number;
  type?: string;
  state?: string;
  deleteOnTermination?: boolean;
  attachTime?: Date;
}

export function InstanceVolumesTable({
  instance,
  variant,
  brief,
}: {
  instance: Instance;
  variant: "embedded" | "container";
  /** What an image captures only (no state, no attach time): the Create image form. */
  brief?: boolean;
}) {
  const { region } = useSession();
  const ec2 = useEc2();
  const id = instance.InstanceId ?? "";
  const mappings = instance.BlockDeviceMappings ?? [];
  const volumes = useQuery({
    // The mapped volume ids are part of the key: an attach or detach fetches again.
    queryKey: [...instanceKeys.volumes(region, id), mappings.map((m) => m.Ebs?.VolumeId).join(",")],
    queryFn: () => instanceVolumes(ec2, instance),
  });
  const rows: Row[] = mappings.map((m) => {
    const v = volumes.data?.find((x) => x.VolumeId === m.Ebs?.VolumeId);
    return {
      device: m.DeviceName ?? "",
      volumeId: m.Ebs?.VolumeId ?? "",
      root: m.DeviceName === instance.RootDeviceName,
      size: v?.Size,
      type: v?.VolumeType,
      state: v?.State ?? m.Ebs?.Status,
      deleteOnTermination: m.Ebs?.DeleteOnTermination,
      attachTime: m.Ebs?.AttachTime,
    };
  });
  if (volumes.error) return <Alert type="error">{errorText(volumes.error)}</Alert>;
  return (
    <Table
      variant={variant}
      ariaLabels={{ tableLabel: "Instance volumes" }}
      trackBy="device"
      loading={volumes.isLoading}
      loadingText="Loading volumes"
      items={rows}
      empty={<Box textAlign="center">No volumes attached</Box>}
      columnDefinitions={(
        [
          { id: "volumeId", header: "Volume ID", cell: (r) => r.volumeId },
          { id: "device", header: "Device name", cell: (r) => `${r.device}${r.root ? " (root)" : ""}` },
          { id: "size", header: "Size (GiB)", cell: (r) => r.size ?? "-" },
          { id: "type", header: "Volume type", cell: (r) => r.type ?? "-" },
          { id: "state", header: "Volume state", cell: (r) => <StateIndicator state={r.state} /> },
          {
            id: "delete",
            header: "Delete on termination",
            cell: (r) => (r.deleteOnTermination === undefined ? "-" : r.deleteOnTermination ? "Yes" : "No"),
          },
          { id: "attach", header: "Attach time", cell: (r) => formatDate(r.attachTime) },
        ] satisfies TableProps.ColumnDefinition<Row>[]
      ).filter((c) => !brief || !["state", "attach"].includes(c.id))}
    />
  );
}
