import type * as EC2 from "@aws-sdk/client-ec2";
import { openSshLine } from "../../../services/key-pairs/key-pair-service.ts";
import { dryRunCheck, type Out, type RequestContext, required } from "../context.ts";
import { applyFilters } from "../filters.ts";
import { tagsFromSpecifications, toSdkTags } from "../tagging.ts";

export async function CreateKeyPair(
  ctx: RequestContext,
  input: EC2.CreateKeyPairCommandInput,
): Promise<Out<EC2.CreateKeyPairCommandOutput>> {
  const name = required(input.KeyName, "KeyName");
  const tags = tagsFromSpecifications(input.TagSpecifications, "key-pair");
  const keyType = input.KeyType ?? "rsa";
  const keyFormat = input.KeyFormat ?? "pem";
  ctx.region.keyPairs.checkCreate(name, keyType, keyFormat, tags);
  dryRunCheck(input);
  const { record, keyMaterial } = await ctx.region.keyPairs.create(ctx.accountId, {
    name,
    keyType,
    keyFormat,
    tags,
  });
  return {
    KeyName: name,
    KeyFingerprint: record.fingerprint,
    KeyMaterial: keyMaterial,
    KeyPairId: record.id,
    Tags: toSdkTags(tags),
  };
}

export async function ImportKeyPair(
  ctx: RequestContext,
  input: EC2.ImportKeyPairCommandInput,
): Promise<Out<EC2.ImportKeyPairCommandOutput>> {
  const name = required(input.KeyName, "KeyName");
  const material = required(input.PublicKeyMaterial, "PublicKeyMaterial");
  const tags = tagsFromSpecifications(input.TagSpecifications, "key-pair");
  ctx.region.keyPairs.parse(name, material, tags);
  dryRunCheck(input);
  const record = await ctx.region.keyPairs.import(ctx.accountId, { name, publicKeyMaterial: material, tags });
  return { KeyName: name, KeyFingerprint: record.fingerprint, KeyPairId: record.id, Tags: toSdkTags(tags) };
}

export async function DescribeKeyPairs(
  ctx: RequestContext,
  input: EC2.DescribeKeyPairsCommandInput,
): Promise<Out<EC2.DescribeKeyPairsCommandOutput>> {
  const keys = await ctx.region.keyPairs.list(ctx.accountId, input.KeyNames, input.KeyPairIds);
  const tags = await ctx.region.tags.visibleTo(ctx.accountId, keys);
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
  dryRunCheck(input);
  const key = await ctx.region.keyPairs.delete(ctx.accountId, { name: input.KeyName, id: input.KeyPairId });
  return { Return: true, KeyPairId: key?.id };
}
