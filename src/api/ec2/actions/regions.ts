import type * as EC2 from "@aws-sdk/client-ec2";
import { StrataError } from "../../../errors.ts";
import { dryRunCheck, type Out, type RequestContext } from "../context.ts";
import { applyFilters } from "../filters.ts";

const ZONES = ["a", "b", "c"];

/** EC2 zone ids look like use1-az1: the region's initials and its number. */
export function zoneIdPrefix(region: string): string {
  const [geo, dir, n] = region.split("-");
  return `${geo}${dir.replace(/(north|south|east|west|central)/g, (w) => w[0])}${n}`;
}

/** A region's zones as EC2 names them: us-east-1a with its zone id use1-az1, and so on. */
export function availabilityZones(region: string): { name: string; id: string }[] {
  return ZONES.map((z, i) => ({ name: `${region}${z}`, id: `${zoneIdPrefix(region)}-az${i + 1}` }));
}

export async function DescribeRegions(
  ctx: RequestContext,
  input: EC2.DescribeRegionsCommandInput,
): Promise<Out<EC2.DescribeRegionsCommandOutput>> {
  let names = [...ctx.engine.regions.keys()];
  if (input.RegionNames?.length) {
    const unknown = input.RegionNames.filter((r) => !ctx.engine.regions.has(r));
    if (unknown.length)
      throw new StrataError("InvalidParameterValue", `Invalid region names: ${unknown.join(", ")}`);
    names = input.RegionNames;
  }
  const regions = names.map((name) => ({ name, endpoint: ctx.host }));
  const matched = applyFilters(regions, input.Filters, {
    "region-name": (r) => r.name,
    endpoint: (r) => r.endpoint,
    "opt-in-status": () => "opt-in-not-required",
  });
  dryRunCheck(input);
  return {
    Regions: matched.map((r) => ({
      RegionName: r.name,
      Endpoint: r.endpoint,
      OptInStatus: "opt-in-not-required",
    })),
  };
}

export async function DescribeAvailabilityZones(
  ctx: RequestContext,
  input: EC2.DescribeAvailabilityZonesCommandInput,
): Promise<Out<EC2.DescribeAvailabilityZonesCommandOutput>> {
  const region = ctx.regionName;
  let zones = availabilityZones(region);
  if (input.ZoneNames?.length || input.ZoneIds?.length) {
    const wanted = new Set([...(input.ZoneNames ?? []), ...(input.ZoneIds ?? [])]);
    const unknown = [...wanted].filter((w) => !zones.some((z) => z.name === w || z.id === w));
    if (unknown.length) {
      throw new StrataError(
        "InvalidParameterValue",
        `The zone '${unknown[0]}' does not exist in region ${region}`,
      );
    }
    zones = zones.filter((z) => wanted.has(z.name) || wanted.has(z.id));
  }
  const matched = applyFilters(zones, input.Filters, {
    "zone-name": (z) => z.name,
    "zone-id": (z) => z.id,
    "region-name": () => region,
    state: () => "available",
    "zone-type": () => "availability-zone",
    "group-name": () => region,
    "opt-in-status": () => "opt-in-not-required",
  });
  dryRunCheck(input);
  return {
    AvailabilityZones: matched.map((z) => ({
      ZoneName: z.name,
      ZoneId: z.id,
      State: "available",
      RegionName: region,
      ZoneType: "availability-zone",
      GroupName: region,
      NetworkBorderGroup: region,
      OptInStatus: "opt-in-not-required",
      Messages: [],
    })),
  };
}
