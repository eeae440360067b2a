// Key pairs over the SDK: list, create (EC2 returns the private key once), import a public key,
// delete. Query keys: ["key-pairs", region].
import {
  CreateKeyPairCommand,
  DeleteKeyPairCommand,
  DescribeKeyPairsCommand,
  type EC2Client,
  ImportKeyPairCommand,
  type KeyPairInfo,
  type Tag,
} from "@aws-sdk/client-ec2";

export const keyPairKeys = {
  all: (region: string) => ["key-pairs", region] as const,
};

/** DescribeKeyPairs is not paginated on EC2: one call lists them all. */
export async function listKeyPairs(ec2: EC2Client): Promise<KeyPairInfo[]> {
  const out = await ec2.send(new DescribeKeyPairsCommand({}));
  return out.KeyPairs ?? [];
}

export type KeyType = "rsa" | "ed25519";
export type KeyFormat = "pem" | "ppk";

export interface CreatedKeyPair {
  name: string;
  id: string;
  fingerprint: string;
  /** The private key: EC2 hands it out in this answer only and never again. */
  material: string;
}

export async function createKeyPair(
  ec2: EC2Client,
  p: { name: string; type: KeyType; format: KeyFormat; tags?: Tag[] },
): Promise<CreatedKeyPair> {
  const out = await ec2.send(
    new CreateKeyPairCommand({
      KeyName: p.name,
      KeyType: p.type,
      KeyFormat: p.format,
      TagSpecifications: p.tags?.length ? [{ ResourceType: "key-pair", Tags: p.tags }] : undefined,
    }),
  );
  return {
    name: out.KeyName ?? p.name,
    id: out.KeyPairId ?? "",
    fingerprint: out.KeyFingerprint ?? "",
    material: out.KeyMaterial ?? "",
  };
}

/** ImportKeyPair: the SDK takes the public key's bytes and base64-encodes them itself. */
export async function importKeyPair(
  ec2: EC2Client,
  p: { name: string; publicKey: string; tags?: Tag[] },
): Promise<{ name: string; id: string; fingerprint: string }> {
  const out = await ec2.send(
    new ImportKeyPairCommand({
      KeyName: p.name,
      PublicKeyMaterial: new TextEncoder().encode(p.publicKey.trim()),
      TagSpecifications: p.tags?.length ? [{ ResourceType: "key-pair", Tags: p.tags }] : undefined,
    }),
  );
  return { name: out.KeyName ?? p.name, id: out.KeyPairId ?? "", fingerprint: out.KeyFingerprint ?? "" };
}

export async function deleteKeyPair(ec2: EC2Client, keyPairId: string): Promise<void> {
  await ec2.send(new DeleteKeyPairCommand({ KeyPairId: keyPairId }));
}
