// One region's key pairs: EC2 generates them (the private key is returned once and never kept)
// or imports a public key; instances launched with one get its public key in their metadata.
import {
  generateKeyPairAsync,
  InvalidKeyMaterial,
  importPublicKey,
  openSshLine,
} from "../../compute/keys/ssh-keys.ts";
import { StrataError } from "../../errors.ts";
import { newId } from "../../ids.ts";
import type { Tag } from "../../storage/metadata/catalog-store.ts";
import type { InstanceStore, KeyPairRecord } from "../../storage/metadata/instance-store.ts";
import { RegionQuotas } from "../quotas/region-quotas.ts";
import { validateTags } from "../tags/tag-rules.ts";

export { openSshLine };

// EC2: key names are up to 255 ASCII characters.
function checkKeyName(name: string): void {
  if (name.length > 255 || !/^[\x20-\x7e]+$/.test(name) || name.trim() !== name) {
    throw new StrataError("InvalidParameterValue", `Invalid key name '${name}': up to 255 ASCII characters`);
  }
}

function keyNameNotFound(name: string): StrataError {
  return new StrataError("InvalidKeyPair.NotFound", `The key pair '${name}' does not exist`);
}

function keyIdNotFound(id: string): StrataError {
  return new StrataError("InvalidKeyPair.NotFound", `The key pair ID '${id}' does not exist`);
}

export class KeyPairService {
  readonly #store: InstanceStore;
  readonly #quotas: RegionQuotas;

  constructor(store: InstanceStore, quotas = RegionQuotas.none()) {
    this.#store = store;
    this.#quotas = quotas;
  }

  #insert(record: KeyPairRecord, tags: Tag[] | undefined): Promise<void> {
    return this.#quotas.reserve(record.ownerId, { keyPairs: 1 }, () =>
      this.#store.insertKeyPair(record, tags),
    );
  }

  /** Checks a CreateKeyPair request (DryRun stops after this). */
  checkCreate(name: string, keyType: string, keyFormat: string, tags: Tag[]): void {
    checkKeyName(name);
    if (keyType !== "rsa" && keyType !== "ed25519") {
      throw new StrataError("InvalidParameterValue", `Invalid value '${keyType}' for KeyType`);
    }
    if (keyFormat !== "pem" && keyFormat !== "ppk") {
      throw new StrataError("InvalidParameterValue", `Invalid value '${keyFormat}' for KeyFormat`);
    }
    validateTags(tags);
  }

  /** CreateKeyPair: the record (kept) and the private key material (returned once). */
  async create(
    accountId: string,
    input: { name: string; keyType?: string; keyFormat?: string; tags?: Tag[] },
  ): Promise<{ record: KeyPairRecord; keyMaterial: string }> {
    const keyType = input.keyType ?? "rsa";
    const keyFormat = input.keyFormat ?? "pem";
    this.checkCreate(input.name, keyType, keyFormat, input.tags ?? []);
    const generated = await generateKeyPairAsync(
      keyType as "rsa" | "ed25519",
      input.name,
      keyFormat as "pem" | "ppk",
    );
    const record: KeyPairRecord = {
      id: newId("key"),
      ownerId: accountId,
      name: input.name,
      keyType: keyType as "rsa" | "ed25519",
      fingerprint: generated.fingerprint,
      publicKey: generated.publicKeyOpenSsh,
      createdAt: new Date().toISOString(),
    };
    await this.#insert(record, input.tags);
    return { record, keyMaterial: generated.keyMaterial };
  }

  /** Parses an ImportKeyPair request's public key (DryRun stops after this). */
  parse(name: string, material: Uint8Array, tags: Tag[]): ReturnType<typeof importPublicKey> {
    checkKeyName(name);
    validateTags(tags);
    try {
      return importPublicKey(Buffer.from(material));
    } catch (e) {
      if (e instanceof InvalidKeyMaterial) throw new StrataError("InvalidKey.Format", e.message, e.reason);
      throw e;
    }
  }

  async import(
    accountId: string,
    input: { name: string; publicKeyMaterial: Uint8Array; tags?: Tag[] },
  ): Promise<KeyPairRecord> {
    const key = this.parse(input.name, input.publicKeyMaterial, input.tags ?? []);
    const record: KeyPairRecord = {
      id: newId("key"),
      ownerId: accountId,
      name: input.name,
      keyType: key.keyType,
      fingerprint: key.fingerprint,
      publicKey: key.publicKeyOpenSsh,
      createdAt: new Date().toISOString(),
    };
    await this.#insert(record, input.tags);
    return record;
  }

  /** The account's key pairs, narrowed to names and ids (each must exist: NotFound otherwise). */
  async list(accountId: string, names: string[] = [], ids: string[] = []): Promise<KeyPairRecord[]> {
    let keys = await this.#store.keyPairs(accountId);
    for (const name of names) if (!keys.some((k) => k.name === name)) throw keyNameNotFound(name);
    for (const id of ids) if (!keys.some((k) => k.id === id)) throw keyIdNotFound(id);
    if (names.length) keys = keys.filter((k) => names.includes(k.name));
    if (ids.length) keys = keys.filter((k) => ids.includes(k.id));
    return keys;
  }

  /** The account's key pair by name (RunInstances' KeyName). */
  async byName(accountId: string, name: string): Promise<KeyPairRecord> {
    const key = (await this.#store.keyPairs(accountId)).find((k) => k.name === name);
    if (!key) throw keyNameNotFound(name);
    return key;
  }

  /** The account's key pair by id (tagging). */
  async owned(accountId: string, id: string): Promise<KeyPairRecord> {
    const key = (await this.#store.keyPairs(accountId)).find((k) => k.id === id);
    if (!key) throw keyIdNotFound(id);
    return key;
  }

  /** DeleteKeyPair: EC2 answers success for a key that does not exist (the call is idempotent). */
  async delete(accountId: string, by: { name?: string; id?: string }): Promise<KeyPairRecord | undefined> {
    const key = (await this.#store.keyPairs(accountId)).find(
      (k) => (by.name !== undefined && k.name === by.name) || (by.id !== undefined && k.id === by.id),
    );
    if (key) await this.#store.deleteKeyPair(key.id);
    return key;
  }
}
