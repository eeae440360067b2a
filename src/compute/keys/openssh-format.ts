// OpenSSH's own private-key file format, "openssh-key-v1" (PROTOCOL.key in the OpenSSH sources), which
// is what `ssh-keygen` writes and what EC2 returns as the KeyMaterial of an ED25519 key pair. Only the
// unencrypted form is written: cipher "none", kdf "none", one key.
import { randomBytes } from "node:crypto";
import { sshString, sshUint32, wrapBase64 } from "./ssh-wire.ts";

const MAGIC = Buffer.from("openssh-key-v1\0", "latin1");
/** The block size the private section is padded to when the cipher is "none". */
const BLOCK_SIZE = 8;

/**
 * An unencrypted OpenSSH private key file holding one Ed25519 key.
 * @param seed the 32-byte Ed25519 private key (RFC 8032 "secret key")
 * @param publicKey the 32-byte Ed25519 public key
 */
export function encodeOpenSshEd25519PrivateKey(seed: Buffer, publicKey: Buffer, comment: string): string {
  if (seed.length !== 32 || publicKey.length !== 32) throw new RangeError("Ed25519 keys are 32 bytes");
  const publicBlob = Buffer.concat([sshString("ssh-ed25519"), sshString(publicKey)]);
  // Two equal random check integers let a reader tell a wrong passphrase from a corrupt file.
  const checkint = randomBytes(4);
  const section = [
    checkint,
    checkint,
    sshString("ssh-ed25519"),
    sshString(publicKey),
    sshString(Buffer.concat([seed, publicKey])), // OpenSSH stores the 64-byte "seed || public" form
    sshString(comment),
  ];
  let length = section.reduce((sum, part) => sum + part.length, 0);
  const padding: number[] = [];
  while (length % BLOCK_SIZE !== 0) {
    padding.push(padding.length + 1); // 1, 2, 3, ... as PROTOCOL.key requires
    length++;
  }
  const privateSection = Buffer.concat([...section, Buffer.from(padding)]);
  const body = Buffer.concat([
    MAGIC,
    sshString("none"), // cipher
    sshString("none"), // kdf
    sshString(Buffer.alloc(0)), // kdf options
    sshUint32(1), // number of keys
    sshString(publicBlob),
    sshString(privateSection),
  ]);
  return [
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    ...wrapBase64(body, 70), // ssh-keygen's line width
    "-----END OPENSSH PRIVATE KEY-----",
    "",
  ].join("\n");
}
