// Security groups and their rules, as a region's metadata keeps them. Every change is one
// transaction; the checks that guard it (duplicates, limits, references) run inside it.

import { StrataError } from "../../errors.ts";
import type { SecurityGroupRecord, SecurityGroupRuleRecord } from "../../services/network/network-records.ts";
import type { Tag } from "./catalog-store.ts";

export interface SecurityGroupStore {
  /**
   * A new group with its first rules and tags. InvalidGroup.Duplicate when the VPC has a group of
   * that name (case-insensitively); SecurityGroupLimitExceeded when the owner has `maxGroups` already.
   */
  insertGroup(
    group: SecurityGroupRecord,
    rules: SecurityGroupRuleRecord[],
    tags: Tag[],
    maxGroups: number | null,
  ): Promise<void>;
  group(id: string): Promise<SecurityGroupRecord | undefined>;
  groupByName(ownerId: string, vpcId: string, name: string): Promise<SecurityGroupRecord | undefined>;
  groupsOf(ownerId: string): Promise<SecurityGroupRecord[]>;
  groupsInVpc(vpcId: string): Promise<SecurityGroupRecord[]>;
  groupsByIds(ids: string[]): Promise<SecurityGroupRecord[]>;
  /** Rules of the groups, in the order they were added. */
  rulesOf(groupIds: string[]): Promise<SecurityGroupRuleRecord[]>;
  rulesOfOwner(ownerId: string): Promise<SecurityGroupRuleRecord[]>;
  /**
   * Adds rules (with tags) to one group: InvalidPermission.Duplicate when one exists already,
   * RulesPerSecurityGroupLimitExceeded when a direction would pass `maxPerDirection`.
   */
  addRules(
    groupId: string,
    rules: SecurityGroupRuleRecord[],
    tags: Tag[],
    maxPerDirection: number,
  ): Promise<void>;
  /**
   * Replaces rules of the group in place (same ids, tags kept): all or none, with
   * InvalidPermission.Duplicate when a new form equals another rule.
   */
  updateRules(groupId: string, rules: SecurityGroupRuleRecord[]): Promise<void>;
  /** Removes the rules (and their tags) of the group; all or none (InvalidPermission.NotFound). */
  removeRules(groupId: string, ruleIds: string[]): Promise<void>;
  /**
   * Deletes the group, its rules and tags: DependencyViolation while another group's rule
   * references it or a network interface has it (checked in the same transaction).
   */
  deleteGroup(id: string): Promise<void>;
  /** Deletes every group of the VPC (DeleteVpc), their rules and tags. */
  deleteGroupsOfVpc(vpcId: string): Promise<void>;
}

export function groupNotFound(id: string): StrataError {
  return new StrataError("InvalidGroup.NotFound", `The security group '${id}' does not exist`);
}

export function groupHasMember(id: string, networkInterfaceId: string): StrataError {
  return new StrataError(
    "DependencyViolation",
    `resource ${id} has a dependent object (network interface ${networkInterfaceId})`,
  );
}
