// One region's security groups: EC2's rules for who may see and change them (everything per
// account: another account's group does not exist for it), the VPC's default group, and the
// resolution of groups into the firewall the data plane enforces.
import { StrataError } from "../../errors.ts";
import { newId } from "../../ids.ts";
import type { NicFirewall } from "../../network/spec.ts";
import type { Tag } from "../../storage/metadata/catalog-store.ts";
import { LocalRegionLocks, type RegionLocks } from "../../storage/metadata/region-locks.ts";
import type { SecurityGroupStore } from "../../storage/metadata/security-group-store.ts";
import { type GroupMembership, type SecurityGroupLookup, type VpcLookup, vpcLockName } from "./contracts.ts";
import { resolveFirewall } from "./firewall-resolution.ts";
import type { SecurityGroupRecord, SecurityGroupRuleRecord } from "./network-records.ts";
import {
  allTraffic,
  checkCreateGroup,
  checkGroupId,
  DEFAULT_GROUP_NAME,
  EC2_SECURITY_GROUP_LIMITS,
  type GroupTarget,
  groupNotFound,
  type SecurityGroupLimits,
} from "./security-group-checks.ts";
import * as ruleChanges from "./security-group-rule-changes.ts";
import type { PermissionInput, RuleSpec } from "./security-group-rules.ts";

export class SecurityGroupService implements SecurityGroupLookup {
  readonly region: string;
  readonly #store: SecurityGroupStore;
  readonly #vpcs: VpcLookup;
  readonly #membership: GroupMembership;
  readonly #limits: SecurityGroupLimits;
  readonly #locks: RegionLocks;
  readonly #listeners = new Set<(vpcId: string) => void>();
  readonly #ruleDeps: ruleChanges.RuleChangeDeps;

