import { StrataError } from "../../../errors.ts";
import type { Tag } from "../catalog-store.ts";
import type {
  InstanceRecord,
  InstanceStore,
  KeyPairRecord,
  VolumeAttachmentRecord,
} from "../instance-store.ts";
import type { Row, SqliteDatabase } from "./sqlite-database.ts";

export class SqliteInstanceStore implements InstanceStore {
  readonly #db: SqliteDatabase;

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  async insertInstances(
    instances: InstanceRecord[],
    attachments: VolumeAttachmentRecord[],
    tags: Tag[] = [],
  ): Promise<void> {
    return this.#db.exclusive(() => {
      this.#db.transaction(() => {
        this.#db.insertTags(
          instances.map((i) => i.id),
          tags,
        );
        const ins = this.#db.q(
          "INSERT INTO instances (id, owner_id, state, launched_at, attributes) VALUES (?, ?, ?, ?, ?)",
        );
        for (const i of instances) ins.run(i.id, i.ownerId, i.state, i.launchedAt, JSON.stringify(i));
        for (const a of attachments) this.#attach(a);
      });
    });
  }

  async getInstance(id: string): Promise<InstanceRecord | undefined> {
    return this.#db.exclusive(() => {
      const row = this.#db.q("SELECT attributes FROM instances WHERE id = ?").get(id) as Row | undefined;
      return row && (JSON.parse(String(row.attributes)) as InstanceRecord);
    });
  }

  async getInstances(ids: string[]): Promise<InstanceRecord[]> {
    return this.#db.exclusive(() =>
      this.#db
        .column(
          "SELECT attributes AS v FROM instances WHERE id IN (SELECT value FROM json_each(?))",
          JSON.stringify(ids),
        )
        .map((v) => JSON.parse(String(v)) as InstanceRecord),
    );
  }

  async listInstances(): Promise<InstanceRecord[]> {
    return this.#db.exclusive(() => {
      return this.#db
        .column("SELECT attributes AS v FROM instances ORDER BY id")
        .map((v) => JSON.parse(String(v)) as InstanceRecord);
    });
  }

  async updateInstance(i: InstanceRecord, expect?: { state: string; host: string | null }): Promise<boolean> {
    return this.#db.exclusive(() => {
      const set = "UPDATE instances SET state = ?, attributes = ? WHERE id = ?";
      const r = expect
        ? this.#db
            .q(`${set} AND state = ? AND coalesce(json_extract(attributes, '$.host'), '') = ?`)
            .run(i.state, JSON.stringify(i), i.id, expect.state, expect.host ?? "")
        : this.#db.q(set).run(i.state, JSON.stringify(i), i.id);
      return Number(r.changes) > 0;
    });
  }

  async attachVolume(a: VolumeAttachmentRecord): Promise<void> {
    return this.#db.exclusive(() => {
      this.#db.transaction(() => this.#attach(a));
    });
  }

  #attach(a: VolumeAttachmentRecord): void {
    const v = this.#db.q("SELECT state, attached_instance FROM volumes WHERE id = ?").get(a.volumeId) as
      | Row
      | undefined;
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
    this.#db
      .q(
        `UPDATE volumes SET state = 'in-use', attached_instance = ?, attached_device = ?, attached_at = ?,
         delete_on_termination = ? WHERE id = ?`,
      )
      .run(a.instanceId, a.device, a.attachedAt, a.deleteOnTermination ? 1 : 0, a.volumeId);
  }

  async detachVolume(volumeId: string): Promise<void> {
    return this.#db.exclusive(() => {
      this.#db
        .q(
          `UPDATE volumes SET state = 'available', attached_instance = NULL, attached_device = NULL,
           attached_at = NULL, delete_on_termination = 0 WHERE id = ? AND state = 'in-use'`,
        )
        .run(volumeId);
    });
  }

  async attachments(instanceId: string): Promise<VolumeAttachmentRecord[]> {
    return this.#db.exclusive(() => {
      return (
        this.#db
          .q("SELECT * FROM volumes WHERE attached_instance = ? ORDER BY attached_device")
          .all(instanceId) as Row[]
      ).map(toAttachment);
    });
  }

  async allAttachments(): Promise<VolumeAttachmentRecord[]> {
    return this.#db.exclusive(() => {
      return (this.#db.q("SELECT * FROM volumes WHERE attached_instance IS NOT NULL").all() as Row[]).map(
        toAttachment,
      );
    });
  }

  async setDeleteOnTermination(volumeId: string, value: boolean): Promise<void> {
    return this.#db.exclusive(() => {
      this.#db.q("UPDATE volumes SET delete_on_termination = ? WHERE id = ?").run(value ? 1 : 0, volumeId);
    });
  }

  async insertKeyPair(k: KeyPairRecord, tags: Tag[] = []): Promise<void> {
    return this.#db.exclusive(() => {
      this.#db.transaction(() => {
        this.#db.insertTags([k.id], tags);
        if (this.#db.q("SELECT 1 FROM key_pairs WHERE owner_id = ? AND name = ?").get(k.ownerId, k.name)) {
          throw new StrataError("InvalidKeyPair.Duplicate", `The keypair already exists`);
        }
        this.#db
          .q(
            `INSERT INTO key_pairs (id, owner_id, name, key_type, fingerprint, public_key, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(k.id, k.ownerId, k.name, k.keyType, k.fingerprint, k.publicKey, k.createdAt);
      });
    });
  }

  async keyPairs(ownerId: string): Promise<KeyPairRecord[]> {
    return this.#db.exclusive(() => {
      return (
        this.#db.q("SELECT * FROM key_pairs WHERE owner_id = ? ORDER BY name").all(ownerId) as Row[]
      ).map((r) => ({
        id: String(r.id),
        ownerId: String(r.owner_id),
        name: String(r.name),
        keyType: r.key_type as KeyPairRecord["keyType"],
        fingerprint: String(r.fingerprint),
        publicKey: String(r.public_key),
        createdAt: String(r.created_at),
      }));
    });
  }

  async deleteKeyPair(id: string): Promise<void> {
    return this.#db.exclusive(() => {
      this.#db.transaction(() => {
        this.#db.q("DELETE FROM key_pairs WHERE id = ?").run(id);
        this.#db.q("DELETE FROM tags WHERE resource_id = ?").run(id);
      });
    });
  }
}

function toAttachment(r: Row): VolumeAttachmentRecord {
  return {
    volumeId: String(r.id),
    instanceId: String(r.attached_instance),
    device: String(r.attached_device),
    attachedAt: String(r.attached_at),
    deleteOnTermination: Number(r.delete_on_termination) === 1,
  };
}
