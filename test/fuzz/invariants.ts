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
    UNION ALL SELECT id FROM vpcs UNION ALL SELECT id FROM subnets UNION ALL SELECT id FROM internet_gateways
    UNION ALL SELECT id FROM route_tables UNION ALL SELECT id FROM network_interfaces
    UNION ALL SELECT allocation_id FROM addresses
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
  // The network model: blocks /16 to /28, subnets inside their VPC and apart, one main route
  // table per VPC, nothing of a VPC that is gone, EC2's quotas of five VPCs and five addresses.
  const block = (cidr: unknown) => {
    const [ip, prefix] = String(cidr).split("/");
    const base = ip.split(".").reduce((n, p) => n * 256 + Number(p), 0);
    return { base, size: 2 ** (32 - Number(prefix)), prefix: Number(prefix) };
  };
  say(
    "a VPC or subnet block not /16 to /28",
    [...all("SELECT id, cidr FROM vpcs"), ...all("SELECT id, cidr FROM subnets")].filter(
      (r) => block(r.cidr).prefix < 16 || block(r.cidr).prefix > 28,
    ),
  );
  const subnets = all(
    "SELECT s.id, s.vpc_id, s.cidr, v.cidr AS vpc_cidr FROM subnets s LEFT JOIN vpcs v ON v.id = s.vpc_id",
  );
  say(
    "a subnet outside its VPC (or of no VPC)",
    subnets.filter((r) => {
      if (r.vpc_cidr === null) return true;
      const [s, v] = [block(r.cidr), block(r.vpc_cidr)];
      return s.base < v.base || s.base + s.size > v.base + v.size;
    }),
  );
  say(
    "overlapping subnets in one VPC",
    subnets.filter((a) =>
      subnets.some((b) => {
        if (a.id === b.id || a.vpc_id !== b.vpc_id) return false;
        const [x, y] = [block(a.cidr), block(b.cidr)];
        return x.base < y.base + y.size && y.base < x.base + x.size;
      }),
    ),
  );
  say(
    "a VPC without exactly one main route table",
    all(
      "SELECT v.id, (SELECT count(*) FROM route_tables r WHERE r.vpc_id = v.id AND r.main = 1) AS n FROM vpcs v",
    ).filter((r) => Number(r.n) !== 1),
  );
  say(
    "a route table, gateway attachment or interface of no VPC",
    all(`SELECT id, vpc_id FROM route_tables WHERE vpc_id NOT IN (SELECT id FROM vpcs)
      UNION ALL SELECT id, vpc_id FROM internet_gateways WHERE vpc_id IS NOT NULL AND vpc_id NOT IN (SELECT id FROM vpcs)
      UNION ALL SELECT id, vpc_id FROM network_interfaces WHERE vpc_id NOT IN (SELECT id FROM vpcs)`),
  );
  say(
    "more than five VPCs or Elastic IPs for an account",
    all(`SELECT owner_id, count(*) AS n FROM vpcs GROUP BY owner_id HAVING n > 5
      UNION ALL SELECT owner_id, count(*) AS n FROM addresses GROUP BY owner_id HAVING n > 5`),
  );
  for (const table of [
    "volumes",
    "snapshots",
    "images",
    "key_pairs",
    "instances",
    "vpcs",
    "subnets",
    "internet_gateways",
    "route_tables",
    "network_interfaces",
    "addresses",
    "security_groups",
  ]) {
    const owners = all(`SELECT DISTINCT owner_id FROM ${table}`).map((r) => String(r.owner_id));
    for (const owner of owners)
      if (!accountIds.has(owner)) say(`${table} of an unknown account`, [{ owner }]);
  }
  return out;
}
