import type pg from "pg";
import { StrataError } from "../../../errors.ts";
import type { Tag } from "../catalog-store.ts";
import type {
  InstanceRecord,
  InstanceStore,
  KeyPairRecord,
  VolumeAttachmentRecord,
} from "../instance-store.ts";
import type { PgDatabase, PgRow } from "./pg-database.ts";

export class PgInstanceStore implements InstanceStore {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async insertInstances(
    instances: InstanceRecord[],
    attachments: VolumeAttachmentRecord[],
    tags: Tag[] = [],
  ): Promise<void> {
    await this.#db.tx(async (c) => {
      await this.#db.insertTags(
        c,
        instances.map((i) => i.id),
        tags,
      );
      for (const i of instances) {
        await c.query(
          "INSERT INTO instances (id, owner_id, state, launched_at, attributes) VALUES ($1, $2, $3, $4, $5)",
          [i.id, i.ownerId, i.state, i.launchedAt, JSON.stringify(i)],
        );
      }
      for (const a of attachments) await this.#attach(c, a);
    });
  }

  async getInstance(id: string): Promise<InstanceRecord | undefined> {
    const row = await this.#db.one("SELECT attributes FROM instances WHERE id = $1", [id]);
    return row && (row.attributes as InstanceRecord);
  }

  async getInstances(ids: string[]): Promise<InstanceRecord[]> {
    return (await this.#db.column("SELECT attributes AS v FROM instances WHERE id = ANY($1::text[])", [
      ids,
    ])) as InstanceRecord[];
  }

  async listInstances(): Promise<InstanceRecord[]> {
    return (await this.#db.column("SELECT attributes AS v FROM instances ORDER BY id")) as InstanceRecord[];
  }

  async updateInstance(i: InstanceRecord, expect?: { state: string; host: string | null }): Promise<boolean> {
    const set = "UPDATE instances SET state = $1, attributes = $2 WHERE id = $3";
    const changed = expect
      ? await this.#db.run(`${set} AND state = $4 AND coalesce(attributes->>'host', '') = $5`, [
          i.state,
          JSON.stringify(i),
          i.id,
          expect.state,
          expect.host ?? "",
        ])
      : await this.#db.run(set, [i.state, JSON.stringify(i), i.id]);
    return changed > 0;
  }

  async attachVolume(a: VolumeAttachmentRecord): Promise<void> {
    await this.#db.tx((c) => this.#attach(c, a));
  }

  async #attach(c: pg.PoolClient, a: VolumeAttachmentRecord): Promise<void> {
    const v = await this.#db.one(
      "SELECT state, attached_instance FROM volumes WHERE id = $1",
      [a.volumeId],
      c,
    );
    if (!v) throw new StrataError("InvalidVolume.NotFound", `The volume '${a.volumeId}' does not exist.`);
    if (v.attached_instance) {
      throw new StrataError(
        "VolumeInUse",
        `vol ${a.volumeId} is already attached to an instance (${String(v.attached_instance)})`,
      );
    }
    if (v.state !== "available") {
      throw new StrataError("IncorrectState", `Volume '${a.volumeId}' is ${String(v.state)}, not available.`);
    }
    await c.query(
      `UPDATE volumes SET state = 'in-use', attached_instance = $1, attached_device = $2, attached_at = $3,
       delete_on_termination = $4 WHERE id = $5`,
      [a.instanceId, a.device, a.attachedAt, a.deleteOnTermination, a.volumeId],
    );
  }

  async detachVolume(volumeId: string): Promise<void> {
    await this.#db.run(
      `UPDATE volumes SET state = 'available', attached_instance = NULL, attached_device = NULL,
       attached_at = NULL, delete_on_termination = false WHERE id = $1 AND state = 'in-use'`,
      [volumeId],
    );
  }

  async attachments(instanceId: string): Promise<VolumeAttachmentRecord[]> {
    const rows = await this.#db.query(
      "SELECT * FROM volumes WHERE attached_instance = $1 ORDER BY attached_device",
      [instanceId],
    );
    return rows.map(toAttachment);
  }

  async allAttachments(): Promise<VolumeAttachmentRecord[]> {
    // SQLite answers in its table's order (the volumes' ids); made explicit here.
    return (
      await this.#db.query("SELECT * FROM volumes WHERE attached_instance IS NOT NULL ORDER BY id")
    ).map(toAttachment);
  }

  async setDeleteOnTermination(volumeId: string, value: boolean): Promise<void> {
    await this.#db.run("UPDATE volumes SET delete_on_termination = $1 WHERE id = $2", [value, volumeId]);
  }

  async insertKeyPair(k: KeyPairRecord, tags: Tag[] = []): Promise<void> {
    await this.#db.tx(async (c) => {
      if (
        await this.#db.one(
          "SELECT 1 FROM key_pairs WHERE owner_id = $1 AND name = $2",
          [k.ownerId, k.name],
          c,
        )
      ) {
        throw new StrataError("InvalidKeyPair.Duplicate", `The keypair already exists`);
      }
      await this.#db.insertTags(c, [k.id], tags);
      await c.query(
        `INSERT INTO key_pairs (id, owner_id, name, key_type, fingerprint, public_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [k.id, k.ownerId, k.name, k.keyType, k.fingerprint, k.publicKey, k.createdAt],
      );
    });
  }

  async keyPairs(ownerId: string): Promise<KeyPairRecord[]> {
    const rows = await this.#db.query("SELECT * FROM key_pairs WHERE owner_id = $1 ORDER BY name", [ownerId]);
    return rows.map((r) => ({
      id: String(r.id),
      ownerId: String(r.owner_id),
      name: String(r.name),
      keyType: r.key_type as KeyPairRecord["keyType"],
      fingerprint: String(r.fingerprint),
      publicKey: String(r.public_key),
      createdAt: String(r.created_at),
    }));
  }

  async deleteKeyPair(id: string): Promise<void> {
    await this.#db.tx(async (c) => {
      await c.query("DELETE FROM key_pairs WHERE id = $1", [id]);
      await c.query("DELETE FROM tags WHERE resource_id = $1", [id]);
    });
  }
}

function toAttachment(r: PgRow): VolumeAttachmentRecord {
  return {
    volumeId: String(r.id),
    instanceId: String(r.attached_instance),
    device: String(r.attached_device),
    attachedAt: String(r.attached_at),
    deleteOnTermination: r.delete_on_termination === true,
  };
}
