import type * as EC2 from "@aws-sdk/client-ec2";
import {
  generateKeyPairAsync,
  InvalidKeyMaterial,
  importPublicKey,
  openSshLine,
} from "../../../compute/keys/ssh-keys.ts";
import { StrataError } from "../../../errors.ts";
import { newId } from "../../../ids.ts";
import type { KeyPairRecord } from "../../../storage/metadata/instance-store.ts";
import { dryRunCheck, type Out, type RequestContext, required } from "../context.ts";
import { applyFilters } from "../filters.ts";
import { fromSdkTags, toSdkTags, validateTags } from "../tagging.ts";

// EC2: key names are up to 255 ASCII characters.
function checkKeyName(name: string): void {
  if (name.length > 255 || !/^[\x20-\x7e]+$/.test(name) || name.trim() !== name) {
    throw new StrataError("InvalidParameterValue", `Invalid key name '${name}': up to 255 ASCII characters`);
  }
}

function keyTags(specs: EC2.TagSpecification[] | undefined) {
  for (const s of specs ?? []) {
    if (s.ResourceType !== "key-pair") {
      throw new StrataError(
        "InvalidParameterValue",
        `'${s.ResourceType ?? ""}' is not a valid taggable resource type for this operation.`,
      );
    }
  }
  // EC2's tag rules hold here as on every create call (keys 1-128, not aws:, at most 50).
  return validateTags((specs ?? []).flatMap((s) => fromSdkTags(s.Tags)));
}

async function insert(ctx: RequestContext, record: KeyPairRecord, tags: { key: string; value: string }[]) {
  await ctx.region.instances.store.insertKeyPair(record);
  if (tags.length) await ctx.region.catalog.setTags([record.id], tags);
}

export async function CreateKeyPair(
  ctx: RequestContext,
  input: EC2.CreateKeyPairCommandInput,
): Promise<Out<EC2.CreateKeyPairCommandOutput>> {
  const name = required(input.KeyName, "KeyName");
  checkKeyName(name);
  const keyType = input.KeyType ?? "rsa";
  if (keyType !== "rsa" && keyType !== "ed25519") {
    throw new StrataError("InvalidParameterValue", `Invalid value '${keyType}' for KeyType`);
  }
  const keyFormat = input.KeyFormat ?? "pem";
  if (keyFormat !== "pem" && keyFormat !== "ppk") {
    throw new StrataError("InvalidParameterValue", `Invalid value '${keyFormat}' for KeyFormat`);
  }
  const tags = keyTags(input.TagSpecifications);
  dryRunCheck(input);
  const generated = await generateKeyPairAsync(keyType, name, keyFormat);
  const record: KeyPairRecord = {
    id: newId("key"),
    ownerId: ctx.accountId,
    name,
    keyType,
    fingerprint: generated.fingerprint,
    publicKey: generated.publicKeyOpenSsh,
    createdAt: new Date().toISOString(),
  };
  await insert(ctx, record, tags);
  return {
    KeyName: name,
    KeyFingerprint: record.fingerprint,
    KeyMaterial: generated.keyMaterial,
    KeyPairId: record.id,
    Tags: toSdkTags(tags),
  };
}

export async function ImportKeyPair(
  ctx: RequestContext,
  input: EC2.ImportKeyPairCommandInput,
): Promise<Out<EC2.ImportKeyPairCommandOutput>> {
  const name = required(input.KeyName, "KeyName");
  checkKeyName(name);
  const material = required(input.PublicKeyMaterial, "PublicKeyMaterial");
  let key: ReturnType<typeof importPublicKey>;
  try {
    key = importPublicKey(Buffer.from(material));
  } catch (e) {
    if (e instanceof InvalidKeyMaterial) throw new StrataError("InvalidKey.Format", e.message, e.reason);
    throw e;
  }
  const tags = keyTags(input.TagSpecifications);
  dryRunCheck(input);
  const record: KeyPairRecord = {
    id: newId("key"),
    ownerId: ctx.accountId,
    name,
    keyType: key.keyType,
    fingerprint: key.fingerprint,
    publicKey: key.publicKeyOpenSsh,
    createdAt: new Date().toISOString(),
  };
  await insert(ctx, record, tags);
  return { KeyName: name, KeyFingerprint: record.fingerprint, KeyPairId: record.id, Tags: toSdkTags(tags) };
}

export async function DescribeKeyPairs(
  ctx: RequestContext,
  input: EC2.DescribeKeyPairsCommandInput,
): Promise<Out<EC2.DescribeKeyPairsCommandOutput>> {
  let keys = await ctx.region.instances.store.keyPairs(ctx.accountId);
  for (const name of input.KeyNames ?? []) {
    if (!keys.some((k) => k.name === name)) {
      throw new StrataError("InvalidKeyPair.NotFound", `The key pair '${name}' does not exist`);
    }
  }
  for (const id of input.KeyPairIds ?? []) {
    if (!keys.some((k) => k.id === id)) {
      throw new StrataError("InvalidKeyPair.NotFound", `The key pair ID '${id}' does not exist`);
    }
  }
  if (input.KeyNames?.length) keys = keys.filter((k) => input.KeyNames!.includes(k.name));
  if (input.KeyPairIds?.length) keys = keys.filter((k) => input.KeyPairIds!.includes(k.id));
  const tags = await ctx.region.catalog.tagsOf(keys.map((k) => k.id));
  const matched = applyFilters(
    keys,
    input.Filters,
    {
      "key-name": (k) => k.name,
      "key-pair-id": (k) => k.id,
      fingerprint: (k) => k.fingerprint,
      "key-type": (k) => k.keyType,
    },
    (k) => tags.get(k.id) ?? [],
  );
  dryRunCheck(input);
  return {
    KeyPairs: matched.map((k) => ({
      KeyPairId: k.id,
      KeyName: k.name,
      KeyFingerprint: k.fingerprint,
      KeyType: k.keyType,
      CreateTime: new Date(k.createdAt),
      PublicKey: input.IncludePublicKey ? openSshLine(k.publicKey, k.name) : undefined,
      Tags: toSdkTags(tags.get(k.id)),
    })),
  };
}

export async function DeleteKeyPair(
  ctx: RequestContext,
  input: EC2.DeleteKeyPairCommandInput,
): Promise<Out<EC2.DeleteKeyPairCommandOutput>> {
  if (input.KeyName === undefined && input.KeyPairId === undefined) required(undefined, "KeyName");
  const keys = await ctx.region.instances.store.keyPairs(ctx.accountId);
  const key = keys.find((k) => k.name === input.KeyName || k.id === input.KeyPairId);
  dryRunCheck(input);
  // EC2 answers success for a name that does not exist (the call is idempotent).
  if (key) {
    await ctx.region.instances.store.deleteKeyPair(key.id);
    await ctx.region.catalog.deleteTags([key.id], []);
  }
  return { Return: true, KeyPairId: key?.id };
}
