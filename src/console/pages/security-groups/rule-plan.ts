// Saving the rules editor: the difference between the group's rules now and the rows, as the
// calls that make it (the AWS console's editor does the same: Authorize for new rows,
// ModifySecurityGroupRules for changed ones, Revoke by rule id for removed ones).
import type { SecurityGroupRule } from "@aws-sdk/client-ec2";
import type { RulePlan, RuleSpec } from "../../api/security-groups.ts";
import {
  type DraftError,
  isDraftError,
  type RuleDraft,
  specKey,
  specOfDraft,
  specOfRule,
} from "./rule-model.ts";

export type PlanResult = { plan: RulePlan } | { errors: Map<string, DraftError> };

/**
 * `current` are the group's rules of one direction as the API has them at save time (not as the
 * editor loaded them: after a save that failed half-way, the rules it did add are matched by
 * value to the rows that asked for them, so saving again does not add them twice).
 */
export function planRules(current: SecurityGroupRule[], drafts: RuleDraft[]): PlanResult {
  const errors = new Map<string, DraftError>();
  const specs = new Map<string, RuleSpec>();
  for (const d of drafts) {
    const s = specOfDraft(d);
    if (isDraftError(s)) errors.set(d.key, s);
    else specs.set(d.key, s);
  }
  if (errors.size) return { errors };
  const byId = new Map(current.map((r) => [r.SecurityGroupRuleId ?? "", r]));
  const plan: RulePlan = { authorize: [], modify: [], revoke: [] };
  const kept = new Set<string>();
  const added: RuleSpec[] = [];
  for (const d of drafts) {
    const spec = specs.get(d.key)!;
    const rule = d.ruleId ? byId.get(d.ruleId) : undefined;
    if (!rule) {
      added.push(spec);
      continue;
    }
    kept.add(d.ruleId!);
    if (specKey(spec) !== specKey(specOfRule(rule))) plan.modify.push({ ruleId: d.ruleId!, spec });
  }
  // A rule no row keeps is revoked, unless a new row asks for exactly it (removed and added back).
  const unclaimed = current.filter((r) => !kept.has(r.SecurityGroupRuleId ?? ""));
  for (const spec of added) {
    const i = unclaimed.findIndex((r) => specKey(specOfRule(r)) === specKey(spec));
    if (i >= 0) unclaimed.splice(i, 1);
    else plan.authorize.push(spec);
  }
  plan.revoke = unclaimed.map((r) => r.SecurityGroupRuleId!).filter(Boolean);
  return { plan };
}

export function isEmptyPlan(p: RulePlan): boolean {
  return !p.authorize.length && !p.modify.length && !p.revoke.length;
}
