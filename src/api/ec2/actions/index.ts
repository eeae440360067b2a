// Every EC2 action Strata implements. Adding an action = writing its handler and listing it here;
// the protocol layer parses its input and serializes its output from the service model.
import type { Handler } from "../context.ts";
import * as addresses from "./addresses.ts";
import * as describeInstances from "./describe-instances.ts";
import * as imageAttributes from "./image-attributes.ts";
import * as images from "./images.ts";
import * as instanceAttributes from "./instance-attributes.ts";
import * as instanceTypes from "./instance-types.ts";
import * as instances from "./instances.ts";
import * as internetGateways from "./internet-gateways.ts";
import * as keyPairs from "./key-pairs.ts";
import * as networkInterfaces from "./network-interfaces.ts";
import * as regions from "./regions.ts";
import * as routeTables from "./route-tables.ts";
import * as securityGroups from "./security-groups.ts";
import * as snapshots from "./snapshots.ts";
import * as storageStatus from "./storage-status.ts";
import * as subnets from "./subnets.ts";
import * as tags from "./tags.ts";
import * as volumes from "./volumes.ts";
import * as vpcs from "./vpcs.ts";

const modules = [
  volumes,
  snapshots,
  storageStatus,
  images,
  imageAttributes,
  tags,
  regions,
  instances,
  describeInstances,
  instanceAttributes,
  instanceTypes,
  keyPairs,
  securityGroups,
  vpcs,
  subnets,
  internetGateways,
  routeTables,
  addresses,
  networkInterfaces,
];

export const actions: Record<string, Handler<never, unknown>> = Object.fromEntries(
  modules.flatMap((m) =>
    Object.entries(m).filter(([name, fn]) => /^[A-Z]/.test(name) && typeof fn === "function"),
  ),
) as Record<string, Handler<never, unknown>>;
