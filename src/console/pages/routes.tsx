// Every page of the console and its path (under /console).
import type { ReactElement } from "react";
import { ImageDetailsPage } from "./images/ImageDetailsPage.tsx";
import { ImagesPage } from "./images/ImagesPage.tsx";
import { InstanceDetailsPage } from "./instances/InstanceDetailsPage.tsx";
import { InstancesPage } from "./instances/InstancesPage.tsx";
import { KeyPairsPage } from "./key-pairs/KeyPairsPage.tsx";
import { LaunchPage } from "./launch/LaunchPage.tsx";
import { CreateSecurityGroupPage } from "./security-groups/CreateSecurityGroupPage.tsx";
import { SecurityGroupDetailsPage } from "./security-groups/SecurityGroupDetailsPage.tsx";
import { SecurityGroupsPage } from "./security-groups/SecurityGroupsPage.tsx";
import { SnapshotDetailsPage } from "./snapshots/SnapshotDetailsPage.tsx";
import { SnapshotsPage } from "./snapshots/SnapshotsPage.tsx";
import { VolumesPage } from "./volumes/VolumesPage.tsx";

export const routes: { path: string; element: ReactElement }[] = [
  { path: "/instances", element: <InstancesPage /> },
  { path: "/instances/:id", element: <InstanceDetailsPage /> },
  { path: "/launch", element: <LaunchPage /> },
  { path: "/images", element: <ImagesPage /> },
  { path: "/images/:id", element: <ImageDetailsPage /> },
  { path: "/snapshots", element: <SnapshotsPage /> },
  { path: "/snapshots/:id", element: <SnapshotDetailsPage /> },
  { path: "/volumes", element: <VolumesPage /> },
  { path: "/key-pairs", element: <KeyPairsPage /> },
  { path: "/security-groups", element: <SecurityGroupsPage /> },
  { path: "/security-groups/create", element: <CreateSecurityGroupPage /> },
  { path: "/security-groups/:id", element: <SecurityGroupDetailsPage /> },
];
