// What every AccountStore must do, checked through the interface only.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { AccountStore } from "../../src/accounts/account-store.ts";
import { rejectsWith } from "./harness.ts";

export interface OpenedAccounts {
  store: AccountStore;
  close(): Promise<void>;
}

export function accountStoreContract(name: string, open: () => Promise<OpenedAccounts>): void {
  describe(`AccountStore contract: ${name}`, () => {
    let h: OpenedAccounts;
    let s: AccountStore;
    before(async () => {
      h = await open();
      s = h.store;
    });
    after(() => h.close());

    it("creates an account with one access key and finds it by id, name, alias and key", async () => {
      const { account, accessKeyId, secretAccessKey } = await s.createAccount("Alice.Example_1", {
        alias: "acme-1",
      });
      assert.match(account.id, /^\d{12}$/);
      assert.match(accessKeyId, /^AKIA[A-Z0-9]{16}$/);
      assert.equal(secretAccessKey.length, 40);
      assert.deepEqual(account, {
        id: account.id,
        name: "Alice.Example_1",
        alias: "acme-1",
        createdAt: account.createdAt,
      });
      assert.match(account.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.deepEqual(await s.getAccount(account.id), account);
      assert.deepEqual(await s.findByName("Alice.Example_1"), account);
      assert.deepEqual(await s.findByName("alice.example_1"), account); // names are case-insensitive
      assert.deepEqual(await s.findByAlias("acme-1"), account);
      assert.equal(await s.findByAlias("ACME-1"), undefined);
      assert.deepEqual(await s.lookupAccessKey(accessKeyId), { accountId: account.id, secretAccessKey });
      assert.equal(await s.lookupAccessKey("AKIAAAAAAAAAAAAAAAAA"), undefined);
      assert.equal(await s.getAccount("000000000000"), undefined);
      assert.equal(await s.findByName("nobody"), undefined);
    });

    it("refuses a taken name in any case, or a taken alias (AccountAlreadyExists), and bad names", async () => {
      await s.createAccount("bob", { alias: "bobco" });
      await rejectsWith(s.createAccount("BOB"), "AccountAlreadyExists");
      await rejectsWith(s.createAccount("carol", { alias: "bobco" }), "AccountAlreadyExists");
      assert.equal(await s.findByName("carol"), undefined);
      for (const [bad, alias] of [
        ["", undefined],
        ["-x", undefined],
        ["a b", undefined],
        ["x".repeat(65), undefined],
        ["dave", "Upper"],
        ["dave", "123"],
        ["dave", "self"],
      ]) {
        await rejectsWith(s.createAccount(bad as string, { alias }), "InvalidParameterValue");
      }
      assert.equal(await s.findByName("dave"), undefined);
    });

    it("lets exactly one of many concurrent creations of a name win", async () => {
      const results = await Promise.allSettled(
        ["race", "RACE", "Race", "rAce"].map((n) => s.createAccount(n)),
      );
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
      for (const r of results)
        if (r.status === "rejected")
          assert.equal((r.reason as { code: string }).code, "AccountAlreadyExists");
    });

    it("lists accounts in creation order", async () => {
      const before = (await s.listAccounts()).length;
      const made = [];
      for (const n of ["zed", "amy", "mid"]) {
        made.push((await s.createAccount(n)).account);
        await new Promise((r) => setTimeout(r, 2));
      }
      const all = await s.listAccounts();
      assert.equal(all.length, before + 3);
      assert.deepEqual(all.slice(-3), made);
    });

    it("keeps quota overrides per account, replaces and removes them, fractional values included", async () => {
      const { account } = await s.createAccount("quota-owner");
      const other = (await s.createAccount("quota-other")).account;
      assert.deepEqual(await s.quotaOverrides(account.id), {});
      await s.setQuotaOverride(account.id, "L-1216C47A", 64);
      await s.setQuotaOverride(account.id, "L-D18FCD1D", 0.5);
      await s.setQuotaOverride(account.id, "L-1216C47A", 128);
      await s.setQuotaOverride(other.id, "L-1216C47A", 1);
      assert.deepEqual(await s.quotaOverrides(account.id), { "L-1216C47A": 128, "L-D18FCD1D": 0.5 });
      await s.setQuotaOverride(account.id, "L-D18FCD1D", null);
      await s.setQuotaOverride(account.id, "never-set", null);
      assert.deepEqual(await s.quotaOverrides(account.id), { "L-1216C47A": 128 });
      assert.deepEqual(await s.quotaOverrides(other.id), { "L-1216C47A": 1 });
    });
  });
}
