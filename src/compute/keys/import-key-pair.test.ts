// ImportKeyPair's PublicKeyMaterial: keys made by ssh-keygen, in each format EC2 documents, and the
// fingerprints the documented openssl / ssh-keygen pipelines print for them.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, describe, test } from "node:test";
import { InvalidKeyMaterial, importPublicKey } from "./ssh-keys.ts";
import { sshMpint, sshPublicKeyBlob, sshString } from "./ssh-wire.ts";
import { KeyDir, keyPart, noOpenssl, noSshKeygen, opensslDigest } from "./test-tools.ts";

const dir = new KeyDir();
after(() => dir.remove());

/** ssh-keygen's key pair: the private key's path (PEM for RSA) and the public key line. */
function sshKeygen(
  type: string,
  extra: string[] = [],
  comment = "alice@example.com",
): { key: string; pub: string } {
  const key = dir.file();
  execFileSync("ssh-keygen", ["-q", "-t", type, ...extra, "-N", "", "-C", comment, "-f", key]);
  return { key, pub: readFileSync(`${key}.pub`, "utf8") };
}

function rejects(material: Buffer | string, reason?: RegExp): void {
  assert.throws(
    () => importPublicKey(Buffer.isBuffer(material) ? material : Buffer.from(material)),
    (error: unknown) => {
      assert.ok(error instanceof InvalidKeyMaterial);
      assert.equal(error.code, "InvalidKey.Format");
      assert.equal(error.message, "Key is not in valid OpenSSH public key format");
      if (reason) assert.match(error.reason, reason);
      return true;
    },
  );
}

describe("RSA keys from ssh-keygen", { skip: noSshKeygen || noOpenssl }, () => {
  for (const bits of [1024, 2048, 3072, 4096]) {
    test(`${bits} bits: MD5 fingerprint as both documented pipelines print it`, () => {
      const { key, pub } = sshKeygen("rsa", ["-b", String(bits), "-m", "PEM"]);
      const imported = importPublicKey(Buffer.from(pub));
      assert.deepEqual(imported, {
        publicKeyOpenSsh: keyPart(pub),
        fingerprint: opensslDigest(
          dir.sh(`ssh-keygen -ef ${key} -m PEM | openssl rsa -RSAPublicKey_in -outform DER | openssl md5 -c`),
        ),
        keyType: "rsa",
      });
      assert.equal(
        imported.fingerprint,
        opensslDigest(dir.sh(`openssl rsa -in ${key} -pubout -outform DER | openssl md5 -c`)),
      );
    });
  }

  test("the same key in every accepted format imports the same", () => {
    const { pub } = sshKeygen("rsa", ["-b", "2048"], "bob@laptop with a long comment");
    const expected = importPublicKey(Buffer.from(pub));
    const pubFile = dir.write(pub);
    const rfc4716 = dir.sh(`ssh-keygen -e -f ${pubFile}`);
    assert.match(rfc4716, /^---- BEGIN SSH2 PUBLIC KEY ----\nComment: /);
    const spkiPem = dir.sh(`ssh-keygen -e -m PKCS8 -f ${pubFile}`);
    const spkiBase64 = spkiPem.split("\n").slice(1, -1).join("");
    const continued = rfc4716.replace(
      /^Comment: .*$/m,
      'Comment: "a header \\\nspread over \\\nthree lines"',
    );
    for (const material of [
      pub.replace(/\n$/, "\r\n"),
      `  ${keyPart(pub)}  \n`,
      rfc4716,
      rfc4716.replaceAll("\n", "\r\n"),
      continued,
      spkiPem,
      dir.sh(`ssh-keygen -e -m PEM -f ${pubFile}`), // PKCS#1 RSAPublicKey
      spkiBase64, // "Base64 encoded DER", as the AWS CLI docs pass it
      Buffer.from(spkiBase64, "base64"), // the DER itself, when a client decoded that base64
    ]) {
      assert.deepEqual(importPublicKey(Buffer.from(material)), expected, String(material));
    }
  });
});

