// CreateKeyPair KeyFormat=ppk: PuTTY's puttygen must load the file (checking its MAC) and, converting
// the same key itself, write byte for byte the same file.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, describe, test } from "node:test";
import { encodeOpenSshEd25519PrivateKey } from "./openssh-format.ts";
import { encodePpk } from "./ppk-format.ts";
import { generateKeyPair, openSshLine } from "./ssh-keys.ts";
import { jwkBytes } from "./ssh-wire.ts";
import { KeyDir, keyPart, noPuttygen, noSshKeygen } from "./test-tools.ts";

const dir = new KeyDir();
after(() => dir.remove());

/** The key as puttygen's input: PKCS#1 PEM for RSA, our own OpenSSH file for Ed25519. */
function asOpenSshInput(key: KeyObject, comment: string): string {
  if (key.asymmetricKeyType === "rsa") return key.export({ type: "pkcs1", format: "pem" }) as string;
  const jwk = key.export({ format: "jwk" });
  return encodeOpenSshEd25519PrivateKey(jwkBytes(jwk.d), jwkBytes(jwk.x), comment);
}

describe("PPK v3", { skip: noPuttygen || noSshKeygen }, () => {
  for (const keyType of ["rsa", "ed25519"] as const) {
    test(`${keyType}: puttygen loads it to the same key, private half included`, () => {
      const pair = generateKeyPair(keyType, `${keyType}-ppk`, "ppk");
      assert.match(
        pair.keyMaterial,
        new RegExp(`^PuTTY-User-Key-File-3: ssh-${keyType}\nEncryption: none\n`),
      );
      const ppk = dir.write(pair.keyMaterial);
      const pub = execFileSync("puttygen", [ppk, "-O", "public-openssh"], { encoding: "utf8" });
      assert.equal(pub.trim(), openSshLine(pair.publicKeyOpenSsh, `${keyType}-ppk`));
      const converted = dir.file();
      execFileSync("puttygen", [ppk, "-O", "private-openssh", "-o", converted]);
      const derived = execFileSync("ssh-keygen", ["-y", "-f", converted], { encoding: "utf8" });
      assert.equal(keyPart(derived), pair.publicKeyOpenSsh);
    });

    test(`${keyType}: byte for byte what puttygen writes for the same key`, () => {
      const { privateKey } =
        keyType === "rsa"
          ? generateKeyPairSync("rsa", { modulusLength: 2048 })
          : generateKeyPairSync("ed25519");
      const ours = encodePpk(privateKey, "same key");
      const theirs = dir.file();
      execFileSync(
        "puttygen",
        [dir.write(asOpenSshInput(privateKey, "x")), "-C", "same key", "-O", "private"].concat([
          "-o",
          theirs,
        ]),
      );
      assert.equal(ours, readFileSync(theirs, "utf8"));
    });
  }

  test("an Ed25519 seed ending in zero bytes keeps all 32 bytes, as PuTTY writes it", () => {
    const seed = Buffer.concat([randomBytes(30), Buffer.alloc(2)]);
    const pkcs8 = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
    const privateKey = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
    const theirs = dir.file();
    execFileSync("puttygen", [
      dir.write(asOpenSshInput(privateKey, "z")),
      "-C",
      "z",
      "-O",
      "private",
      "-o",
      theirs,
    ]);
    assert.equal(encodePpk(privateKey, "z"), readFileSync(theirs, "utf8"));
  });

  test("a changed comment fails the MAC", () => {
    const pair = generateKeyPair("ed25519", "mac-check", "ppk");
    const tampered = pair.keyMaterial.replace("Comment: mac-check", "Comment: mac-chek");
    const check = spawnSync("puttygen", [dir.write(tampered), "-O", "private-openssh", "-o", dir.file()], {
      encoding: "utf8",
    });
    assert.notEqual(check.status, 0);
    assert.match(check.stderr, /MAC failed/);
  });
});

test("the fingerprint does not depend on the format", () => {
  assert.match(generateKeyPair("rsa", "k", "ppk").fingerprint, /^([0-9a-f]{2}:){19}[0-9a-f]{2}$/);
  assert.match(generateKeyPair("ed25519", "k", "ppk").fingerprint, /^[A-Za-z0-9+/]{43}=$/);
});

test("a comment cannot break the file's lines", () => {
  const { privateKey } = generateKeyPairSync("ed25519");
  assert.throws(() => encodePpk(privateKey, "two\nlines"), RangeError);
});
