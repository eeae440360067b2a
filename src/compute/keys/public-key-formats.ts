// The public key formats ImportKeyPair accepts (EC2 User Guide, "Create a key pair using a third-party
// tool and import the public key"): the OpenSSH authorized_keys format for RSA and ED25519, and, for RSA
// only, base64 DER and RFC 4716. RSA keys of 1024 to 16384 bits (EC2 documents 1024, 2048 and 4096; ssh-keygen
// has made 3072-bit keys by default since OpenSSH 8.0). DSA and ECDSA keys are refused, as EC2 refuses them.
import { createPublicKey, type KeyObject } from "node:crypto";
import { jwkBytes, SshReader, SshWireError } from "./ssh-wire.ts";

/** Public key material EC2 would not import; the API layer answers with `code` and `message`. */
export class InvalidKeyMaterial extends Error {
  override name = "InvalidKeyMaterial";
  /** EC2's error code for a bad ImportKeyPair PublicKeyMaterial. */
  readonly code = "InvalidKey.Format";
  /** Why, for logs: EC2's message says no more than that the format is wrong. */
  readonly reason: string;
  constructor(reason: string) {
    super("Key is not in valid OpenSSH public key format");
    this.reason = reason;
  }
}

const MIN_RSA_BITS = 1024;
const MAX_RSA_BITS = 16384;
const RFC4716_BEGIN = "---- BEGIN SSH2 PUBLIC KEY ----";
const RFC4716_END = "---- END SSH2 PUBLIC KEY ----";

/** The RSA or Ed25519 public key in `material`; throws InvalidKeyMaterial for anything else. */
export function parsePublicKeyMaterial(material: Buffer): KeyObject {
  if (material.length > 0 && material[0] === 0x30) return checkKey(fromDer(material), true);
  const text = material.toString("latin1").trim();
  if (text.startsWith(RFC4716_BEGIN)) return checkKey(fromSshBlob(rfc4716Blob(text)), true);
  if (/^-----BEGIN (RSA )?PUBLIC KEY-----/.test(text)) return checkKey(fromPem(text), true);
  const fields = text.split(/\s+/);
  if (fields.length >= 2 && /^[a-z0-9@.-]+$/.test(fields[0]) && isBase64(fields[1])) {
    const key = fromSshBlob(Buffer.from(fields[1], "base64"), fields[0]);
    return checkKey(key, false);
  }
  if (isBase64(text.replace(/\s+/g, ""))) {
    return checkKey(fromDer(Buffer.from(text.replace(/\s+/g, ""), "base64")), true);
  }
  throw new InvalidKeyMaterial("not an OpenSSH, RFC 4716, PEM or DER public key");
}

function checkKey(key: KeyObject, rsaOnly: boolean): KeyObject {
  const type = key.asymmetricKeyType;
  if (type === "ed25519" && !rsaOnly) return key;
  if (type !== "rsa") throw new InvalidKeyMaterial(`${type} keys are not accepted in this format`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
    throw new InvalidKeyMaterial(`RSA keys must have ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits, not ${bits}`);
  }
  const jwk = key.export({ format: "jwk" });
  const e = key.asymmetricKeyDetails?.publicExponent ?? 0n;
  if (e < 3n || e % 2n === 0n || jwkBytes(jwk.n).at(-1)! % 2 === 0) {
    throw new InvalidKeyMaterial("RSA key with an even modulus or a bad exponent");
  }
  return key;
}

/** An SSH public-key blob; `declaredType` is the type named in front of it on an OpenSSH line. */
function fromSshBlob(blob: Buffer, declaredType?: string): KeyObject {
  try {
    const reader = new SshReader(blob);
    const type = reader.string().toString("latin1");
    if (declaredType !== undefined && declaredType !== type) {
      throw new InvalidKeyMaterial(`the line says ${declaredType} but the key is ${type}`);
    }
    if (type === "ssh-rsa") {
      const e = reader.mpint();
      const n = reader.mpint();
      if (!reader.done) throw new InvalidKeyMaterial("trailing bytes after the RSA key");
      return createPublicKey({
        key: { kty: "RSA", n: n.toString("base64url"), e: e.toString("base64url") },
        format: "jwk",
      });
    }
    if (type === "ssh-ed25519") {
      const x = reader.string();
      if (x.length !== 32 || !reader.done) throw new InvalidKeyMaterial("malformed Ed25519 key");
      return createPublicKey({
        key: { kty: "OKP", crv: "Ed25519", x: x.toString("base64url") },
        format: "jwk",
      });
    }
    throw new InvalidKeyMaterial(`${type} keys are not supported (only ssh-rsa and ssh-ed25519)`);
  } catch (error) {
    if (error instanceof InvalidKeyMaterial) throw error;
    if (error instanceof SshWireError)
      throw new InvalidKeyMaterial(`malformed SSH key blob: ${error.message}`);
    throw new InvalidKeyMaterial(`unusable key: ${(error as Error).message}`);
  }
}

function fromDer(der: Buffer): KeyObject {
  for (const type of ["spki", "pkcs1"] as const) {
    try {
      return createPublicKey({ key: der, format: "der", type });
    } catch {
      // try the next encoding
    }
  }
  throw new InvalidKeyMaterial("not a DER SubjectPublicKeyInfo or RSAPublicKey");
}

function fromPem(pem: string): KeyObject {
  try {
    return createPublicKey({ key: pem, format: "pem" });
  } catch (error) {
    throw new InvalidKeyMaterial(`unreadable PEM public key: ${(error as Error).message}`);
  }
}

/** The key blob of an RFC 4716 block: header lines have a ":", and a trailing "\" continues one. */
function rfc4716Blob(text: string): Buffer {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  if (lines.at(-1) !== RFC4716_END) throw new InvalidKeyMaterial("RFC 4716 block without its END line");
  const body: string[] = [];
  for (let i = 1; i < lines.length - 1; i++) {
    if (lines[i].includes(":")) {
      while (lines[i].endsWith("\\") && i < lines.length - 2) i++;
      continue;
    }
    body.push(lines[i]);
  }
  const base64 = body.join("");
  if (!isBase64(base64)) throw new InvalidKeyMaterial("RFC 4716 block with a malformed body");
  return Buffer.from(base64, "base64");
}

function isBase64(text: string): boolean {
  return text.length > 0 && text.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(text);
}
