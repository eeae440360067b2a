// Small hooks the AMIs pages share: who "me" is (owned or shared images), and the list's cache.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import { imageKeys } from "../../api/images.ts";
import { whoAmI } from "../../app/account.ts";
import { useSession } from "../../app/session-context.tsx";

/** The signed-in account's id (same query as the account menu, so it is asked once). */
export function useAccountId(): string | undefined {
  const session = useSession();
  const q = useQuery({
    queryKey: ["account", session.credentials.accessKeyId],
    queryFn: () => whoAmI(session.credentials, session.region),
    staleTime: Number.POSITIVE_INFINITY,
  });
  return q.data?.accountId;
}

/** Refetches the images of a region (the session's by default) after a change. */
export function useInvalidateImages(): (region?: string) => Promise<void> {
  const queries = useQueryClient();
  const { region: current } = useSession();
  return useCallback(
    (region?: string) => queries.invalidateQueries({ queryKey: imageKeys.all(region ?? current) }),
    [queries, current],
  );
}
