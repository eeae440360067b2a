// Every EC2 action Strata implements. Adding an action = writing its handler and listing it here;
// the protocol layer parses its input and serializes its output from the service model.
import type { Handler } from "../context.ts";
import * as imageAttributes from "./image-attributes.ts";
import * as images from "./images.ts";
import * as instanceTypes from "./instance-types.ts";
import * as instances from "./instances.ts";
import * as keyPairs from "./key-pairs.ts";
import * as regions from "./regions.ts";
import * as securityGroups from "./security-groups.ts";
import * as snapshots from "./snapshots.ts";
import * as tags from "./tags.ts";
import * as volumes from "./volumes.ts";

const modules = [
  volumes,
  snapshots,
  images,
  imageAttributes,
  tags,
  regions,
  instances,
  instanceTypes,
  keyPairs,
  securityGroups,
];

export const actions: Record<string, Handler<never, unknown>> = Object.fromEntries(
  modules.flatMap((m) =>
    Object.entries(m).filter(([name, fn]) => /^[A-Z]/.test(name) && typeof fn === "function"),
  ),
) as Record<string, Handler<never, unknown>>;
