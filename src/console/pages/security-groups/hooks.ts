// The area's shared queries: the account's groups in the region (the list, and the groups a rule
// may reference) and its VPCs.
import { useQuery } from "@tanstack/react-query";
import { listSecurityGroups, listVpcs, securityGroupKeys } from "../../api/security-groups.ts";
import { useEc2, useSession } from "../../app/session-context.tsx";
import type { PeerOption } from "./RulesEditor.tsx";

/** Groups have no pending states: a slow refresh shows other tabs' and tools' changes. */
const REFRESH_MS = 10_000;

export function useSecurityGroups() {
  const { region } = useSession();
  const ec2 = useEc2();
  return useQuery({
    queryKey: securityGroupKeys.list(region),
    queryFn: () => listSecurityGroups(ec2),
    refetchInterval: REFRESH_MS,
  });
}

export function useVpcs() {
  const { region } = useSession();
  const ec2 = useEc2();
  return useQuery({ queryKey: securityGroupKeys.vpcs(region), queryFn: () => listVpcs(ec2) });
}

/** The groups of `vpcId` as choices for a rule's source or destination (EC2 refers within a VPC). */
export function usePeerOptions(vpcId: string | undefined): PeerOption[] {
  const groups = useSecurityGroups();
  return (groups.data ?? [])
    .filter((g) => g.VpcId === vpcId && g.GroupId)
    .map((g) => ({ value: g.GroupId!, label: g.GroupId!, description: g.GroupName }));
}
