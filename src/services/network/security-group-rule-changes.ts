// Changes of a security group's rules (authorize, revoke, modify) and their listing: EC2's rules for
// duplicates, references to other groups, and what a revoke of unknown rules answers.
import { StrataError } from "../../errors.ts";
import { newId } from "../../ids.ts";
import type { Tag } from "../../storage/metadata/catalog-store.ts";
import type { SecurityGroupStore } from "../../storage/metadata/security-group-store.ts";
import { validateTags } from "../tags/tag-rules.ts";
import type { VpcLookup } from "./contracts.ts";
import type { SecurityGroupRecord, SecurityGroupRuleRecord } from "./network-records.ts";
import {
  checkRuleId,
  type GroupTarget,
  groupNotFound,
  ruleNotFound,
  type SecurityGroupLimits,
} from "./security-group-checks.ts";
import {
  firstDuplicate,
  type PermissionInput,
  parsePermissions,
  type RuleSpec,
  ruleAsPermission,
  ruleKey,
  ruleText,
} from "./security-group-rules.ts";

/** What rule changes need of the SecurityGroupService: its store, VPCs, limits and group lookups. */
export interface RuleChangeDeps {
  store: SecurityGroupStore;
  vpcs: VpcLookup;
  limits: SecurityGroupLimits;
  owned(accountId: string, id: string): Promise<SecurityGroupRecord>;
  target(accountId: string, t: GroupTarget): Promise<SecurityGroupRecord>;
  notifyChanged(vpcId: string): void;
}

/** The group a rule references, which must be the account's and in the same VPC. */
async function referencedGroup(
  deps: RuleChangeDeps,
  accountId: string,
  group: SecurityGroupRecord,
  spec: RuleSpec,
): Promise<string | null> {
  const pair = spec.group;
  if (!pair) return null;
  // Another account's groups do not exist for this one (Strata has no VPC peering).
  if (pair.userId && pair.userId !== accountId) throw groupNotFound(pair.groupId ?? pair.groupName ?? "");
  let ref: SecurityGroupRecord | undefined;
  if (pair.groupId) ref = await deps.owned(accountId, pair.groupId);
  else {
    ref = await deps.store.groupByName(accountId, group.vpcId, pair.groupName ?? "");
    if (!ref) throw groupNotFound(pair.groupName ?? "");
  }
  if (ref.vpcId !== group.vpcId) {
    throw new StrataError(
      "InvalidGroup.NotFound",
      `The security group '${ref.id}' does not exist in VPC '${group.vpcId}'`,
    );
  }
  return ref.id;
}

async function ruleRecords(
  deps: RuleChangeDeps,
  accountId: string,
  group: SecurityGroupRecord,
  egress: boolean,
  specs: RuleSpec[],
): Promise<SecurityGroupRuleRecord[]> {
  const out: SecurityGroupRuleRecord[] = [];
  for (const s of specs) {
    out.push({
      id: newId("sgr"),
      groupId: group.id,
      ownerId: accountId,
      egress,
      protocol: s.protocol,
      fromPort: s.fromPort,
      toPort: s.toPort,
      cidr: s.cidr,
      referencedGroupId: await referencedGroup(deps, accountId, group, s),
      description: s.description,
    });
  }
  return out;
}

/**
 * AuthorizeSecurityGroupIngress/Egress: every rule or none (InvalidPermission.Duplicate when
 * one exists already, RulesPerSecurityGroupLimitExceeded past the limit).
 */
export async function authorize(
  deps: RuleChangeDeps,
  accountId: string,
  t: GroupTarget,
  egress: boolean,
  specs: RuleSpec[],
  tags: Tag[] = [],
): Promise<SecurityGroupRuleRecord[]> {
  validateTags(tags);
  const group = await deps.target(accountId, t);
  const records = await ruleRecords(deps, accountId, group, egress, specs);
  const duplicate = firstDuplicate(await deps.store.rulesOf([group.id]), records);
  if (duplicate) {
    throw new StrataError(
      "InvalidPermission.Duplicate",
      `the specified rule "${ruleText(duplicate)}" already exists`,
    );
  }
  await deps.store.addRules(group.id, records, tags, deps.limits.rulesPerDirection);
  deps.notifyChanged(group.vpcId);
  return records;
}

