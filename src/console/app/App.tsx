// The console's frame: top bar (region switcher, account menu), side navigation, flash messages,
// and the routes of the pages. Nothing is shown but the sign-in form until a key is accepted.
import AppLayout from "@cloudscape-design/components/app-layout";
import SideNavigation from "@cloudscape-design/components/side-navigation";
import TopNavigation from "@cloudscape-design/components/top-navigation";
import { useQuery } from "@tanstack/react-query";
import { startTransition } from "react";
import { Navigate, Route, Routes, useLocation, useNavigate } from "react-router";
import { routes } from "../pages/routes.tsx";
import { whoAmI } from "./account.ts";
import { BASE, href, useFollow } from "./navigation.ts";
import { Notifications } from "./notifications.tsx";
import { useRegions } from "./regions.ts";
import { SignIn } from "./SignIn.tsx";
import { useSession, useSessionState } from "./session-context.tsx";

export function App() {
  const { session } = useSessionState();
  if (!session) return <SignIn />;
  return <Console />;
}

const NAV = [
  { type: "link" as const, text: "Instances", href: href("/instances") },
  { type: "link" as const, text: "Launch instance", href: href("/launch") },
  {
    type: "section" as const,
    text: "Images",
    items: [{ type: "link" as const, text: "AMIs", href: href("/images") }],
  },
  {
    type: "section" as const,
    text: "Elastic Block Store",
    items: [
      { type: "link" as const, text: "Volumes", href: href("/volumes") },
      { type: "link" as const, text: "Snapshots", href: href("/snapshots") },
    ],
  },
  {
    type: "section" as const,
    text: "Network & Security",
    items: [
      { type: "link" as const, text: "Security groups", href: href("/security-groups") },
      { type: "link" as const, text: "Key pairs", href: href("/key-pairs") },
    ],
  },
];

function Console() {
  const session = useSession();
  const { signOut, setRegion } = useSessionState();
  const follow = useFollow();
  const location = useLocation();
  const navigate = useNavigate();
  // As the AWS console does: another region shows the section's list, since the resource on
  // screen (an instance, an image) lives in the region left behind.
  const switchRegion = (region: string) => {
    if (region === session.region) return;
    // One transition for both (the router's navigations are transitions): the page of the old
    // region's resource never renders, and so never asks the new region for it.
    startTransition(() => {
      navigate(`/${location.pathname.split("/")[1] ?? ""}`);
      setRegion(region);
    });
  };
  const { regions } = useRegions();
  const account = useQuery({
    queryKey: ["account", session.credentials.accessKeyId],
    queryFn: () => whoAmI(session.credentials, session.region),
    staleTime: Number.POSITIVE_INFINITY,
  });
  const accountText = account.data
    ? `${account.data.alias ? `${account.data.alias} ` : ""}(${account.data.accountId})`
    : "Account";
  const active = `${BASE}/${location.pathname.split("/")[1] ?? ""}`;
  return (
    <>
      <div id="top-nav" style={{ position: "sticky", top: 0, zIndex: 1002 }}>
        <TopNavigation
          identity={{ href: href("/instances"), title: "Strata", onFollow: follow }}
          utilities={[
            {
              type: "menu-dropdown",
              text: session.region,
              ariaLabel: `Region: ${session.region}`,
              title: "Region",
              items: regions.map((r) => ({
                id: r,
                text: r,
                checked: r === session.region,
              })),
              onItemClick: (e) => switchRegion(e.detail.id),
            },
            {
              type: "menu-dropdown",
              text: accountText,
              ariaLabel: `Account ${accountText}`,
              iconName: "user-profile",
              items: [
                { id: "account-id", text: `Account ID: ${account.data?.accountId ?? "..."}`, disabled: true },
                { id: "alias", text: `Alias: ${account.data?.alias ?? "none"}`, disabled: true },
                { id: "signout", text: "Sign out" },
              ],
              onItemClick: (e) => {
                if (e.detail.id === "signout") signOut();
              },
            },
          ]}
        />
      </div>
      <AppLayout
        headerSelector="#top-nav"
        toolsHide
        ariaLabels={{
          navigation: "Side navigation",
          navigationClose: "Close navigation",
          navigationToggle: "Open navigation",
        }}
        navigation={
          <SideNavigation
            header={{ text: "Strata", href: href("/instances") }}
            activeHref={active}
            items={NAV}
            onFollow={follow}
          />
        }
        notifications={<Notifications />}
        content={
          <Routes key={session.region}>
            <Route path="/" element={<Navigate to="/instances" replace />} />
            {routes.map((r) => (
              <Route key={r.path} path={r.path} element={r.element} />
            ))}
            <Route path="*" element={<Navigate to="/instances" replace />} />
          </Routes>
        }
      />
    </>
  );
}
