// Links inside the console: real hrefs (open in a new tab works, screen readers see links) that
// the router follows without a page load.
import { useCallback } from "react";
import { useNavigate } from "react-router";

export const BASE = "/console";

/** The href of a console path ("/instances" -> "/console/instances"). */
export const href = (path: string) => `${BASE}${path}`;

/** onFollow for Cloudscape links, side navigation and breadcrumbs. */
export function useFollow() {
  const navigate = useNavigate();
  return useCallback(
    (e: CustomEvent<{ href?: string; external?: boolean }>) => {
      const target = e.detail.href;
      if (!target || e.detail.external || !target.startsWith(BASE)) return;
      e.preventDefault();
      navigate(target.slice(BASE.length) || "/");
    },
    [navigate],
  );
}
