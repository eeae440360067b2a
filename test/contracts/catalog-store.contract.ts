// What every CatalogStore must do, checked through the interface only.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { CatalogStore, ImageRecord } from "../../src/storage/metadata/catalog-store.ts";
import { catalogTagsContract } from "./catalog-tags.contract.ts";
import { account, byteSorted, type Open, type Opened, rejectsWith, uid } from "./harness.ts";
import { image } from "./images.ts";

export function catalogStoreContract(name: string, open: Open<CatalogStore>): void {
  describe(`CatalogStore contract: ${name}`, () => {
    let h: Opened<CatalogStore>;
    let s: CatalogStore;
    before(async () => {
      h = await open();
      s = h.store;
    });
    after(() => h.close());
    catalogTagsContract(() => s);

    it("reads an image back exactly as inserted, with its tags, and lists images by id", async () => {
      const owner = account();
      const a = image(owner, "contract-a", { creationDate: "2026-01-02T03:04:05.678Z" });
      const b = image(owner, "contract-b", { stateReason: { code: "x", message: "y" } });
      await s.insertImage(b, [{ key: "Name", value: "bee" }]);
      await s.insertImage(a);
      assert.deepEqual(await s.getImage(a.id), a);
      assert.deepEqual(await s.getImage(b.id), b);
      assert.equal(await s.getImage("ami-00000000000000000"), undefined);
      assert.deepEqual(await s.tags(b.id), [{ key: "Name", value: "bee" }]);
      const ids = (await s.listImages()).map((i) => i.id);
      assert.deepEqual(ids, byteSorted(ids));
      assert.ok(ids.includes(a.id) && ids.includes(b.id));
    });

    it("refuses a second image of the same name for the owner (InvalidAMIName.Duplicate), writing nothing", async () => {
      const owner = account();
      await s.insertImage(image(owner, "dup"));
      const again = image(owner, "dup");
      await rejectsWith(s.insertImage(again, [{ key: "k", value: "v" }]), "InvalidAMIName.Duplicate");
      assert.equal(await s.getImage(again.id), undefined);
      assert.deepEqual(await s.tags(again.id), []);
      assert.deepEqual(await s.imagesUsingSnapshot(again.blockDeviceMappings[0].ebs?.snapshotId ?? ""), []);
      await s.insertImage(image(account(), "dup")); // another owner may use the name
      await s.insertImage(image(owner, "DUP")); // names are case-sensitive
    });

    it("lets exactly one of many concurrent inserts of a name win", async () => {
      const owner = account();
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, () => s.insertImage(image(owner, "race"))),
      );
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
      for (const r of results) {
        if (r.status === "rejected")
          assert.equal((r.reason as { code: string }).code, "InvalidAMIName.Duplicate");
      }
    });

    it("shows an account its own images and those shared with it or with all, by id, paged", async () => {
      const [me, other, third] = [account(), account(), account()];
      const mine = image(me, "mine");
      const toMe = image(other, "to-me");
      const toAll = image(third, "to-all");
      const hidden = image(other, "hidden");
      for (const i of [mine, toMe, toAll, hidden]) await s.insertImage(i);
      await s.changePermissions(toMe.id, [me], []);
      await s.changePermissions(toAll.id, ["all"], []);
      await s.changePermissions(hidden.id, [third], []);
      const expected = byteSorted([mine.id, toMe.id, toAll.id]);
      const visible = (await s.imagesVisibleTo(me))
        .map((i) => i.id)
        .filter((id) => expected.includes(id) || id === hidden.id);
      assert.deepEqual(visible, expected);
      const owned = await s.imagesVisibleTo(me, { ownerIds: [me, other] });
      assert.ok(owned.some((i) => i.id === toMe.id) && owned.some((i) => i.id === mine.id));
      assert.ok(owned.every((i) => i.ownerId === me || i.ownerId === other));
      // Paging: `after` is exclusive, `limit` caps, both in id order.
      const all = (await s.imagesVisibleTo(me)).map((i) => i.id);
      const page1 = (await s.imagesVisibleTo(me, { limit: 2 })).map((i) => i.id);
      const page2 = (await s.imagesVisibleTo(me, { after: page1[1], limit: 2 })).map((i) => i.id);
      assert.equal(page1.length, 2);
      assert.deepEqual([...page1, ...page2], all.slice(0, page1.length + page2.length));
      await s.changePermissions(toMe.id, [], [me]);
      assert.ok(!(await s.imagesVisibleTo(me)).some((i) => i.id === toMe.id));
    });

    it("filters with EC2 wildcards: * and ? match, \\ escapes, everything else is literal and case-sensitive", async () => {
      const owner = account();
      const names = [
        "app-0100",
        "app-0199",
        "App-0100",
        "app-1",
        "app-*x",
        "app-[1]",
        "web?",
        "webs",
        "50%",
        "50abc",
        "a_b",
        "axb",
        "back\\",
        "naïve-é",
      ];
      const ids = new Map<string, string>();
      for (const n of names) {
        const i = image(owner, n);
        ids.set(i.id, n);
        await s.insertImage(i);
      }
      const match = async (pattern: string) =>
        (
          await s.imagesVisibleTo(owner, {
            ownerIds: [owner],
            where: [{ column: "name", patterns: [pattern] }],
          })
        )
          .map((i) => ids.get(i.id) ?? "?")
          .sort();
      assert.deepEqual(await match("app-01*"), ["app-0100", "app-0199"]);
      assert.deepEqual(await match("app-?"), ["app-1"]);
      assert.deepEqual(await match("app-\\*x"), ["app-*x"]);
      assert.deepEqual(await match("app-[1]"), ["app-[1]"]);
      assert.deepEqual(await match("web\\?"), ["web?"]);
      assert.deepEqual(await match("web?"), ["web?", "webs"]);
      assert.deepEqual(await match("APP*"), []);
      assert.deepEqual(await match("50%"), ["50%"]);
      assert.deepEqual(await match("a_b"), ["a_b"]);
      assert.deepEqual(await match("back\\\\"), ["back\\"]);
      assert.deepEqual(await match("na?ve-?"), ["naïve-é"]);
      assert.equal((await match("*")).length, names.length);
      // Many values (SQLite binds more than 64 as one JSON array) mean the same as a few.
      const many = Array.from({ length: 100 }, (_, k) => `nomatch-${k}*`);
      const wide = await s.imagesVisibleTo(owner, {
        ownerIds: [...Array.from({ length: 100 }, () => account()), owner],
        where: [{ column: "name", patterns: [...many, "app-01*", "web\\?"] }],
      });
      assert.deepEqual(wide.map((i) => ids.get(i.id)).sort(), ["app-0100", "app-0199", "web?"]);
      assert.deepEqual(await s.imagesVisibleTo(owner, { ownerIds: [] }), []);
      assert.deepEqual(await s.imagesVisibleTo(owner, { where: [{ column: "name", patterns: [] }] }), []);
      assert.deepEqual(await s.imagesVisibleTo(owner, { limit: 0 }), []);
      // OR within a filter's values, AND across filters.
      const both = await s.imagesVisibleTo(owner, {
        ownerIds: [owner],
        where: [
          { column: "name", patterns: ["app-0100", "webs"] },
          { column: "state", patterns: ["avail*"] },
        ],
      });
      assert.deepEqual(both.map((i) => ids.get(i.id)).sort(), ["app-0100", "webs"]);
    });

    it("hides other owners' images deprecated at or before the time, never the account's own", async () => {
      const [me, other] = [account(), account()];
      const old = image(other, "old", { deprecationTime: "2026-01-01T00:00:00.000Z" });
      const later = image(other, "later", { deprecationTime: "2027-01-01T00:00:00.000Z" });
      const never = image(other, "never");
      const ownOld = image(me, "own-old", { deprecationTime: "2020-01-01T00:00:00.000Z" });
      for (const i of [old, later, never, ownOld]) await s.insertImage(i);
      for (const i of [old, later, never]) await s.changePermissions(i.id, ["all"], []);
      const seen = (
        await s.imagesVisibleTo(me, { ownerIds: [me, other], hideDeprecatedAt: "2026-01-01T00:00:00.000Z" })
      ).map((i) => i.id);
      assert.deepEqual(seen, byteSorted([later.id, never.id, ownOld.id]));
    });

    it("changes only the named attributes, and only while the condition holds", async () => {
      const i = image(account(), "attrs");
      await s.insertImage(i);
      assert.equal(await s.updateImageAttributes(i.id, { description: "new" }), true);
      assert.equal(
        await s.updateImageAttributes(
          i.id,
          { deprecationTime: "2030-01-01T00:00:00.000Z" },
          { description: "stale" },
        ),
        false,
      );
      assert.equal(
        await s.updateImageAttributes(
          i.id,
          { deregistrationProtection: "enabled" },
          { description: "new", lastLaunchedTime: null },
        ),
        true,
      );
      assert.equal(await s.updateImageAttributes("ami-0ffffffffffffffff", { description: "x" }), false);
      assert.deepEqual(await s.getImage(i.id), {
        ...i,
        description: "new",
        deregistrationProtection: "enabled",
      });
    });

    it("moves an image between states only from the expected one, recording the reason", async () => {
      const i = image(account(), "states", { state: "pending" });
      await s.insertImage(i);
      assert.equal(await s.setImageState(i.id, "available", "failed"), false);
      const reason = { code: "Client.Error", message: "snapshot failed" };
      assert.equal(await s.setImageState(i.id, "pending", "failed", reason), true);
      assert.deepEqual(await s.getImage(i.id), { ...i, state: "failed", stateReason: reason });
      assert.equal(await s.setImageState(i.id, "failed", "available"), true);
      assert.deepEqual((await s.getImage(i.id))?.stateReason, null);
    });

    it("deletes an image with its permissions and tags, returning its snapshots; a guard may refuse", async () => {
      const owner = account();
      const snaps = byteSorted([uid("snap"), uid("snap")]);
      const i = image(owner, "del", {
        blockDeviceMappings: snaps.reverse().map((id, k) => ({
          deviceName: `/dev/sd${"ab"[k]}`,
          ebs: { snapshotId: id, deleteOnTermination: true, encrypted: false },
        })),
      });
      await s.insertImage(i, [{ key: "a", value: "1" }]);
      await s.changePermissions(i.id, ["all", account()], []);
      assert.deepEqual(await s.imagesUsingSnapshot(snaps[0]), [i.id]);
      assert.deepEqual(await s.imagesUsingSnapshot(snaps[0], owner), [i.id]);
      assert.deepEqual(await s.imagesUsingSnapshot(snaps[0], account()), []);
      await assert.rejects(
        s.deleteImage(i.id, () => {
          throw new Error("protected");
        }),
        /protected/,
      );
      assert.deepEqual(await s.getImage(i.id), i);
      let seen: ImageRecord | undefined;
      assert.deepEqual(
        await s.deleteImage(i.id, (img) => {
          seen = img;
        }),
        byteSorted(snaps),
      );
      assert.deepEqual(seen, i);
      assert.equal(await s.getImage(i.id), undefined);
      assert.deepEqual(await s.permissions(i.id), []);
      assert.deepEqual(await s.tags(i.id), []);
      assert.deepEqual(await s.imagesUsingSnapshot(snaps[0]), []);
      assert.deepEqual(await s.deleteImage(i.id), []);
    });

    // U+0000 never reaches a store: PostgreSQL's text cannot hold it, and the API layers refuse it
    // (test/ec2-bad-input.test.ts). Other control characters are kept.
    it("keeps control characters in a description and a tag", async () => {
      const i = image(account(), "ctl", { description: "ctl\u0001\u001fhere" });
      await s.insertImage(i, [{ key: "k\u0001", value: "v\u0007" }]);
      assert.deepEqual(await s.getImage(i.id), i);
      assert.deepEqual(await s.tags(i.id), [{ key: "k\u0001", value: "v\u0007" }]);
    });

    it("keeps permissions as a set, sorted, and finds what is shared with grantees", async () => {
      const r = uid("ami");
      const [a, b] = byteSorted([account(), account()]);
      await s.changePermissions(r, [b, "all", a, b], []);
      assert.deepEqual(await s.permissions(r), byteSorted([a, b, "all"]));
      await s.changePermissions(r, [], ["all", "nobody"]);
      assert.deepEqual(await s.permissions(r), [a, b]);
      assert.ok((await s.resourcesSharedWith([a])).has(r));
      assert.ok(!(await s.resourcesSharedWith([account(), "all"])).has(r));
      await s.resetPermissions(r);
      assert.deepEqual(await s.permissions(r), []);
    });
  });
}
