// The serial console's output (GetConsoleOutput with Latest, as the EC2 console's "Get system
// log" shows it), with Follow: fetched again every 2 s and kept scrolled to its end, like tail -f.

import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Toggle from "@cloudscape-design/components/toggle";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { errorText } from "../../api/errors.ts";
import { consoleOutput, instanceKeys } from "../../api/instances.ts";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { formatDate } from "../shared/format.ts";

// Terminal escape sequences (colours, cursor moves) and carriage returns: noise in a web page.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the control characters to drop
const ESCAPES = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r/g;

export function ConsoleOutputTab({ instanceId }: { instanceId: string }) {
  const { region } = useSession();
  const ec2 = useEc2();
  const [followOn, setFollow] = useState(false);
  const pre = useRef<HTMLPreElement>(null);
  const q = useQuery({
    queryKey: instanceKeys.console(region, instanceId),
    queryFn: () => consoleOutput(ec2, instanceId),
    refetchInterval: followOn ? 2000 : false,
  });
  const text = q.data?.text.replace(ESCAPES, "") ?? "";

  useEffect(() => {
    // Runs on each new text (the dependency), scrolling to its end.
    if (followOn && text && pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [followOn, text]);

  return (
    <SpaceBetween size="s">
      <SpaceBetween direction="horizontal" size="m" alignItems="center">
        <Toggle checked={followOn} onChange={(e) => setFollow(e.detail.checked)}>
          Follow
        </Toggle>
        <Button iconName="refresh" loading={q.isFetching} onClick={() => void q.refetch()}>
          Refresh
        </Button>
        <Box variant="small" color="text-body-secondary">
          {q.data?.timestamp ? `As of ${formatDate(q.data.timestamp)}` : ""}
        </Box>
      </SpaceBetween>
      {q.error && <Alert type="error">{errorText(q.error)}</Alert>}
      <pre
        ref={pre}
        // A log (the ARIA role for appended output), not announced on each poll.
        role="log"
        aria-live="off"
        aria-label="Console output"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
        tabIndex={0}
        style={{
          margin: 0,
          padding: 12,
          maxHeight: 480,
          overflow: "auto",
          whiteSpace: "pre-wrap",
          wordBreak: "break-all",
          background: "#0f1b2a",
          color: "#e9ebed",
          fontSize: 12,
          borderRadius: 8,
        }}
      >
        {q.isLoading ? "Loading console output..." : text || "No console output yet."}
      </pre>
    </SpaceBetween>
  );
}
