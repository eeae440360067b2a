import type pg from "pg";
import { StrataError } from "../../../errors.ts";
import type {
  RuleProtocol,
  SecurityGroupRecord,
  SecurityGroupRuleRecord,
} from "../../../services/network/network-records.ts";
import type { Tag } from "../catalog-store.ts";
import { groupHasMember, type SecurityGroupStore } from "../security-group-store.ts";
import type { PgDatabase, PgRow, Queryable } from "./pg-database.ts";

export class PgSecurityGroupStore implements SecurityGroupStore {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async insertGroup(
    g: SecurityGroupRecord,
    rules: SecurityGroupRuleRecord[],
    tags: Tag[],
    maxGroups: number | null,
  ): Promise<void> {
    await this.#db.tx(async (c) => {
      if (await this.#byName(g.ownerId, g.vpcId, g.name, c)) {
        throw new StrataError(
          "InvalidGroup.Duplicate",
          `The security group '${g.name}' already exists for VPC '${g.vpcId}'`,
        );
      }
      if (maxGroups !== null) {
        const row = await this.#db.one(
          "SELECT count(*) AS n FROM security_groups WHERE owner_id = $1",
          [g.ownerId],
          c,
        );
        if (Number(row?.n) >= maxGroups) {
          throw new StrataError(
            "SecurityGroupLimitExceeded",
            `The maximum number of security groups (${maxGroups}) has been reached.`,
          );
        }
      }
      await c.query(
        `INSERT INTO security_groups (id, owner_id, vpc_id, name, description, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [g.id, g.ownerId, g.vpcId, g.name, g.description, new Date().toISOString()],
      );
      await this.#db.insertTags(c, [g.id], tags);
      for (const r of rules) await this.#insertRule(c, r);
    });
  }

  async #byName(ownerId: string, vpcId: string, name: string, on?: Queryable) {
    // lower() under "C" folds ASCII letters only, as SQLite's NOCASE does.
    const row = await this.#db.one(
      'SELECT * FROM security_groups WHERE owner_id = $1 AND vpc_id = $2 AND lower(name) = lower($3::text COLLATE "C")',
      [ownerId, vpcId, name],
      on,
    );
    return row && toGroup(row);
  }

  async group(id: string): Promise<SecurityGroupRecord | undefined> {
    const row = await this.#db.one("SELECT * FROM security_groups WHERE id = $1", [id]);
    return row && toGroup(row);
  }

  async groupByName(ownerId: string, vpcId: string, name: string): Promise<SecurityGroupRecord | undefined> {
    return this.#byName(ownerId, vpcId, name);
  }

  async groupsOf(ownerId: string): Promise<SecurityGroupRecord[]> {
    return (
      await this.#db.query("SELECT * FROM security_groups WHERE owner_id = $1 ORDER BY id", [ownerId])
    ).map(toGroup);
  }

  async groupsInVpc(vpcId: string): Promise<SecurityGroupRecord[]> {
    return (await this.#db.query("SELECT * FROM security_groups WHERE vpc_id = $1 ORDER BY id", [vpcId])).map(
      toGroup,
    );
  }

  async groupsByIds(ids: string[]): Promise<SecurityGroupRecord[]> {
    if (!ids.length) return [];
    return (
      await this.#db.query("SELECT * FROM security_groups WHERE id = ANY($1::text[]) ORDER BY id", [ids])
    ).map(toGroup);
  }

  async rulesOf(groupIds: string[]): Promise<SecurityGroupRuleRecord[]> {
    if (!groupIds.length) return [];
    const rows = await this.#db.query(
      "SELECT * FROM security_group_rules WHERE group_id = ANY($1::text[]) ORDER BY seq",
      [groupIds],
    );
    return rows.map(toRule);
  }

  async rulesOfOwner(ownerId: string): Promise<SecurityGroupRuleRecord[]> {
    return (
      await this.#db.query("SELECT * FROM security_group_rules WHERE owner_id = $1 ORDER BY seq", [ownerId])
    ).map(toRule);
  }

  async addRules(
    groupId: string,
    rules: SecurityGroupRuleRecord[],
    tags: Tag[],
    maxPerDirection: number,
  ): Promise<void> {
    await this.#db.tx(async (c) => {
      if (!(await this.#db.one("SELECT 1 FROM security_groups WHERE id = $1", [groupId], c))) {
        throw new StrataError("InvalidGroup.NotFound", `The security group '${groupId}' does not exist`);
      }
      for (const egress of [false, true]) {
        const adding = rules.filter((r) => r.egress === egress).length;
        if (!adding) continue;
        const row = await this.#db.one(
          "SELECT count(*) AS n FROM security_group_rules WHERE group_id = $1 AND egress = $2",
          [groupId, egress],
          c,
        );
        if (Number(row?.n) + adding > maxPerDirection) {
          throw new StrataError(
            "RulesPerSecurityGroupLimitExceeded",
            `The maximum number of rules per security group has been reached (${maxPerDirection} ${egress ? "outbound" : "inbound"}).`,
          );
        }
      }
      for (const r of rules) await this.#insertRule(c, { ...r, groupId });
      await this.#db.insertTags(
        c,
        rules.map((r) => r.id),
        tags,
      );
    });
  }

  async #insertRule(c: pg.PoolClient, r: SecurityGroupRuleRecord): Promise<void> {
    const existing = await this.#db.one(
      `SELECT 1 FROM security_group_rules WHERE group_id = $1 AND egress = $2 AND protocol = $3 AND from_port = $4
       AND to_port = $5 AND coalesce(cidr, '') = $6 AND coalesce(referenced_group_id, '') = $7`,
      [r.groupId, r.egress, r.protocol, r.fromPort, r.toPort, r.cidr ?? "", r.referencedGroupId ?? ""],
      c,
    );
    if (existing) {
      throw new StrataError(
        "InvalidPermission.Duplicate",
        `the specified rule (${r.protocol}, ports ${r.fromPort}-${r.toPort}, peer ${r.cidr ?? r.referencedGroupId}) already exists`,
      );
    }
    await c.query(
      `INSERT INTO security_group_rules (id, group_id, owner_id, egress, protocol, from_port, to_port, cidr,
       referenced_group_id, description) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        r.id,
        r.groupId,
        r.ownerId,
        r.egress,
        r.protocol,
        r.fromPort,
        r.toPort,
        r.cidr,
        r.referencedGroupId,
        r.description,
      ],
    );
  }

  async updateRules(groupId: string, rules: SecurityGroupRuleRecord[]): Promise<void> {
    await this.#db.tx(async (c) => {
      for (const r of rules) {
        if (
          (await this.#db.run(
            "DELETE FROM security_group_rules WHERE id = $1 AND group_id = $2",
            [r.id, groupId],
            c,
          )) !== 1
        ) {
          throw new StrataError(
            "InvalidSecurityGroupRuleId.NotFound",
            `The security group rule ID '${r.id}' does not exist`,
          );
        }
      }
      for (const r of rules) await this.#insertRule(c, { ...r, groupId });
    });
  }

  async removeRules(groupId: string, ruleIds: string[]): Promise<void> {
    await this.#db.tx(async (c) => {
      for (const id of ruleIds) {
        if (
          (await this.#db.run(
            "DELETE FROM security_group_rules WHERE id = $1 AND group_id = $2",
            [id, groupId],
            c,
          )) !== 1
        ) {
          throw new StrataError(
            "InvalidPermission.NotFound",
            "The specified rule does not exist in this security group.",
          );
        }
        await c.query("DELETE FROM tags WHERE resource_id = $1", [id]);
      }
    });
  }

  async deleteGroup(id: string): Promise<void> {
    await this.#db.tx(async (c) => {
      const referencing = await this.#db.one(
        "SELECT group_id AS v FROM security_group_rules WHERE referenced_group_id = $1 AND group_id != $1 LIMIT 1",
        [id],
        c,
      );
      if (referencing) {
        throw new StrataError(
          "DependencyViolation",
          `resource ${id} has a dependent object (a rule of ${String(referencing.v)} references it)`,
        );
      }
      const member = await this.#db.one(
        "SELECT id FROM network_interfaces WHERE group_ids ? $1 ORDER BY id LIMIT 1",
        [id],
        c,
      );
      if (member) throw groupHasMember(id, String(member.id));
      await this.#deleteGroups(c, [id]);
    });
  }

  async deleteGroupsOfVpc(vpcId: string): Promise<void> {
    await this.#db.tx(async (c) => {
      const ids = await this.#db.column("SELECT id AS v FROM security_groups WHERE vpc_id = $1", [vpcId], c);
      await this.#deleteGroups(c, ids.map(String));
    });
  }

  async #deleteGroups(c: pg.PoolClient, ids: string[]): Promise<void> {
    await c.query(
      `DELETE FROM tags WHERE resource_id = ANY($1::text[])
       OR resource_id IN (SELECT id FROM security_group_rules WHERE group_id = ANY($1::text[]))`,
      [ids],
    );
    await c.query("DELETE FROM security_group_rules WHERE group_id = ANY($1::text[])", [ids]);
    await c.query("DELETE FROM security_groups WHERE id = ANY($1::text[])", [ids]);
  }
}

function toGroup(r: PgRow): SecurityGroupRecord {
  return {
    id: String(r.id),
    ownerId: String(r.owner_id),
    vpcId: String(r.vpc_id),
    name: String(r.name),
    description: String(r.description),
  };
}

function toRule(r: PgRow): SecurityGroupRuleRecord {
  return {
    id: String(r.id),
    groupId: String(r.group_id),
    ownerId: String(r.owner_id),
    egress: r.egress === true,
    protocol: String(r.protocol) as RuleProtocol,
    fromPort: Number(r.from_port),
    toPort: Number(r.to_port),
    cidr: r.cidr === null ? null : String(r.cidr),
    referencedGroupId: r.referenced_group_id === null ? null : String(r.referenced_group_id),
    description: r.description === null ? null : String(r.description),
  };
}
