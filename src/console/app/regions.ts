// The daemon's regions, as DescribeRegions lists them to this key (the region switcher, copy
// destinations).
import { DescribeRegionsCommand } from "@aws-sdk/client-ec2";
import { useQuery } from "@tanstack/react-query";
import { useEc2, useSession } from "./session-context.tsx";

export function useRegions(): { regions: string[]; loading: boolean } {
  const session = useSession();
  const ec2 = useEc2();
  const q = useQuery({
    queryKey: ["regions", session.credentials.accessKeyId],
    queryFn: async () =>
      ((await ec2.send(new DescribeRegionsCommand({}))).Regions ?? []).map((r) => r.RegionName ?? "").sort(),
    staleTime: 5 * 60_000,
  });
  return { regions: q.data ?? [session.region], loading: q.isLoading };
}
