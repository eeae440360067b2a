// CatalogStore's tags and ClientToken records (part of catalog-store.contract.ts).
import assert from "node:assert/strict";
import { it } from "node:test";
import type { CatalogStore } from "../../src/storage/metadata/catalog-store.ts";
import { account, uid } from "./harness.ts";

export function catalogTagsContract(store: () => CatalogStore): void {
  it("sets tags on many resources at once, overwriting values; a key given twice keeps the last", async () => {
    const s = store();
    const [a, b] = [uid("ami"), uid("snap")];
    await s.setTags(
      [a, b],
      [
        { key: "env", value: "dev" },
        { key: "Name", value: "first" },
        { key: "Name", value: "second" },
      ],
    );
    await s.setTags([a], [{ key: "env", value: "prod" }]);
    assert.deepEqual(await s.tags(a), [
      { key: "Name", value: "second" },
      { key: "env", value: "prod" },
    ]);
    assert.deepEqual(await s.tags(b), [
      { key: "Name", value: "second" },
      { key: "env", value: "dev" },
    ]);
  });

  it("orders tags by key in byte order (upper case before lower, ASCII before accents)", async () => {
    const s = store();
    const r = uid("vol");
    const keys = ["zeta", "éclair", "a", "B", "_under", "Z", "10", "9", "a b", ""];
    await s.setTags(
      [r],
      keys.map((key) => ({ key, value: `v-${key}` })),
    );
    const want = ["", "10", "9", "B", "Z", "_under", "a", "a b", "zeta", "éclair"];
    assert.deepEqual(
      (await s.tags(r)).map((t) => t.key),
      want,
    );
    assert.deepEqual(
      (await s.tagsOf([r])).get(r)?.map((t) => t.key),
      want,
    );
    const all = (await s.allTags()).filter((t) => t.resourceId === r).map((t) => t.key);
    assert.deepEqual(all, want);
  });

  it("reads the tags of many resources at once, leaving out untagged ones", async () => {
    const s = store();
    const ids = Array.from({ length: 700 }, () => uid("i"));
    for (const [k, id] of ids.entries())
      if (k % 3 === 0) await s.setTags([id], [{ key: "n", value: String(k) }]);
    const got = await s.tagsOf([...ids, uid("i")]);
    assert.equal(got.size, Math.ceil(700 / 3));
    assert.deepEqual(got.get(ids[699]), [{ key: "n", value: "699" }]);
    assert.equal(got.get(ids[1]), undefined);
    assert.equal((await s.tagsOf([])).size, 0);
  });

  it("deletes tags by key, by key and value, or all of them; allTags lists by resource then key", async () => {
    const s = store();
    const [a, b] = [uid("ami"), uid("ami")];
    const tags = [
      { key: "k1", value: "x" },
      { key: "k2", value: "y" },
      { key: "k3", value: "z" },
    ];
    await s.setTags([a, b], tags);
    await s.deleteTags([a], [{ key: "k1" }, { key: "k2", value: "not-y" }, { key: "absent" }]);
    assert.deepEqual(await s.tags(a), tags.slice(1));
    await s.deleteTags([a, b], [{ key: "k2", value: "y" }]);
    assert.deepEqual(await s.tags(a), [tags[2]]);
    assert.deepEqual(await s.tags(b), [tags[0], tags[2]]);
    const listed = (await s.allTags()).filter((t) => t.resourceId === a || t.resourceId === b);
    assert.deepEqual(listed, [
      { resourceId: a, key: "k3", value: "z" },
      { resourceId: b, key: "k1", value: "x" },
      { resourceId: b, key: "k3", value: "z" },
    ]);
    await s.deleteTags([a, b], []);
    assert.deepEqual([await s.tags(a), await s.tags(b)], [[], []]);
  });

  it("keeps a ClientToken per account: the first result stays, another account's is separate", async () => {
    const s = store();
    const [me, other] = [account(), account()];
    assert.equal(await s.clientToken(me, "tok"), undefined);
    await s.saveClientToken(me, "tok", "CopyImage", "hash-1", "ami-1");
    await s.saveClientToken(other, "tok", "CopyImage", "hash-2", "ami-2");
    await assert.rejects(s.saveClientToken(me, "tok", "CopyImage", "hash-3", "ami-3"));
    assert.deepEqual(await s.clientToken(me, "tok"), {
      action: "CopyImage",
      requestHash: "hash-1",
      resourceId: "ami-1",
    });
    assert.deepEqual(await s.clientToken(other, "tok"), {
      action: "CopyImage",
      requestHash: "hash-2",
      resourceId: "ami-2",
    });
    assert.equal(await s.clientToken(me, "TOK"), undefined);
  });
}
