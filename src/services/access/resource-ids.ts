// EC2's answers for ids: a malformed id is refused by its form; an id the caller may not see is
// answered exactly as one that never existed (EC2 never says "forbidden" for another account's
// private resource, so its ids cannot be probed). Services use these, never hand-made messages.
import { StrataError } from "../../errors.ts";
import { isId } from "../../ids.ts";

export type ResourceKind = "volume" | "snapshot" | "image" | "instance";

/** The id, if it has the kind's form (prefix and 8 or 17 hex digits); its Malformed error otherwise. */
export function checkId(kind: ResourceKind, id: string): string {
  const bad = (prefix: string) => `Invalid id: "${id}" (expecting "${prefix}-...")`;
  switch (kind) {
    case "volume":
      if (!isId("vol", id)) throw new StrataError("InvalidVolumeID.Malformed", bad("vol"));
      break;
    case "snapshot":
      if (!isId("snap", id)) throw new StrataError("InvalidSnapshotID.Malformed", bad("snap"));
      break;
    case "image":
      if (!isId("ami", id)) throw new StrataError("InvalidAMIID.Malformed", bad("ami"));
      break;
    case "instance":
      if (!isId("i", id)) throw new StrataError("InvalidInstanceID.Malformed", bad("i"));
      break;
  }
  return id;
}

/** The error for an id that does not exist for the caller (whether or not it exists for another). */
export function notFound(kind: ResourceKind, id: string): StrataError {
  switch (kind) {
    case "volume":
      return new StrataError("InvalidVolume.NotFound", `The volume '${id}' does not exist.`);
    case "snapshot":
      return new StrataError("InvalidSnapshot.NotFound", `The snapshot '${id}' does not exist.`);
    case "image":
      return new StrataError("InvalidAMIID.NotFound", `The image id '[${id}]' does not exist`);
    case "instance":
      return new StrataError("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
  }
}
