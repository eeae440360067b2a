import type { SQLInputValue } from "node:sqlite";
import { StrataError } from "../../../errors.ts";
import type {
  RuleProtocol,
  SecurityGroupRecord,
  SecurityGroupRuleRecord,
} from "../../../services/network/network-records.ts";
import type { Tag } from "../catalog-store.ts";
import { groupHasMember, type SecurityGroupStore } from "../security-group-store.ts";
import type { Row, SqliteDatabase } from "./sqlite-database.ts";

export class SqliteSecurityGroupStore implements SecurityGroupStore {
  readonly #db: SqliteDatabase;

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  async insertGroup(
    g: SecurityGroupRecord,
    rules: SecurityGroupRuleRecord[],
    tags: Tag[],
    maxGroups: number | null,
  ): Promise<void> {
    return this.#db.exclusive(() => {
      this.#db.transaction(() => {
        if (this.#byName(g.ownerId, g.vpcId, g.name)) {
          throw new StrataError(
            "InvalidGroup.Duplicate",
            `The security group '${g.name}' already exists for VPC '${g.vpcId}'`,
          );
        }
        if (maxGroups !== null) {
          const count = Number(
            (this.#db.q("SELECT count(*) AS n FROM security_groups WHERE owner_id = ?").get(g.ownerId) as Row)
              .n,
          );
          if (count >= maxGroups) {
            throw new StrataError(
              "SecurityGroupLimitExceeded",
              `The maximum number of security groups (${maxGroups}) has been reached.`,
            );
          }
        }
        this.#db
          .q(
            `INSERT INTO security_groups (id, owner_id, vpc_id, name, description, created_at)
             VALUES (?, ?, ?, ?, ?, ?)`,
          )
          .run(g.id, g.ownerId, g.vpcId, g.name, g.description, new Date().toISOString());
        this.#db.insertTags([g.id], tags);
        for (const r of rules) this.#insertRule(r);
      });
    });
  }

  #byName(ownerId: string, vpcId: string, name: string): SecurityGroupRecord | undefined {
    const row = this.#db
      .q("SELECT * FROM security_groups WHERE owner_id = ? AND vpc_id = ? AND name = ? COLLATE NOCASE")
      .get(ownerId, vpcId, name) as Row | undefined;
    return row && toGroup(row);
  }

  async group(id: string): Promise<SecurityGroupRecord | undefined> {
    return this.#db.exclusive(() => {
      const row = this.#db.q("SELECT * FROM security_groups WHERE id = ?").get(id) as Row | undefined;
      return row && toGroup(row);
    });
  }

  async groupByName(ownerId: string, vpcId: string, name: string): Promise<SecurityGroupRecord | undefined> {
    return this.#db.exclusive(() => this.#byName(ownerId, vpcId, name));
  }

  async groupsOf(ownerId: string): Promise<SecurityGroupRecord[]> {
    return this.#db.exclusive(() => {
      return (
        this.#db.q("SELECT * FROM security_groups WHERE owner_id = ? ORDER BY id").all(ownerId) as Row[]
      ).map(toGroup);
    });
  }

  async groupsInVpc(vpcId: string): Promise<SecurityGroupRecord[]> {
    return this.#db.exclusive(() => {
      return (
        this.#db.q("SELECT * FROM security_groups WHERE vpc_id = ? ORDER BY id").all(vpcId) as Row[]
      ).map(toGroup);
    });
  }

  async groupsByIds(ids: string[]): Promise<SecurityGroupRecord[]> {
    return this.#db.exclusive(() => {
      if (!ids.length) return [];
      return (
        this.#db
          .q("SELECT * FROM security_groups WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id")
          .all(JSON.stringify(ids)) as Row[]
      ).map(toGroup);
    });
  }

  async rulesOf(groupIds: string[]): Promise<SecurityGroupRuleRecord[]> {
    return this.#db.exclusive(() => {
      if (!groupIds.length) return [];
      return (
        this.#db
          .q(
            "SELECT * FROM security_group_rules WHERE group_id IN (SELECT value FROM json_each(?)) ORDER BY rowid",
          )
          .all(JSON.stringify(groupIds)) as Row[]
      ).map(toRule);
    });
  }

  async rulesOfOwner(ownerId: string): Promise<SecurityGroupRuleRecord[]> {
    return this.#db.exclusive(() => {
      return (
        this.#db
          .q("SELECT * FROM security_group_rules WHERE owner_id = ? ORDER BY rowid")
          .all(ownerId) as Row[]
      ).map(toRule);
    });
  }

  async addRules(
    groupId: string,
    rules: SecurityGroupRuleRecord[],
    tags: Tag[],
    maxPerDirection: number,
  ): Promise<void> {
    return this.#db.exclusive(() => {
      this.#db.transaction(() => {
        if (!this.#db.q("SELECT 1 FROM security_groups WHERE id = ?").get(groupId)) {
          throw new StrataError("InvalidGroup.NotFound", `The security group '${groupId}' does not exist`);
        }
        for (const egress of [false, true]) {
          const adding = rules.filter((r) => r.egress === egress).length;
          if (!adding) continue;
          const have = Number(
            (
              this.#db
                .q("SELECT count(*) AS n FROM security_group_rules WHERE group_id = ? AND egress = ?")
                .get(groupId, egress ? 1 : 0) as Row
            ).n,
          );
          if (have + adding > maxPerDirection) {
            throw new StrataError(
              "RulesPerSecurityGroupLimitExceeded",
              `The maximum number of rules per security group has been reached (${maxPerDirection} ${egress ? "outbound" : "inbound"}).`,
            );
          }
        }
        for (const r of rules) this.#insertRule({ ...r, groupId });
        this.#db.insertTags(
          rules.map((r) => r.id),
          tags,
        );
      });
    });
  }

  #insertRule(r: SecurityGroupRuleRecord): void {
    const existing = this.#db
      .q(
        `SELECT 1 FROM security_group_rules WHERE group_id = ? AND egress = ? AND protocol = ? AND from_port = ?
         AND to_port = ? AND ifnull(cidr, '') = ? AND ifnull(referenced_group_id, '') = ?`,
      )
      .get(
        r.groupId,
        r.egress ? 1 : 0,
        r.protocol,
        r.fromPort,
        r.toPort,
        r.cidr ?? "",
        r.referencedGroupId ?? "",
      );
    if (existing) {
      throw new StrataError(
        "InvalidPermission.Duplicate",
        `the specified rule (${r.protocol}, ports ${r.fromPort}-${r.toPort}, peer ${r.cidr ?? r.referencedGroupId}) already exists`,
      );
    }
    this.#db
      .q(
        `INSERT INTO security_group_rules (id, group_id, owner_id, egress, protocol, from_port, to_port, cidr,
         referenced_group_id, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        r.id,
        r.groupId,
        r.ownerId,
        r.egress ? 1 : 0,
        r.protocol,
        r.fromPort,
        r.toPort,
        r.cidr,
        r.referencedGroupId,
        r.description,
      );
  }

  async updateRules(groupId: string, rules: SecurityGroupRuleRecord[]): Promise<void> {
    return this.#db.exclusive(() => {
      this.#db.transaction(() => {
        const del = this.#db.q("DELETE FROM security_group_rules WHERE id = ? AND group_id = ?");
        for (const r of rules) {
          if (Number(del.run(r.id, groupId).changes) !== 1) {
            throw new StrataError(
              "InvalidSecurityGroupRuleId.NotFound",
              `The security group rule ID '${r.id}' does not exist`,
            );
          }
        }
        for (const r of rules) this.#insertRule({ ...r, groupId });
      });
    });
  }

  async removeRules(groupId: string, ruleIds: string[]): Promise<void> {
    return this.#db.exclusive(() => {
      this.#db.transaction(() => {
        const del = this.#db.q("DELETE FROM security_group_rules WHERE id = ? AND group_id = ?");
        for (const id of ruleIds) {
          if (Number(del.run(id, groupId).changes) !== 1) {
            throw new StrataError(
              "InvalidPermission.NotFound",
              "The specified rule does not exist in this security group.",
            );
          }
          this.#db.q("DELETE FROM tags WHERE resource_id = ?").run(id);
        }
      });
    });
  }

  async deleteGroup(id: string): Promise<void> {
    return this.#db.exclusive(() => {
      this.#db.transaction(() => {
        const referencing = this.#db
          .q(
            "SELECT group_id AS v FROM security_group_rules WHERE referenced_group_id = ? AND group_id != ? LIMIT 1",
          )
          .get(id, id) as Row | undefined;
        if (referencing) {
          throw new StrataError(
            "DependencyViolation",
            `resource ${id} has a dependent object (a rule of ${String(referencing.v)} references it)`,
          );
        }
        const member = this.#db
          .q(
            `SELECT id FROM network_interfaces
             WHERE EXISTS (SELECT 1 FROM json_each(group_ids) g WHERE g.value = ?) ORDER BY id LIMIT 1`,
          )
          .get(id) as Row | undefined;
        if (member) throw groupHasMember(id, String(member.id));
        this.#deleteGroups([id]);
      });
    });
  }

  async deleteGroupsOfVpc(vpcId: string): Promise<void> {
    return this.#db.exclusive(() => {
      this.#db.transaction(() => {
        this.#deleteGroups(
          this.#db.column("SELECT id AS v FROM security_groups WHERE vpc_id = ?", vpcId).map(String),
        );
      });
    });
  }

  #deleteGroups(ids: string[]): void {
    const list: SQLInputValue = JSON.stringify(ids);
    this.#db
      .q(
        `DELETE FROM tags WHERE resource_id IN (SELECT value FROM json_each(?))
         OR resource_id IN (SELECT id FROM security_group_rules WHERE group_id IN (SELECT value FROM json_each(?)))`,
      )
      .run(list, list);
    this.#db
      .q("DELETE FROM security_group_rules WHERE group_id IN (SELECT value FROM json_each(?))")
      .run(list);
    this.#db.q("DELETE FROM security_groups WHERE id IN (SELECT value FROM json_each(?))").run(list);
  }
}

function toGroup(r: Row): SecurityGroupRecord {
  return {
    id: String(r.id),
    ownerId: String(r.owner_id),
    vpcId: String(r.vpc_id),
    name: String(r.name),
    description: String(r.description),
  };
}

function toRule(r: Row): SecurityGroupRuleRecord {
  return {
    id: String(r.id),
    groupId: String(r.group_id),
    ownerId: String(r.owner_id),
    egress: Number(r.egress) === 1,
    protocol: String(r.protocol) as RuleProtocol,
    fromPort: Number(r.from_port),
    toPort: Number(r.to_port),
    cidr: r.cidr === null ? null : String(r.cidr),
    referencedGroupId: r.referenced_group_id === null ? null : String(r.referenced_group_id),
    description: r.description === null ? null : String(r.description),
  };
}
