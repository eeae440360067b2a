// The SSH wire encoding (RFC 4251 §5) that public-key blobs, openssh-key-v1 and PPK files are made of.
import type { KeyObject } from "node:crypto";

export function sshUint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

/** `string`: a uint32 length, then the bytes. */
export function sshString(value: Buffer | string): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  return Buffer.concat([sshUint32(bytes.length), bytes]);
}

/** `mpint` of a non-negative integer given as unsigned big-endian bytes: minimal, two's complement. */
export function sshMpint(unsignedBigEndian: Buffer): Buffer {
  let start = 0;
  while (start < unsignedBigEndian.length && unsignedBigEndian[start] === 0) start++;
  const digits = unsignedBigEndian.subarray(start);
  const body = digits.length > 0 && digits[0] & 0x80 ? Buffer.concat([Buffer.of(0), digits]) : digits;
  return sshString(body);
}

export class SshWireError extends Error {
  override name = "SshWireError";
}

/** Reads the wire encoding; every read past the end throws SshWireError. */
export class SshReader {
  readonly #buf: Buffer;
  #pos = 0;

  constructor(buf: Buffer) {
    this.#buf = buf;
  }

  get done(): boolean {
    return this.#pos === this.#buf.length;
  }

  uint32(): number {
    if (this.#pos + 4 > this.#buf.length) throw new SshWireError("truncated uint32");
    const value = this.#buf.readUInt32BE(this.#pos);
    this.#pos += 4;
    return value;
  }

  string(): Buffer {
    const length = this.uint32();
    if (length > this.#buf.length - this.#pos) throw new SshWireError("truncated string");
    const value = this.#buf.subarray(this.#pos, this.#pos + length);
    this.#pos += length;
    return value;
  }

  /** A non-negative mpint, returned as unsigned big-endian bytes without leading zeros. */
  mpint(): Buffer {
    const raw = this.string();
    if (raw.length > 0 && raw[0] & 0x80) throw new SshWireError("negative mpint");
    let start = 0;
    while (start < raw.length && raw[start] === 0) start++;
    return raw.subarray(start);
  }
}

/** Base64 with line breaks every `width` characters (PEM-style armour bodies). */
export function wrapBase64(data: Buffer, width: number): string[] {
  const text = data.toString("base64");
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += width) lines.push(text.slice(i, i + width));
  return lines;
}

/** Unsigned big-endian bytes of a JWK base64url member. */
export function jwkBytes(value: string | undefined): Buffer {
  if (value === undefined) throw new TypeError("JWK member missing");
  return Buffer.from(value, "base64url");
}

/** The SSH public-key blob (RFC 4253 §6.6, RFC 8709 §4) of an RSA or Ed25519 key. */
export function sshPublicKeyBlob(key: KeyObject): Buffer {
  const jwk = key.export({ format: "jwk" });
  if (key.asymmetricKeyType === "rsa") {
    return Buffer.concat([sshString("ssh-rsa"), sshMpint(jwkBytes(jwk.e)), sshMpint(jwkBytes(jwk.n))]);
  }
  if (key.asymmetricKeyType === "ed25519") {
    return Buffer.concat([sshString("ssh-ed25519"), sshString(jwkBytes(jwk.x))]);
  }
  throw new TypeError(`no SSH encoding for ${key.asymmetricKeyType} keys here`);
}
