// Resource states as the AWS console shows them: a coloured status indicator with the state's name.
import StatusIndicator, { type StatusIndicatorProps } from "@cloudscape-design/components/status-indicator";

const TYPES: Record<string, StatusIndicatorProps.Type> = {
  running: "success",
  available: "success",
  completed: "success",
  "in-use": "info",
  pending: "pending",
  creating: "pending",
  "shutting-down": "in-progress",
  stopping: "in-progress",
  deleting: "in-progress",
  stopped: "stopped",
  terminated: "stopped",
  deregistered: "stopped",
  deleted: "stopped",
  failed: "error",
  error: "error",
  invalid: "error",
  recoverable: "warning",
  recovering: "in-progress",
};

export function StateIndicator({ state, progress }: { state: string | undefined; progress?: string }) {
  const s = state ?? "unknown";
  return (
    <StatusIndicator type={TYPES[s] ?? "info"}>
      {s}
      {progress && s === "pending" ? ` (${progress})` : ""}
    </StatusIndicator>
  );
}
