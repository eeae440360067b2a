// Rules every stored resource keeps, whatever request made it: the limits EC2 (and the EBS direct
// APIs) put on tags, names and descriptions, and no tag or permission outliving its resource.
// Checked after each request that changed the state, so a handler that skips a check is caught.
import type { DatabaseSync } from "node:sqlite";

// EC2's AMI names (see services/images): 3-128 of letters, digits, ( ) [ ] space . / - ' @ _
const AMI_NAME = /^[A-Za-z0-9()[\] ./\-'@_]{3,128}$/;
const MAX_VOLUME_GIB = 16384;

type Row = Record<string, unknown>;

export function violations(region: string, db: DatabaseSync, accountIds: Set<string>): string[] {
  const out: string[] = [];
  const all = (sql: string) => db.prepare(sql).all() as Row[];
  const say = (what: string, rows: Row[]) => {
    for (const row of rows.slice(0, 3)) out.push(`${region}: ${what}: ${JSON.stringify(row).slice(0, 300)}`);
  };
  const resources = `SELECT id FROM volumes UNION ALL SELECT id FROM snapshots UNION ALL SELECT id FROM images
    UNION ALL SELECT id FROM instances UNION ALL SELECT id FROM key_pairs
    UNION ALL SELECT id FROM security_groups UNION ALL SELECT id FROM security_group_rules`;
  say("a tag on no resource", all(`SELECT * FROM tags WHERE resource_id NOT IN (${resources})`));
  // In JavaScript: SQLite's length() stops at a NUL character.
  say(
    "a tag EC2 would refuse (key 1-128 characters, not aws:, value up to 256)",
    all("SELECT * FROM tags").filter((t) => {
      const [key, value] = [String(t.key), String(t.value)];
      return key.length < 1 || key.length > 128 || key.toLowerCase().startsWith("aws:") || value.length > 256;
    }),
  );
  say(
    "more than 50 tags on a resource",
    all("SELECT resource_id, count(*) AS n FROM tags GROUP BY resource_id HAVING n > 50"),
  );
  say(
    "a permission on no image or snapshot",
    all(
      "SELECT * FROM permissions WHERE resource_id NOT IN (SELECT id FROM images UNION ALL SELECT id FROM snapshots)",
    ),
  );
  say(
    "a permission for something not an account id or 'all'",
    all(
      "SELECT * FROM permissions WHERE grantee <> 'all' AND (length(grantee) <> 12 OR grantee GLOB '*[^0-9]*')",
    ),
  );
  say(
    "a volume of an impossible size",
    all(`SELECT id, size_gib FROM volumes WHERE size_gib < 1 OR size_gib > ${MAX_VOLUME_GIB}`),
  );
  say(
    "a snapshot of an impossible size or with a description over 255 characters",
    all("SELECT id, volume_size_gib, description FROM snapshots").filter(
      (r) =>
        Number(r.volume_size_gib) < 1 ||
        Number(r.volume_size_gib) > MAX_VOLUME_GIB ||
        String(r.description).length > 255,
    ),
  );
  say(
    "a key pair name EC2 would refuse (1-255 ASCII characters)",
    all("SELECT id, name FROM key_pairs").filter((r) => !/^[\x20-\x7e]{1,255}$/.test(String(r.name))),
  );
  for (const image of all("SELECT id, owner_id, name, attributes FROM images")) {
    const attributes = JSON.parse(String(image.attributes)) as { description?: string };
    if (!AMI_NAME.test(String(image.name))) say("an image name EC2 would refuse", [image]);
    if ((attributes.description ?? "").length > 255) say("an image description over 255 characters", [image]);
  }
  say(
    "a security group rule of no group, or referencing a group of another VPC or account",
    all(`SELECT r.id, r.group_id, r.referenced_group_id FROM security_group_rules r
         LEFT JOIN security_groups g ON g.id = r.group_id
         LEFT JOIN security_groups ref ON ref.id = r.referenced_group_id
         WHERE g.id IS NULL OR r.owner_id <> g.owner_id OR (r.referenced_group_id IS NOT NULL
           AND (ref.id IS NULL OR ref.vpc_id <> g.vpc_id OR ref.owner_id <> g.owner_id))`),
  );
  say(
    "a security group rule EC2 would refuse (one source, ports in range, at most 60 per direction)",
    all(`SELECT * FROM security_group_rules WHERE (cidr IS NULL) = (referenced_group_id IS NULL)
         OR protocol NOT IN ('tcp', 'udp', 'icmp', '-1')
         OR (protocol IN ('tcp', 'udp') AND NOT (from_port BETWEEN 0 AND to_port AND to_port <= 65535))
         OR group_id IN (SELECT group_id FROM security_group_rules GROUP BY group_id, egress HAVING count(*) > 60)`),
  );
  say(
    "a VPC without exactly one default security group",
    all(`SELECT vpc_id, count(*) AS n FROM security_groups GROUP BY vpc_id
         HAVING sum(name = 'default') <> 1`),
  );
  for (const table of ["volumes", "snapshots", "images", "key_pairs", "instances", "security_groups"]) {
    const owners = all(`SELECT DISTINCT owner_id FROM ${table}`).map((r) => String(r.owner_id));
    for (const owner of owners)
      if (!accountIds.has(owner)) say(`${table} of an unknown account`, [{ owner }]);
  }
  return out;
}
