import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { promisify } from "node:util";
import { isStrataError } from "../errors.ts";
import { openAccountStore } from "./sqlite-account-store.ts";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "strata-accounts-"));
}

test("createAccount returns the account and its key; lookups find them", async () => {
  const dir = tempDir();
  const store = openAccountStore(dir);
  try {
    const { account, accessKeyId, secretAccessKey } = await store.createAccount("alice");
    assert.match(account.id, /^\d{12}$/);
    assert.equal(account.name, "alice");
    assert.equal(account.alias, null);
    assert.match(accessKeyId, /^AKIA[A-Z0-9]{16}$/);
    assert.equal(secretAccessKey.length, 40);
    const provider = await store.createAccount("strata", { alias: "strata" });
    assert.deepEqual(await store.getAccount(account.id), account);
    assert.deepEqual(await store.findByName("alice"), account);
    assert.deepEqual(await store.findByAlias("strata"), provider.account);
    assert.deepEqual(await store.listAccounts(), [account, provider.account]);
    assert.deepEqual(await store.lookupAccessKey(accessKeyId), { accountId: account.id, secretAccessKey });
    assert.equal(await store.lookupAccessKey("AKIAAAAAAAAAAAAAAAAA"), undefined);
    assert.equal(await store.getAccount("000000000000"), undefined);
    assert.equal(await store.findByAlias("nobody"), undefined);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a taken name (any case) or alias is AccountAlreadyExists; bad names are InvalidParameterValue", async () => {
  const dir = tempDir();
  const store = openAccountStore(dir);
  try {
    await store.createAccount("alice", { alias: "acme" });
    for (const [name, alias] of [
      ["alice", undefined],
      ["ALICE", undefined],
      ["bob", "acme"],
    ]) {
      await assert.rejects(store.createAccount(name!, { alias }), (e) =>
        isStrataError(e, "AccountAlreadyExists"),
      );
    }
    for (const [name, alias] of [
      ["", undefined],
      ["-x", undefined],
      ["a b", undefined],
      ["x".repeat(65), undefined],
      ["carol", "Upper"],
      ["carol", "123456789012"],
      ["carol", "self"],
    ]) {
      await assert.rejects(store.createAccount(name!, { alias }), (e) =>
        isStrataError(e, "InvalidParameterValue"),
      );
    }
    assert.equal((await store.listAccounts()).length, 1, "failed creates leave nothing behind");
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the database holds secrets, so it and its WAL are private to the user (0600)", async () => {
  const dir = tempDir();
  const store = openAccountStore(dir);
  try {
    await store.createAccount("alice");
    assert.equal(statSync(join(dir, "accounts.db")).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, "accounts.db-wal")).mode & 0o777, 0o600);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a second connection reads and writes while the first is open (CLI beside a server)", async () => {
  const dir = tempDir();
  const server = openAccountStore(dir);
  try {
    const alice = await server.createAccount("alice");
    const cli = openAccountStore(dir);
    const bob = await cli.createAccount("bob");
    assert.deepEqual(await cli.lookupAccessKey(alice.accessKeyId), {
      accountId: alice.account.id,
      secretAccessKey: alice.secretAccessKey,
    });
    cli.close();
    assert.equal((await server.lookupAccessKey(bob.accessKeyId))?.accountId, bob.account.id);
    // A plain DatabaseSync, as another tool would open it, sees both rows too.
    const raw = new DatabaseSync(join(dir, "accounts.db"), { readOnly: true });
    assert.equal((raw.prepare("SELECT count(*) AS n FROM access_keys").get() as { n: number }).n, 2);
    raw.close();
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("another process creates an account while this one has the database open", async () => {
  const dir = tempDir();
  const server = openAccountStore(dir);
  try {
    await server.createAccount("alice");
    const module = new URL("./sqlite-account-store.ts", import.meta.url).href;
    const script = `const { openAccountStore } = await import(${JSON.stringify(module)});
      const s = openAccountStore(${JSON.stringify(dir)});
      const c = await s.createAccount("bob");
      s.close();
      console.log(c.accessKeyId);`;
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script]);
    const key = await server.lookupAccessKey(stdout.trim());
    assert.equal(key?.accountId, (await server.findByName("bob"))?.id);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
