// PuTTY's private-key file format, PPK version 3 (PuTTY 0.75 and later; PuTTY manual, appendix C),
// which is what CreateKeyPair returns for KeyFormat=ppk. Only the unencrypted form is written:
// "Encryption: none", whose MAC is HMAC-SHA-256 under an empty key.
import { createHmac, type KeyObject } from "node:crypto";
import { jwkBytes, sshMpint, sshPublicKeyBlob, sshString, wrapBase64 } from "./ssh-wire.ts";

/** PuTTY's private blob: RSA's d, p, q, iqmp as mpints; Ed25519's seed. */
function ppkPrivateBlob(privateKey: KeyObject): Buffer {
  const jwk = privateKey.export({ format: "jwk" });
  if (privateKey.asymmetricKeyType === "rsa") {
    // JWK's qi is q⁻¹ mod p, PuTTY's iqmp.
    return Buffer.concat([jwk.d, jwk.p, jwk.q, jwk.qi].map((member) => sshMpint(jwkBytes(member))));
  }
  if (privateKey.asymmetricKeyType === "ed25519") {
    // The 32-byte seed read as a little-endian integer: PuTTY writes all 32 bytes, high zeros included.
    return sshString(jwkBytes(jwk.d));
  }
  throw new TypeError(`no PPK encoding for ${privateKey.asymmetricKeyType} keys here`);
}

export function encodePpk(privateKey: KeyObject, comment: string): string {
  if (/[\r\n]/.test(comment)) throw new RangeError("a PPK comment cannot span lines");
  const publicBlob = sshPublicKeyBlob(privateKey);
  const privateBlob = ppkPrivateBlob(privateKey);
  const algorithm = privateKey.asymmetricKeyType === "rsa" ? "ssh-rsa" : "ssh-ed25519";
  const encryption = "none";
  const macInput = Buffer.concat(
    [algorithm, encryption, comment, publicBlob, privateBlob].map((field) => sshString(field)),
  );
  const mac = createHmac("sha256", Buffer.alloc(0)).update(macInput).digest("hex");
  const publicLines = wrapBase64(publicBlob, 64);
  const privateLines = wrapBase64(privateBlob, 64);
  return [
    `PuTTY-User-Key-File-3: ${algorithm}`,
    `Encryption: ${encryption}`,
    `Comment: ${comment}`,
    `Public-Lines: ${publicLines.length}`,
    ...publicLines,
    `Private-Lines: ${privateLines.length}`,
    ...privateLines,
    `Private-MAC: ${mac}`,
    "",
  ].join("\n");
}
