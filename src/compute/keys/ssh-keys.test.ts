// CreateKeyPair's key material and fingerprints, checked with the commands of EC2's "Verify the
// fingerprint of your key pair" page (ssh-keygen, openssl).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createPrivateKey } from "node:crypto";
import { after, describe, test } from "node:test";
import { generateKeyPair, generateKeyPairAsync, openSshLine } from "./ssh-keys.ts";
import { KeyDir, keyPart, noOpenssl, noSshKeygen, opensslDigest } from "./test-tools.ts";

const dir = new KeyDir();
after(() => dir.remove());

describe("CreateKeyPair ed25519", () => {
  const keyName = "my-key-pair";
  const pair = generateKeyPair("ed25519", keyName);

  test("is an unencrypted openssh-key-v1 file", () => {
    assert.equal(pair.keyType, "ed25519");
    assert.match(
      pair.keyMaterial,
      /^-----BEGIN OPENSSH PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+\n-----END OPENSSH/,
    );
    assert.match(pair.keyMaterial, /\n-----END OPENSSH PRIVATE KEY-----\n$/);
    assert.match(pair.publicKeyOpenSsh, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43}$/);
  });

  test("ssh-keygen -y reads it back to the same public key, the key name as comment", {
    skip: noSshKeygen,
  }, () => {
    const line = execFileSync("ssh-keygen", ["-y", "-f", dir.write(pair.keyMaterial)], { encoding: "utf8" });
    assert.equal(line.trim(), openSshLine(pair.publicKeyOpenSsh, keyName));
  });

  test("fingerprint is ssh-keygen -l's SHA256, with EC2's base64 padding", { skip: noSshKeygen }, () => {
    const [bits, fingerprint, comment] = dir.sh(`ssh-keygen -l -f ${dir.write(pair.keyMaterial)}`).split(" ");
    assert.equal(bits, "256");
    assert.equal(comment, keyName);
    assert.equal(`SHA256:${pair.fingerprint.replace(/=+$/, "")}`, fingerprint);
    assert.match(pair.fingerprint, /^[A-Za-z0-9+/]{43}=$/);
  });

  test("a key name with spaces is kept whole as the comment", { skip: noSshKeygen }, () => {
    const spaced = generateKeyPair("ed25519", "team key #2");
    const line = execFileSync("ssh-keygen", ["-y", "-f", dir.write(spaced.keyMaterial)], {
      encoding: "utf8",
    });
    assert.equal(line.trim(), openSshLine(spaced.publicKeyOpenSsh, "team key #2"));
  });

  test("each key is new", () => {
    assert.notEqual(generateKeyPair("ed25519", keyName).publicKeyOpenSsh, pair.publicKeyOpenSsh);
  });
});

describe("CreateKeyPair rsa", () => {
  const pair = generateKeyPair("rsa", "rsa-key");

  test("is a 2048-bit PKCS#1 PEM private key", () => {
    assert.equal(pair.keyType, "rsa");
    assert.match(pair.keyMaterial, /^-----BEGIN RSA PRIVATE KEY-----\n/);
    assert.match(pair.keyMaterial, /\n-----END RSA PRIVATE KEY-----\n$/);
    const details = createPrivateKey(pair.keyMaterial).asymmetricKeyDetails;
    assert.equal(details?.modulusLength, 2048);
    assert.equal(details?.publicExponent, 65537n);
  });

  test("openssl rsa -check accepts it", { skip: noOpenssl }, () => {
    assert.equal(dir.sh(`openssl rsa -check -noout -in ${dir.write(pair.keyMaterial)}`), "RSA key ok");
  });

  test("ssh-keygen -y derives the same public key", { skip: noSshKeygen }, () => {
    const line = execFileSync("ssh-keygen", ["-y", "-f", dir.write(pair.keyMaterial)], { encoding: "utf8" });
    assert.equal(keyPart(line), pair.publicKeyOpenSsh);
  });

  test("fingerprint is the documented SHA-1 of the DER PKCS#8 private key", { skip: noOpenssl }, () => {
    const path = dir.write(pair.keyMaterial);
    const out = dir.sh(
      `openssl pkcs8 -in ${path} -inform PEM -outform DER -topk8 -nocrypt | openssl sha1 -c`,
    );
    assert.equal(pair.fingerprint, opensslDigest(out));
    assert.match(pair.fingerprint, /^([0-9a-f]{2}:){19}[0-9a-f]{2}$/);
  });

  test("generateKeyPairAsync makes the same kinds of key", async () => {
    const rsa = await generateKeyPairAsync("rsa", "async-key");
    assert.equal(createPrivateKey(rsa.keyMaterial).asymmetricKeyDetails?.modulusLength, 2048);
    assert.match(rsa.publicKeyOpenSsh, /^ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ/);
    const ed = await generateKeyPairAsync("ed25519", "async-key", "ppk");
    assert.match(ed.keyMaterial, /^PuTTY-User-Key-File-3: ssh-ed25519\n/);
  });
});

test("openSshLine appends the key name as EC2 does for public-keys/0/openssh-key", () => {
  assert.equal(openSshLine("ssh-ed25519 AAAAC3Nz", "my-key-pair"), "ssh-ed25519 AAAAC3Nz my-key-pair");
});