  constructor(
    region: string,
    store: SecurityGroupStore,
    vpcs: VpcLookup,
    membership: GroupMembership,
    limits: SecurityGroupLimits = EC2_SECURITY_GROUP_LIMITS,
    locks: RegionLocks = new LocalRegionLocks(),
  ) {
    this.region = region;
    this.#locks = locks;
    this.#store = store;
    this.#vpcs = vpcs;
    this.#membership = membership;
    this.#limits = limits;
    this.#ruleDeps = {
      store,
      vpcs,
      limits,
      owned: (accountId, id) => this.owned(accountId, id),
      target: (accountId, t) => this.target(accountId, t),
      notifyChanged: (vpcId) => this.notifyChanged(vpcId),
    };
  }

  /**
   * Calls `listener(vpcId)` after every committed change of a group or rule in that VPC (so the
   * VPC's firewall is re-applied). Returns the unsubscribe function.
   */
  onChange(listener: (vpcId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Tells the listeners the VPC's firewall changed for another reason (an interface's groups). */
  notifyChanged(vpcId: string): void {
    for (const listener of this.#listeners) {
      try {
        listener(vpcId);
      } catch {
        // The change is committed; a listener's failure is its own to report.
      }
    }
  }

  /** The firewall of every attached interface of the VPC, group references resolved to members. */
  async firewallFor(vpcId: string): Promise<NicFirewall[]> {
    const groups = await this.#store.groupsInVpc(vpcId);
    const ids = groups.map((g) => g.id);
    const [members, rules] = await Promise.all([this.#membership.membersOf(ids), this.#store.rulesOf(ids)]);
    return resolveFirewall(
      members.filter((m) => m.vpcId === vpcId),
      rules,
    );
  }

  // --- lookups ----------------------------------------------------------------------------

  /** The account's group by id: InvalidGroupId.Malformed / InvalidGroup.NotFound otherwise. */
  async owned(accountId: string, id: string): Promise<SecurityGroupRecord> {
    checkGroupId(id);
    const group = await this.#store.group(id);
    if (!group || group.ownerId !== accountId) throw groupNotFound(id);
    return group;
  }

  /** The account's group by name in its default VPC (EC2 takes names for the default VPC only). */
  async byName(accountId: string, name: string): Promise<SecurityGroupRecord> {
    const vpc = await this.#vpcs.defaultVpc(accountId);
    const group = await this.#store.groupByName(accountId, vpc.id, name);
    if (!group) {
      throw new StrataError(
        "InvalidGroup.NotFound",
        `The security group '${name}' does not exist in default VPC '${vpc.id}'`,
      );
    }
    return group;
  }

  async target(accountId: string, t: GroupTarget): Promise<SecurityGroupRecord> {
    if (t.groupId) return this.owned(accountId, t.groupId);
    if (t.groupName) return this.byName(accountId, t.groupName);
    throw new StrataError("MissingParameter", "The request must contain the parameter groupId or groupName");
  }

  /** A rule of the account's groups by id (tagging). */
  async ownedRule(accountId: string, id: string): Promise<SecurityGroupRuleRecord> {
    return (await this.describeRules(accountId, [id]))[0];
  }

  /** Ids of every group and rule the account owns (DescribeTags). */
  async ownedIds(accountId: string): Promise<string[]> {
    const [groups, rules] = await Promise.all([
      this.#store.groupsOf(accountId),
      this.#store.rulesOfOwner(accountId),
    ]);
    return [...groups.map((g) => g.id), ...rules.map((r) => r.id)];
  }

  // --- groups -----------------------------------------------------------------------------

  /** CreateSecurityGroup: in `vpcId`, or the account's default VPC when absent. */
  async create(
    accountId: string,
    input: { name: string; description: string; vpcId?: string; tags?: Tag[] },
  ): Promise<SecurityGroupRecord> {
    checkCreateGroup(input.name, input.description, input.tags ?? []);
    const vpc = input.vpcId
      ? await this.#vpcs.vpc(accountId, input.vpcId)
      : await this.#vpcs.defaultVpc(accountId);
    const group: SecurityGroupRecord = {
      id: newId("sg"),
      ownerId: accountId,
      vpcId: vpc.id,
      name: input.name,
      description: input.description,
    };
    // EC2 gives every new group one rule: all outbound traffic to anywhere.
    await this.#inVpc(accountId, vpc.id, () =>
      this.#store.insertGroup(
        group,
        [allTraffic(group, true, { cidr: "0.0.0.0/0" })],
        input.tags ?? [],
        this.#limits.groupsPerRegion,
      ),
    );
    this.notifyChanged(vpc.id);
    return group;
  }

  /** DescribeSecurityGroups' candidates: the account's groups, or those named (each must exist). */
  async describe(
    accountId: string,
    by: { ids?: string[]; names?: string[] } = {},
  ): Promise<SecurityGroupRecord[]> {
    const ids = by.ids ?? [];
    const names = by.names ?? [];
    if (!ids.length && !names.length) return this.#store.groupsOf(accountId);
    const out = new Map<string, SecurityGroupRecord>();
    for (const id of ids) {
      const g = await this.owned(accountId, id);
      out.set(g.id, g);
    }
    for (const name of names) {
      const g = await this.byName(accountId, name);
      out.set(g.id, g);
    }
    return [...out.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** Rules of the groups, by group id, in the order they were added. */
  async rulesByGroup(groupIds: string[]): Promise<Map<string, SecurityGroupRuleRecord[]>> {
    const out = new Map<string, SecurityGroupRuleRecord[]>(groupIds.map((id) => [id, []]));
    for (const r of await this.#store.rulesOf(groupIds)) out.get(r.groupId)?.push(r);
    return out;
  }

  /**
   * DeleteSecurityGroup: CannotDelete for a VPC's default group; DependencyViolation while an
   * interface has the group or another group's rule references it.
   */
  async delete(accountId: string, t: GroupTarget): Promise<SecurityGroupRecord> {
    const group = await this.target(accountId, t);
    if (group.name === DEFAULT_GROUP_NAME) {
      throw new StrataError(
        "CannotDelete",
        `the specified group: "${group.id}" name: "default" cannot be deleted by a user`,
      );
    }
    // Checked again in the delete's transaction (an interface given the group meanwhile).
    const members = await this.#membership.membersOf([group.id]);
    if (members.length) {
      throw new StrataError(
        "DependencyViolation",
        `resource ${group.id} has a dependent object (network interface ${members[0].networkInterfaceId})`,
      );
    }
    await this.#store.deleteGroup(group.id);
    this.notifyChanged(group.vpcId);
    return group;
  }

  // --- rules (security-group-rule-changes.ts) ----------------------------------------------

  /**
   * AuthorizeSecurityGroupIngress/Egress: every rule or none (InvalidPermission.Duplicate when
   * one exists already, RulesPerSecurityGroupLimitExceeded past the limit).
   */
  authorize(
    accountId: string,
    t: GroupTarget,
    egress: boolean,
    specs: RuleSpec[],
    tags: Tag[] = [],
  ): Promise<SecurityGroupRuleRecord[]> {
    return ruleChanges.authorize(this.#ruleDeps, accountId, t, egress, specs, tags);
  }

  /**
   * RevokeSecurityGroupIngress/Egress, by rule ids or by rule properties (matched exactly,
   * description aside). As EC2 documents: in a default VPC, rules that match nothing are answered
   * as UnknownIpPermissions and the others revoked; in any other VPC they are
   * InvalidPermission.NotFound and nothing is revoked.
   */
  revoke(
    accountId: string,
    t: GroupTarget,
    egress: boolean,
    by: { specs?: RuleSpec[]; ruleIds?: string[] },
  ): Promise<{ revoked: SecurityGroupRuleRecord[]; unknown: PermissionInput[] }> {
    return ruleChanges.revoke(this.#ruleDeps, accountId, t, egress, by);
  }

  /**
   * ModifySecurityGroupRules: each rule of the group takes a new form (protocol, ports, one
   * source, description), keeping its id, direction and tags; all or none.
   */
  modifyRules(
    accountId: string,
    groupId: string,
    updates: { ruleId: string; permission: PermissionInput }[],
  ): Promise<void> {
    return ruleChanges.modifyRules(this.#ruleDeps, accountId, groupId, updates);
  }

  /** DescribeSecurityGroupRules' candidates: the account's rules, or those named (each must exist). */
  describeRules(accountId: string, ids: string[] = []): Promise<SecurityGroupRuleRecord[]> {
    return ruleChanges.describeRules(this.#ruleDeps, accountId, ids);
  }

  // --- SecurityGroupLookup (VPCs, interfaces, launches) ----------------------------------

  /** Inserts a group of the VPC once it is known to exist, under the VPC's lock (see vpcLockName). */
  async #inVpc(ownerId: string, vpcId: string, insert: () => Promise<void>): Promise<void> {
    await this.#locks.withLocks([vpcLockName(this.region, vpcId)], async () => {
      await this.#vpcs.vpc(ownerId, vpcId);
      await insert();
    });
  }

  async createDefaultGroup(ownerId: string, vpcId: string): Promise<SecurityGroupRecord> {
    const existing = await this.#store.groupByName(ownerId, vpcId, DEFAULT_GROUP_NAME);
    if (existing) return existing;
    const group: SecurityGroupRecord = {
      id: newId("sg"),
      ownerId,
      vpcId,
      name: DEFAULT_GROUP_NAME,
      description: "default VPC security group",
    };
    // EC2's default group: all inbound traffic from its own members, all outbound traffic.
    const rules = [
      allTraffic(group, false, { group: group.id }),
      allTraffic(group, true, { cidr: "0.0.0.0/0" }),
    ];
    try {
      await this.#inVpc(ownerId, vpcId, () => this.#store.insertGroup(group, rules, [], null));
    } catch (e) {
      // Created concurrently by another first use: that one is the VPC's default group.
      const raced = await this.#store.groupByName(ownerId, vpcId, DEFAULT_GROUP_NAME);
      if (raced) return raced;
      throw e;
    }
    this.notifyChanged(vpcId);
    return group;
  }

  async resolveForLaunch(
    ownerId: string,
    vpcId: string,
    ids: string[] | undefined,
    names: string[] | undefined,
  ): Promise<SecurityGroupRecord[]> {
    const out = new Map<string, SecurityGroupRecord>();
    for (const id of ids ?? []) {
      const g = await this.owned(ownerId, id);
      if (g.vpcId !== vpcId) {
        throw new StrataError(
          "InvalidParameter",
          `Security group ${id} and the launch's subnet belong to different networks (${g.vpcId}, ${vpcId}).`,
        );
      }
      out.set(g.id, g);
    }
    if (names?.length) {
      const vpc = await this.#vpcs.vpc(ownerId, vpcId);
      if (!vpc.isDefault) {
        throw new StrataError(
          "InvalidParameterCombination",
          "The parameter groupName cannot be used with the parameter subnet (a non-default VPC): use group ids",
        );
      }
      for (const name of names) {
        const g = await this.#store.groupByName(ownerId, vpcId, name);
        if (!g) {
          throw new StrataError(
            "InvalidGroup.NotFound",
            `The security group '${name}' does not exist in default VPC '${vpcId}'`,
          );
        }
        out.set(g.id, g);
      }
    }
    if (!out.size) {
      const g = await this.createDefaultGroup(ownerId, vpcId);
      out.set(g.id, g);
    }
    return [...out.values()];
  }

  groupsInVpc(vpcId: string): Promise<SecurityGroupRecord[]> {
    return this.#store.groupsInVpc(vpcId);
  }

  async deleteGroupsOfVpc(vpcId: string): Promise<void> {
    await this.#store.deleteGroupsOfVpc(vpcId);
    this.notifyChanged(vpcId);
  }

  async byIds(ids: string[]): Promise<Map<string, SecurityGroupRecord>> {
    return new Map((await this.#store.groupsByIds(ids)).map((g) => [g.id, g]));
  }
}
