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
import type { Row, SqliteDatabase } from "./sqlite-database.ts";

export class SqliteCatalogStore implements CatalogStore {
  readonly #db: SqliteDatabase;

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  async insertImage(
    image: ImageRecord,
    tags: Tag[] = [],
    options: { snapshotsExist?: boolean } = {},
  ): Promise<void> {
    return this.#db.exclusive(() => {
      this.#db.transaction(() => {
        if (options.snapshotsExist) {
          const owned = this.#db.q("SELECT 1 FROM snapshots WHERE id = ? AND owner_id = ?");
          for (const id of mappedSnapshots(image))
            if (!owned.get(id, image.ownerId)) throw snapshotNotFound(id);
        }
        this.#db.insertTags([image.id], tags);
        const taken = this.#db
          .q("SELECT id FROM images WHERE owner_id = ? AND name = ?")
          .get(image.ownerId, image.name) as Row | undefined;
        if (taken) {
          throw new StrataError(
            "InvalidAMIName.Duplicate",
            `AMI name ${image.name} is already in use by AMI ${String(taken.id)}`,
          );
        }
        this.#db
          .q(
            "INSERT INTO images (id, owner_id, name, state, creation_date, attributes) VALUES (?, ?, ?, ?, ?, ?)",
          )
          .run(image.id, image.ownerId, image.name, image.state, image.creationDate, attributes(image));
        const link = this.#db.q(
          "INSERT OR IGNORE INTO image_snapshots (image_id, snapshot_id) VALUES (?, ?)",
        );
        for (const id of mappedSnapshots(image)) link.run(image.id, id);
      });
    });
  }

  async getImage(id: string): Promise<ImageRecord | undefined> {
    return this.#db.exclusive(() => {
      const row = this.#db.q("SELECT * FROM images WHERE id = ?").get(id) as Row | undefined;
      return row && toImage(row);
    });
  }

  async listImages(): Promise<ImageRecord[]> {
    return this.#db.exclusive(() => {
      return (this.#db.q("SELECT * FROM images ORDER BY id").all() as Row[]).map(toImage);
    });
  }

  async imagesVisibleTo(accountId: string, scope: ListScope = {}): Promise<ImageRecord[]> {
    return this.#db.exclusive(() => {
      return (this.#db.visibleTo("images", accountId, scope) as Row[]).map(toImage);
    });
  }

  async updateImageAttributes(
    id: string,
    change: ImageAttributeChange,
    condition?: ImageAttributeChange,
  ): Promise<boolean> {
    return this.#db.exclusive(() => {
      const sets = Object.entries(change);
      const where = Object.entries(condition ?? {});
      if (sets.length === 0) return true;
      // json_set changes only the named fields: a concurrent change to another field survives.
      const sql = `UPDATE images SET attributes = json_set(attributes, ${sets.map(() => "?, json(?)").join(", ")})
        WHERE id = ?${where.map(() => " AND json_extract(attributes, ?) IS json_extract(json(?), '$')").join("")}`;
      const params = [
        ...sets.flatMap(([k, v]) => [`$.${k}`, JSON.stringify(v)]),
        id,
        ...where.flatMap(([k, v]) => [`$.${k}`, JSON.stringify(v)]),
      ];
      return Number(this.#db.q(sql).run(...params).changes) > 0;
    });
  }

  async setImageState(
    id: string,
    from: ImageRecord["state"],
    to: ImageRecord["state"],
    stateReason: ImageRecord["stateReason"] = null,
  ): Promise<boolean> {
    return this.#db.exclusive(() => {
      const r = this.#db
        .q(
          "UPDATE images SET state = ?, attributes = json_set(attributes, '$.stateReason', json(?)) WHERE id = ? AND state = ?",
        )
        .run(to, JSON.stringify(stateReason), id, from);
      return Number(r.changes) > 0;
    });
  }

  async deleteImage(id: string, guard?: (image: ImageRecord) => void): Promise<string[]> {
    return this.#db.exclusive(() => {
      return this.#db.transaction(() => {
        if (guard) {
          const row = this.#db.q("SELECT * FROM images WHERE id = ?").get(id) as Row | undefined;
          if (row) guard(toImage(row));
        }
        const snapshots = this.#db.column(
          "SELECT snapshot_id AS v FROM image_snapshots WHERE image_id = ?",
          id,
        );
        for (const table of [
          "image_snapshots WHERE image_id",
          "permissions WHERE resource_id",
          "tags WHERE resource_id",
        ]) {
          this.#db.q(`DELETE FROM ${table} = ?`).run(id);
        }
        this.#db.q("DELETE FROM images WHERE id = ?").run(id);
        return snapshots as string[];
      });
    });
  }

  async imagesUsingSnapshot(snapshotId: string, ownerId?: string): Promise<string[]> {
    return this.#db.exclusive(() => {
      if (ownerId === undefined) {
        return this.#db.column(
          "SELECT image_id AS v FROM image_snapshots WHERE snapshot_id = ? ORDER BY image_id",
          snapshotId,
        ) as string[];
      }
      return this.#db.column(
        `SELECT l.image_id AS v FROM image_snapshots l JOIN images i ON i.id = l.image_id
         WHERE l.snapshot_id = ? AND i.owner_id = ? ORDER BY l.image_id`,
        snapshotId,
        ownerId,
      ) as string[];
    });
  }

  async permissions(resourceId: string): Promise<string[]> {
    return this.#db.exclusive(() => {
      return this.#db.column(
        "SELECT grantee AS v FROM permissions WHERE resource_id = ? ORDER BY grantee",
        resourceId,
      ) as string[];
    });
  }

  async resourcesSharedWith(grantees: string[]): Promise<Set<string>> {
    return this.#db.exclusive(() => {
      const q = this.#db.q("SELECT resource_id AS v FROM permissions WHERE grantee = ?");
      const out = new Set<string>();
      for (const g of grantees) for (const r of q.all(g) as Row[]) out.add(String(r.v));
      return out;
    });
  }

  async changePermissions(resourceId: string, add: string[], remove: string[]): Promise<void> {
    return this.#db.exclusive(() => {
      const ins = this.#db.q("INSERT OR IGNORE INTO permissions (resource_id, grantee) VALUES (?, ?)");
      const del = this.#db.q("DELETE FROM permissions WHERE resource_id = ? AND grantee = ?");
      this.#db.transaction(() => {
        for (const g of add) ins.run(resourceId, g);
        for (const g of remove) del.run(resourceId, g);
      });
    });
  }

  async resetPermissions(resourceId: string): Promise<void> {
    return this.#db.exclusive(() => {
      this.#db.q("DELETE FROM permissions WHERE resource_id = ?").run(resourceId);
    });
  }

  async tags(resourceId: string): Promise<Tag[]> {
    return this.#db.exclusive(() => {
      return (
        this.#db.q("SELECT key, value FROM tags WHERE resource_id = ? ORDER BY key").all(resourceId) as Row[]
      ).map((r) => ({ key: String(r.key), value: String(r.value) }));
    });
  }

  async tagsOf(resourceIds: string[]): Promise<Map<string, Tag[]>> {
    return this.#db.exclusive(() => {
      const out = new Map<string, Tag[]>();
      // One query per 500 ids (SQLite's parameter limit is far above; statements stay cached).
      for (let k = 0; k < resourceIds.length; k += 500) {
        const ids = resourceIds.slice(k, k + 500);
        const rows = this.#db
          .q(
            `SELECT resource_id, key, value FROM tags WHERE resource_id IN (${ids.map(() => "?").join(",")}) ORDER BY key`,
          )
          .all(...ids) as Row[];
        for (const r of rows) {
          const id = String(r.resource_id);
          const list = out.get(id) ?? [];
          if (list.length === 0) out.set(id, list);
          list.push({ key: String(r.key), value: String(r.value) });
        }
      }
      return out;
    });
  }

  async setTags(resourceIds: string[], tags: Tag[]): Promise<void> {
    return this.#db.exclusive(() => {
      const up = this.#db.q(
        "INSERT INTO tags (resource_id, key, value) VALUES (?, ?, ?) ON CONFLICT (resource_id, key) DO UPDATE SET value = excluded.value",
      );
      this.#db.transaction(() => {
        for (const id of resourceIds) for (const t of tags) up.run(id, t.key, t.value);
      });
    });
  }

  async deleteTags(resourceIds: string[], tags: { key: string; value?: string }[]): Promise<void> {
    return this.#db.exclusive(() => {
      const any = this.#db.q("DELETE FROM tags WHERE resource_id = ? AND key = ?");
      const exact = this.#db.q("DELETE FROM tags WHERE resource_id = ? AND key = ? AND value = ?");
      const all = this.#db.q("DELETE FROM tags WHERE resource_id = ?");
      this.#db.transaction(() => {
        for (const id of resourceIds) {
          if (tags.length === 0) all.run(id);
          for (const t of tags) t.value === undefined ? any.run(id, t.key) : exact.run(id, t.key, t.value);
        }
      });
    });
  }

  async allTags(): Promise<{ resourceId: string; key: string; value: string }[]> {
    return this.#db.exclusive(() => {
      return (
        this.#db.q("SELECT resource_id, key, value FROM tags ORDER BY resource_id, key").all() as Row[]
      ).map((r) => ({
        resourceId: String(r.resource_id),
        key: String(r.key),
        value: String(r.value),
      }));
    });
  }

  async clientToken(ownerId: string, token: string) {
    return this.#db.exclusive(() => {
      const r = this.#db
        .q("SELECT * FROM client_tokens WHERE owner_id = ? AND token = ?")
        .get(ownerId, token) as Row | undefined;
      return (
        r && {
          action: String(r.action),
          requestHash: String(r.request_hash),
          resourceId: String(r.resource_id),
        }
      );
    });
  }

  async saveClientToken(
    ownerId: string,
    token: string,
    action: string,
    requestHash: string,
    resourceId: string,
  ) {
    return this.#db.exclusive(() => {
      this.#db
        .q(
          "INSERT INTO client_tokens (owner_id, token, action, request_hash, resource_id) VALUES (?, ?, ?, ?, ?)",
        )
        .run(ownerId, token, action, requestHash, resourceId);
    });
  }
}

// The columns SQL filters on are real columns; the rest of the description is one JSON document.
function attributes(image: ImageRecord): string {
  const { id: _id, ownerId: _o, name: _n, state: _s, creationDate: _c, ...rest } = image;
  return JSON.stringify(rest);
}

function toImage(r: Row): ImageRecord {
  return {
    id: String(r.id),
    ownerId: String(r.owner_id),
    name: String(r.name),
    state: r.state as ImageRecord["state"],
    creationDate: String(r.creation_date),
    ...JSON.parse(String(r.attributes)),
  };
}