describe("Ed25519 keys from ssh-keygen", { skip: noSshKeygen }, () => {
  test("SHA-256 fingerprint as ssh-keygen -l prints it, padded; the comment is dropped", () => {
    const { key, pub } = sshKeygen("ed25519", [], "carol@example.com work laptop");
    const imported = importPublicKey(Buffer.from(pub));
    assert.equal(imported.keyType, "ed25519");
    assert.equal(imported.publicKeyOpenSsh, keyPart(pub));
    const printed = dir.sh(`ssh-keygen -l -f ${key}`).split(" ")[1];
    assert.equal(`SHA256:${imported.fingerprint.replace(/=$/, "")}`, printed);
    assert.match(imported.fingerprint, /=$/);
  });

  test("only the OpenSSH format, as EC2 documents RFC 4716 and DER for RSA only", () => {
    const { pub } = sshKeygen("ed25519");
    rejects(dir.sh(`ssh-keygen -e -f ${dir.write(pub)}`), /ed25519/);
    const spki = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "der" });
    rejects(spki, /ed25519/);
    rejects(spki.toString("base64"), /ed25519/);
  });
});

describe("rejected material", () => {
  test("DSA and ECDSA keys", { skip: noSshKeygen }, () => {
    for (const [type, bits] of [
      ["ecdsa", "256"],
      ["ecdsa", "521"],
      ["dsa", "1024"],
    ]) {
      const { pub } = sshKeygen(type, ["-b", bits]);
      rejects(pub, /not supported/);
    }
    const { pub } = sshKeygen("ecdsa");
    rejects(dir.sh(`ssh-keygen -e -m PKCS8 -f ${dir.write(pub)}`), /ec keys/);
  });

  test("RSA keys outside 1024-16384 bits, even moduli, bad exponents", () => {
    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 768 });
    rejects(`ssh-rsa ${sshPublicKeyBlob(publicKey).toString("base64")}`, /768/);
    const line = (e: Buffer, n: Buffer) =>
      `ssh-rsa ${Buffer.concat([sshString("ssh-rsa"), sshMpint(e), sshMpint(n)]).toString("base64")}`;
    const oddModulus = Buffer.concat([Buffer.of(0xc0), randomBytes(254), Buffer.of(0x01)]);
    const evenModulus = Buffer.concat([Buffer.of(0xc0), randomBytes(254), Buffer.of(0x02)]);
    assert.equal(importPublicKey(Buffer.from(line(Buffer.of(1, 0, 1), oddModulus))).keyType, "rsa");
    rejects(line(Buffer.of(1, 0, 1), evenModulus), /even modulus/);
    rejects(line(Buffer.of(1), oddModulus), /exponent/);
    rejects(line(Buffer.of(1, 0, 0), oddModulus), /exponent/);
    const largest = Buffer.concat([Buffer.of(0xc0), randomBytes(2046), Buffer.of(0x01)]); // 16384 bits
    assert.equal(importPublicKey(Buffer.from(line(Buffer.of(1, 0, 1), largest))).keyType, "rsa");
    rejects(line(Buffer.of(1, 0, 1), Buffer.concat([Buffer.of(1), largest])), /16385/);
  });

  test("malformed OpenSSH lines and garbage", () => {
    const { publicKey } = generateKeyPairSync("ed25519");
    const blob = sshPublicKeyBlob(publicKey);
    const rsaBlob = sshPublicKeyBlob(generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey);
    assert.equal(importPublicKey(Buffer.from(`ssh-ed25519 ${blob.toString("base64")}`)).keyType, "ed25519");
    rejects("");
    rejects("hello world");
    rejects(randomBytes(64));
    rejects(Buffer.concat([Buffer.of(0x30), randomBytes(40)]), /DER/);
    rejects(`ssh-ed25519 ${rsaBlob.toString("base64")}`, /says ssh-ed25519 but the key is ssh-rsa/);
    rejects(`ssh-ed25519 ${blob.subarray(0, 30).toString("base64")}`, /malformed/);
    rejects(`ssh-ed25519 ${Buffer.concat([blob, Buffer.of(0)]).toString("base64")}`, /malformed/);
    rejects(`ssh-rsa ${Buffer.concat([rsaBlob, Buffer.of(0)]).toString("base64")}`, /trailing/);
    rejects(`ssh-rsa ${rsaBlob.toString("base64").slice(0, -8)}`);
    rejects(`ssh-ed25519 not*base64 comment`);
    rejects(
      generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs1", format: "pem" }),
    );
    rejects(`---- BEGIN SSH2 PUBLIC KEY ----\n${rsaBlob.toString("base64")}\n`, /END/);
  });
});
