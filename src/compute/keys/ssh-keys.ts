// Key material for EC2 key pairs: what CreateKeyPair generates and what ImportKeyPair accepts, with the
// fingerprints EC2 reports for each (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/verify-keys.html):
//   created RSA     SHA-1 of the private key as DER PKCS#8, colon hex  (openssl pkcs8 -topk8 … | openssl sha1 -c)
//   imported RSA    MD5 of the public key as DER SubjectPublicKeyInfo, colon hex (openssl rsa -pubout … | md5 -c)
//   any ED25519     SHA-256 of the SSH public-key blob, base64 with its "=" padding (ssh-keygen -l drops it)
import {
  createHash,
  generateKeyPair as generateKeyPairCallback,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { encodeOpenSshEd25519PrivateKey } from "./openssh-format.ts";
import { encodePpk } from "./ppk-format.ts";
import { parsePublicKeyMaterial } from "./public-key-formats.ts";
import { jwkBytes, sshPublicKeyBlob } from "./ssh-wire.ts";

export { InvalidKeyMaterial } from "./public-key-formats.ts";

export type KeyType = "rsa" | "ed25519";
/** EC2's KeyFormat: "pem" is PKCS#1 for RSA and openssh-key-v1 for ED25519; "ppk" is PuTTY's PPK v3. */
export type KeyFormat = "pem" | "ppk";

export interface GeneratedKeyPair {
  /** The private key text returned to the user (CreateKeyPair KeyMaterial); never stored. */
  keyMaterial: string;
  /** "ssh-ed25519 AAAA…" / "ssh-rsa AAAA…", without a comment. */
  publicKeyOpenSsh: string;
  fingerprint: string;
  keyType: KeyType;
}

export interface ImportedPublicKey {
  publicKeyOpenSsh: string;
  fingerprint: string;
  keyType: KeyType;
}

/** CreateKeyPair makes "2048-bit RSA" key pairs (EC2 API reference). */
const CREATED_RSA_BITS = 2048;

export function generateKeyPair(
  keyType: KeyType,
  keyName: string,
  keyFormat: KeyFormat = "pem",
): GeneratedKeyPair {
  const { privateKey } =
    keyType === "rsa"
      ? generateKeyPairSync("rsa", { modulusLength: CREATED_RSA_BITS, publicExponent: 0x10001 })
      : generateKeyPairSync("ed25519");
  return describeGenerated(privateKey, keyName, keyFormat);
}

/** generateKeyPair off the event loop (RSA generation takes tens to hundreds of milliseconds). */
export async function generateKeyPairAsync(
  keyType: KeyType,
  keyName: string,
  keyFormat: KeyFormat = "pem",
): Promise<GeneratedKeyPair> {
  const privateKey = await new Promise<KeyObject>((resolve, reject) => {
    const done = (error: Error | null, _publicKey: KeyObject, key: KeyObject) =>
      error ? reject(error) : resolve(key);
    if (keyType === "rsa") {
      generateKeyPairCallback("rsa", { modulusLength: CREATED_RSA_BITS, publicExponent: 0x10001 }, done);
    } else {
      generateKeyPairCallback("ed25519", {}, done);
    }
  });
  return describeGenerated(privateKey, keyName, keyFormat);
}

function describeGenerated(privateKey: KeyObject, keyName: string, keyFormat: KeyFormat): GeneratedKeyPair {
  const blob = sshPublicKeyBlob(privateKey);
  const publicKeyOpenSsh = openSshPublicKey(blob);
  if (privateKey.asymmetricKeyType === "rsa") {
    const pkcs8 = privateKey.export({ type: "pkcs8", format: "der" });
    return {
      keyMaterial:
        keyFormat === "ppk"
          ? encodePpk(privateKey, keyName)
          : (privateKey.export({ type: "pkcs1", format: "pem" }) as string),
      publicKeyOpenSsh,
      fingerprint: colonHex(createHash("sha1").update(pkcs8).digest()),
      keyType: "rsa",
    };
  }
  const jwk = privateKey.export({ format: "jwk" });
  return {
    keyMaterial:
      keyFormat === "ppk"
        ? encodePpk(privateKey, keyName)
        : encodeOpenSshEd25519PrivateKey(jwkBytes(jwk.d), jwkBytes(jwk.x), keyName),
    publicKeyOpenSsh,
    fingerprint: ed25519Fingerprint(blob),
    keyType: "ed25519",
  };
}

/**
 * ImportKeyPair's PublicKeyMaterial (already base64-decoded by the protocol layer): an OpenSSH public key
 * line ("ssh-rsa AAAA… comment"), or, for RSA only as EC2 documents, an RFC 4716 "---- BEGIN SSH2 PUBLIC
 * KEY ----" block, a PEM or base64 DER SubjectPublicKeyInfo / PKCS#1 RSAPublicKey, or that DER itself.
 * RSA keys of 1024 to 16384 bits and Ed25519 keys are accepted; anything else throws InvalidKeyMaterial.
 */
export function importPublicKey(material: Buffer): ImportedPublicKey {
  const parsed = parsePublicKeyMaterial(material);
  const blob = sshPublicKeyBlob(parsed);
  if (parsed.asymmetricKeyType === "rsa") {
    const spki = parsed.export({ type: "spki", format: "der" });
    return {
      publicKeyOpenSsh: openSshPublicKey(blob),
      fingerprint: colonHex(createHash("md5").update(spki).digest()),
      keyType: "rsa",
    };
  }
  return {
    publicKeyOpenSsh: openSshPublicKey(blob),
    fingerprint: ed25519Fingerprint(blob),
    keyType: "ed25519",
  };
}

/** The authorized_keys line an instance gets (public-keys/0/openssh-key): EC2 appends the key name. */
export function openSshLine(publicKeyOpenSsh: string, keyName: string): string {
  return `${publicKeyOpenSsh} ${keyName}`;
}

function openSshPublicKey(blob: Buffer): string {
  const type = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString("latin1");
  return `${type} ${blob.toString("base64")}`;
}

function ed25519Fingerprint(blob: Buffer): string {
  return createHash("sha256").update(blob).digest("base64");
}

function colonHex(digest: Buffer): string {
  return digest.toString("hex").replace(/(..)(?!$)/g, "$1:");
}