/**
 * RevokeSecurityGroupIngress/Egress, by rule ids or by rule properties (matched exactly,
 * description aside). As EC2 documents: in a default VPC, rules that match nothing are answered
 * as UnknownIpPermissions and the others revoked; in any other VPC they are
 * InvalidPermission.NotFound and nothing is revoked.
 */
export async function revoke(
  deps: RuleChangeDeps,
  accountId: string,
  t: GroupTarget,
  egress: boolean,
  by: { specs?: RuleSpec[]; ruleIds?: string[] },
): Promise<{ revoked: SecurityGroupRuleRecord[]; unknown: PermissionInput[] }> {
  const group = await deps.target(accountId, t);
  const existing = (await deps.store.rulesOf([group.id])).filter((r) => r.egress === egress);
  const revoked: SecurityGroupRuleRecord[] = [];
  const unknown: PermissionInput[] = [];
  if (by.ruleIds?.length) {
    for (const id of by.ruleIds) {
      checkRuleId(id);
      const rule = existing.find((r) => r.id === id);
      if (!rule) throw ruleNotFound(id);
      if (!revoked.includes(rule)) revoked.push(rule);
    }
  } else {
    const byKey = new Map(existing.map((r) => [ruleKey(r), r]));
    for (const spec of by.specs ?? []) {
      const referencedGroupId = await referencedGroup(deps, accountId, group, spec);
      const rule = byKey.get(ruleKey({ ...spec, egress, referencedGroupId }));
      if (!rule) unknown.push(ruleAsPermission(spec, referencedGroupId));
      else if (!revoked.includes(rule)) revoked.push(rule);
    }
    if (unknown.length && !(await deps.vpcs.vpc(accountId, group.vpcId)).isDefault) {
      throw new StrataError(
        "InvalidPermission.NotFound",
        "The specified rule does not exist in this security group.",
      );
    }
  }
  if (revoked.length) {
    await deps.store.removeRules(
      group.id,
      revoked.map((r) => r.id),
    );
    deps.notifyChanged(group.vpcId);
  }
  return { revoked, unknown };
}

/**
 * ModifySecurityGroupRules: each rule of the group takes a new form (protocol, ports, one
 * source, description), keeping its id, direction and tags; all or none.
 */
export async function modifyRules(
  deps: RuleChangeDeps,
  accountId: string,
  groupId: string,
  updates: { ruleId: string; permission: PermissionInput }[],
): Promise<void> {
  const group = await deps.owned(accountId, groupId);
  const existing = await deps.store.rulesOf([group.id]);
  const replaced: SecurityGroupRuleRecord[] = [];
  for (const { ruleId, permission } of updates) {
    checkRuleId(ruleId);
    const old = existing.find((r) => r.id === ruleId);
    if (!old) throw ruleNotFound(ruleId);
    const specs = parsePermissions([permission]);
    if (specs.length !== 1) {
      throw new StrataError(
        "InvalidParameterCombination",
        "A rule has exactly one source: CidrIpv4 or ReferencedGroupId",
      );
    }
    const [record] = await ruleRecords(deps, accountId, group, old.egress, specs);
    replaced.push({ ...record, id: old.id });
  }
  const ids = new Set(replaced.map((r) => r.id));
  const duplicate = firstDuplicate(
    existing.filter((r) => !ids.has(r.id)),
    replaced,
  );
  if (duplicate) {
    throw new StrataError(
      "InvalidPermission.Duplicate",
      `the specified rule "${ruleText(duplicate)}" already exists`,
    );
  }
  await deps.store.updateRules(group.id, replaced);
  deps.notifyChanged(group.vpcId);
}

/** DescribeSecurityGroupRules' candidates: the account's rules, or those named (each must exist). */
export async function describeRules(
  deps: RuleChangeDeps,
  accountId: string,
  ids: string[] = [],
): Promise<SecurityGroupRuleRecord[]> {
  const rules = await deps.store.rulesOfOwner(accountId);
  if (!ids.length) return rules;
  for (const id of ids) {
    checkRuleId(id);
    if (!rules.some((r) => r.id === id)) throw ruleNotFound(id);
  }
  return rules.filter((r) => ids.includes(r.id));
}
