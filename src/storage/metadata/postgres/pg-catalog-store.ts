import { StrataError } from "../../../errors.ts";
import {
  type CatalogStore,
  type ImageAttributeChange,
  type ImageRecord,
  mappedSnapshots,
  snapshotNotFound,
  type Tag,
} from "../catalog-store.ts";
import type { ListScope } from "../metadata-store.ts";
import type { PgDatabase, PgRow } from "./pg-database.ts";

export class PgCatalogStore implements CatalogStore {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async insertImage(
    image: ImageRecord,
    tags: Tag[] = [],
    options: { snapshotsExist?: boolean } = {},
  ): Promise<void> {
    await this.#db.tx(async (c) => {
      if (options.snapshotsExist) {
        for (const id of mappedSnapshots(image)) {
          const s = await this.#db.one(
            "SELECT 1 FROM snapshots WHERE id = $1 AND owner_id = $2",
            [id, image.ownerId],
            c,
          );
          if (!s) throw snapshotNotFound(id);
        }
      }
      const taken = await this.#db.one(
        "SELECT id FROM images WHERE owner_id = $1 AND name = $2",
        [image.ownerId, image.name],
        c,
      );
      if (taken) {
        throw new StrataError(
          "InvalidAMIName.Duplicate",
          `AMI name ${image.name} is already in use by AMI ${String(taken.id)}`,
        );
      }
      await this.#db.insertTags(c, [image.id], tags);
      await c.query(
        "INSERT INTO images (id, owner_id, name, state, creation_date, attributes) VALUES ($1, $2, $3, $4, $5, $6)",
        [image.id, image.ownerId, image.name, image.state, image.creationDate, attributes(image)],
      );
      const snapshots = mappedSnapshots(image);
      await c.query(
        `INSERT INTO image_snapshots (image_id, snapshot_id) SELECT $1, s FROM unnest($2::text[]) AS s
         ON CONFLICT DO NOTHING`,
        [image.id, snapshots],
      );
    });
  }

  async getImage(id: string): Promise<ImageRecord | undefined> {
    const row = await this.#db.one("SELECT * FROM images WHERE id = $1", [id]);
    return row && toImage(row);
  }

  async listImages(): Promise<ImageRecord[]> {
    return (await this.#db.query("SELECT * FROM images ORDER BY id")).map(toImage);
  }

  async imagesVisibleTo(accountId: string, scope: ListScope = {}): Promise<ImageRecord[]> {
    return (await this.#db.visibleTo("images", accountId, scope)).map(toImage);
  }

  async updateImageAttributes(
    id: string,
    change: ImageAttributeChange,
    condition?: ImageAttributeChange,
  ): Promise<boolean> {
    if (Object.keys(change).length === 0) return true;
    const params: unknown[] = [JSON.stringify(change), id];
    // `||` replaces only the named top-level fields: a concurrent change to another field survives.
    // A field that is absent counts as null (as SQLite's json_extract reads it).
    const where = Object.entries(condition ?? {}).map(([k, v]) => {
      params.push(k, JSON.stringify(v ?? null));
      return ` AND coalesce(attributes->$${params.length - 1}, 'null'::jsonb) = $${params.length}::jsonb`;
    });
    const sql = `UPDATE images SET attributes = attributes || $1::jsonb WHERE id = $2${where.join("")}`;
    return (await this.#db.run(sql, params)) > 0;
  }

  async setImageState(
    id: string,
    from: ImageRecord["state"],
    to: ImageRecord["state"],
    stateReason: ImageRecord["stateReason"] = null,
  ): Promise<boolean> {
    const changed = await this.#db.run(
      "UPDATE images SET state = $1, attributes = jsonb_set(attributes, '{stateReason}', $2::jsonb) WHERE id = $3 AND state = $4",
      [to, JSON.stringify(stateReason), id, from],
    );
    return changed > 0;
  }

  async deleteImage(id: string, guard?: (image: ImageRecord) => void): Promise<string[]> {
    return this.#db.tx(async (c) => {
      if (guard) {
        const row = await this.#db.one("SELECT * FROM images WHERE id = $1", [id], c);
        if (row) guard(toImage(row));
      }
      const snapshots = await this.#db.column(
        "SELECT snapshot_id AS v FROM image_snapshots WHERE image_id = $1 ORDER BY snapshot_id",
        [id],
        c,
      );
      await c.query("DELETE FROM image_snapshots WHERE image_id = $1", [id]);
      await c.query("DELETE FROM permissions WHERE resource_id = $1", [id]);
      await c.query("DELETE FROM tags WHERE resource_id = $1", [id]);
      await c.query("DELETE FROM images WHERE id = $1", [id]);
      return snapshots as string[];
    });
  }

  async imagesUsingSnapshot(snapshotId: string, ownerId?: string): Promise<string[]> {
    if (ownerId === undefined) {
      return (await this.#db.column(
        "SELECT image_id AS v FROM image_snapshots WHERE snapshot_id = $1 ORDER BY image_id",
        [snapshotId],
      )) as string[];
    }
    return (await this.#db.column(
      `SELECT l.image_id AS v FROM image_snapshots l JOIN images i ON i.id = l.image_id
       WHERE l.snapshot_id = $1 AND i.owner_id = $2 ORDER BY l.image_id`,
      [snapshotId, ownerId],
    )) as string[];
  }

  async permissions(resourceId: string): Promise<string[]> {
    return (await this.#db.column(
      "SELECT grantee AS v FROM permissions WHERE resource_id = $1 ORDER BY grantee",
      [resourceId],
    )) as string[];
  }

  async resourcesSharedWith(grantees: string[]): Promise<Set<string>> {
    const ids = await this.#db.column(
      "SELECT resource_id AS v FROM permissions WHERE grantee = ANY($1::text[])",
      [grantees],
    );
    return new Set(ids as string[]);
  }

  async changePermissions(resourceId: string, add: string[], remove: string[]): Promise<void> {
    await this.#db.tx(async (c) => {
      await c.query(
        `INSERT INTO permissions (resource_id, grantee) SELECT DISTINCT $1, g FROM unnest($2::text[]) AS g
         ON CONFLICT DO NOTHING`,
        [resourceId, add],
      );
      await c.query("DELETE FROM permissions WHERE resource_id = $1 AND grantee = ANY($2::text[])", [
        resourceId,
        remove,
      ]);
    });
  }

  async resetPermissions(resourceId: string): Promise<void> {
    await this.#db.run("DELETE FROM permissions WHERE resource_id = $1", [resourceId]);
  }

  async tags(resourceId: string): Promise<Tag[]> {
    const rows = await this.#db.query("SELECT key, value FROM tags WHERE resource_id = $1 ORDER BY key", [
      resourceId,
    ]);
    return rows.map((r) => ({ key: String(r.key), value: String(r.value) }));
  }

  async tagsOf(resourceIds: string[]): Promise<Map<string, Tag[]>> {
    const out = new Map<string, Tag[]>();
    if (resourceIds.length === 0) return out;
    const rows = await this.#db.query(
      "SELECT resource_id, key, value FROM tags WHERE resource_id = ANY($1::text[]) ORDER BY key",
      [resourceIds],
    );
    for (const r of rows) {
      const id = String(r.resource_id);
      const list = out.get(id) ?? [];
      if (list.length === 0) out.set(id, list);
      list.push({ key: String(r.key), value: String(r.value) });
    }
    return out;
  }

  async setTags(resourceIds: string[], tags: Tag[]): Promise<void> {
    await this.#db.tx((c) => this.#db.insertTags(c, resourceIds, tags));
  }

  async deleteTags(resourceIds: string[], tags: { key: string; value?: string }[]): Promise<void> {
    await this.#db.tx(async (c) => {
      if (tags.length === 0) {
        await c.query("DELETE FROM tags WHERE resource_id = ANY($1::text[])", [resourceIds]);
        return;
      }
      for (const t of tags) {
        if (t.value === undefined) {
          await c.query("DELETE FROM tags WHERE resource_id = ANY($1::text[]) AND key = $2", [
            resourceIds,
            t.key,
          ]);
        } else {
          await c.query("DELETE FROM tags WHERE resource_id = ANY($1::text[]) AND key = $2 AND value = $3", [
            resourceIds,
            t.key,
            t.value,
          ]);
        }
      }
    });
  }

  async allTags(): Promise<{ resourceId: string; key: string; value: string }[]> {
    const rows = await this.#db.query("SELECT resource_id, key, value FROM tags ORDER BY resource_id, key");
    return rows.map((r) => ({
      resourceId: String(r.resource_id),
      key: String(r.key),
      value: String(r.value),
    }));
  }

  async clientToken(ownerId: string, token: string) {
    const r = await this.#db.one("SELECT * FROM client_tokens WHERE owner_id = $1 AND token = $2", [
      ownerId,
      token,
    ]);
    return (
      r && {
        action: String(r.action),
        requestHash: String(r.request_hash),
        resourceId: String(r.resource_id),
      }
    );
  }

  async saveClientToken(
    ownerId: string,
    token: string,
    action: string,
    requestHash: string,
    resourceId: string,
  ) {
    await this.#db.run(
      "INSERT INTO client_tokens (owner_id, token, action, request_hash, resource_id) VALUES ($1, $2, $3, $4, $5)",
      [ownerId, token, action, requestHash, resourceId],
    );
  }
}

// The columns SQL filters on are real columns; the rest of the description is one JSON document.
function attributes(image: ImageRecord): string {
  const { id: _id, ownerId: _o, name: _n, state: _s, creationDate: _c, ...rest } = image;
  return JSON.stringify(rest);
}

function toImage(r: PgRow): ImageRecord {
  return {
    id: String(r.id),
    ownerId: String(r.owner_id),
    name: String(r.name),
    state: r.state as ImageRecord["state"],
    creationDate: String(r.creation_date),
    ...(r.attributes as object),
  } as ImageRecord;
}
