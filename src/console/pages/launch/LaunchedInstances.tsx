// The success flash's content: each new instance id as a link to its details page.
import Link from "@cloudscape-design/components/link";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { href, useFollow } from "../../app/navigation.ts";

export function LaunchedInstances({ ids }: { ids: string[] }) {
  // The flash outlives the Launch page, so the links take their own router hook.
  const follow = useFollow();
  return (
    <SpaceBetween direction="horizontal" size="xs">
      <span>{ids.length === 1 ? "Instance" : "Instances"}</span>
      {ids.map((id) => (
        <Link key={id} href={href(`/instances/${id}`)} onFollow={follow} color="inverted">
          {id}
        </Link>
      ))}
    </SpaceBetween>
  );
}
