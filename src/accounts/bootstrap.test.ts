import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { bootstrapAccounts } from "./bootstrap.ts";
import { openAccountStore } from "./sqlite-account-store.ts";

test("first start creates admin and the provider, and writes a 0600 credentials file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "strata-bootstrap-"));
  try {
    const boot = await bootstrapAccounts(dir);
    assert.equal(boot.created, true);
    assert.equal(boot.credentialsPath, join(dir, "credentials"));
    assert.equal(statSync(boot.credentialsPath).mode & 0o777, 0o600);
    const text = readFileSync(boot.credentialsPath, "utf8");
    const m =
      /^\[default\]\naws_access_key_id = (AKIA[A-Z0-9]{16})\naws_secret_access_key = (\S{40})\n$/m.exec(text);
    assert.ok(m, text);
    assert.ok(
      boot.message.includes(
        `AWS_SHARED_CREDENTIALS_FILE=${boot.credentialsPath} aws --endpoint-url http://127.0.0.1:4566 --region us-east-1 ec2 describe-regions`,
      ),
      boot.message,
    );
    const store = openAccountStore(dir);
    try {
      assert.deepEqual(await store.lookupAccessKey(m[1]), {
        accountId: boot.admin.id,
        secretAccessKey: m[2],
      });
      assert.equal(boot.admin.name, "admin");
      assert.deepEqual(await store.findByAlias("strata"), boot.provider);
      assert.equal(boot.provider.name, "strata");
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("later starts change nothing, and leave an edited credentials file alone", async () => {
  const dir = mkdtempSync(join(tmpdir(), "strata-bootstrap-"));
  try {
    const first = await bootstrapAccounts(dir);
    writeFileSync(first.credentialsPath, "[default]\n# edited by the user\n");
    const again = await bootstrapAccounts(dir, { endpointUrl: "http://10.0.0.5:8080", region: "eu-west-1" });
    assert.equal(again.created, false);
    assert.deepEqual([again.admin, again.provider], [first.admin, first.provider]);
    assert.equal(readFileSync(first.credentialsPath, "utf8"), "[default]\n# edited by the user\n");
    assert.match(again.message, /--endpoint-url http:\/\/10\.0\.0\.5:8080 --region eu-west-1 /);
    const store = openAccountStore(dir);
    try {
      assert.equal((await store.listAccounts()).length, 2);
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a data directory path with spaces is quoted in the printed command", async () => {
  const dir = mkdtempSync(join(tmpdir(), "strata bootstrap "));
  try {
    const boot = await bootstrapAccounts(dir);
    assert.ok(
      boot.message.includes(`AWS_SHARED_CREDENTIALS_FILE='${boot.credentialsPath}' aws`),
      boot.message,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
