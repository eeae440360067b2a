// Security groups' own rules, apart from the service: EC2's limits, names and descriptions, ids,
// the errors for what does not exist, and the all-traffic rules every group starts with.
import { StrataError } from "../../errors.ts";
import { isId, newId } from "../../ids.ts";
import type { Tag } from "../../storage/metadata/catalog-store.ts";
import { validateTags } from "../tags/tag-rules.ts";
import type { SecurityGroupRecord, SecurityGroupRuleRecord } from "./network-records.ts";

export interface SecurityGroupLimits {
  /** Security groups per account and region (EC2's default quota: 2500). */
  groupsPerRegion: number;
  /** Inbound rules, and outbound rules, per group (EC2's default quota: 60 each). */
  rulesPerDirection: number;
}

export const EC2_SECURITY_GROUP_LIMITS: SecurityGroupLimits = {
  groupsPerRegion: 2500,
  rulesPerDirection: 60,
};

/** Which group a request means: GroupId, or GroupName (default VPC only, as EC2). */
export interface GroupTarget {
  groupId?: string;
  groupName?: string;
}

// EC2 (VPC groups): names and descriptions are up to 255 of a-zA-Z0-9, spaces and ._-:/()#,@[]+=&;{}!$*
const GROUP_TEXT = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/;
export const DEFAULT_GROUP_NAME = "default";

/** CreateSecurityGroup's checks on its own input (DryRun stops after them). */
export function checkCreateGroup(name: string, description: string, tags: Tag[]): void {
  if (name.length > 255 || !GROUP_TEXT.test(name)) {
    throw new StrataError(
      "InvalidParameterValue",
      "Invalid security group name: up to 255 characters of a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*",
    );
  }
  if (name.toLowerCase().startsWith("sg-")) {
    throw new StrataError("InvalidParameterValue", "Group names may not be in the format sg-*.");
  }
  if (name.toLowerCase() === DEFAULT_GROUP_NAME) {
    throw new StrataError(
      "InvalidGroup.Reserved",
      "The security group 'default' is reserved: each VPC has its own, created with it.",
    );
  }
  if (description.length > 255 || !GROUP_TEXT.test(description)) {
    throw new StrataError(
      "InvalidParameterValue",
      "Invalid security group description: up to 255 characters of a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*",
    );
  }
  validateTags(tags);
}

export function groupNotFound(idOrName: string): StrataError {
  return new StrataError("InvalidGroup.NotFound", `The security group '${idOrName}' does not exist`);
}

export function checkGroupId(id: string): void {
  if (!isId("sg", id)) {
    throw new StrataError("InvalidGroupId.Malformed", `Invalid id: "${id}" (expecting "sg-...")`);
  }
}

export function allTraffic(
  group: SecurityGroupRecord,
  egress: boolean,
  peer: { cidr?: string; group?: string },
): SecurityGroupRuleRecord {
  return {
    id: newId("sgr"),
    groupId: group.id,
    ownerId: group.ownerId,
    egress,
    protocol: "-1",
    fromPort: -1,
    toPort: -1,
    cidr: peer.cidr ?? null,
    referencedGroupId: peer.group ?? null,
    description: null,
  };
}

export function checkRuleId(id: string): void {
  if (!isId("sgr", id)) {
    throw new StrataError(
      "InvalidSecurityGroupRuleId.Malformed",
      `Invalid id: "${id}" (expecting "sgr-...")`,
    );
  }
}

export function ruleNotFound(id: string): StrataError {
  return new StrataError(
    "InvalidSecurityGroupRuleId.NotFound",
    `The security group rule ID '${id}' does not exist`,
  );
}
