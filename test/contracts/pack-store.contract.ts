// What every PackStore must do, whatever holds the bytes: one suite of node:test tests, run by
// test/pack-stores.test.ts against each backend.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { isStrataError } from "../../src/errors.ts";
import type { PackInfo, PackStore } from "../../src/storage/chunks/pack-store.ts";

export interface OpenedPackStore {
  store: PackStore;
  /** Leaves what a put cut short leaves behind (a temp file, an unfinished multipart upload). */
  leaveIncompletePut(id: string): Promise<void>;
  close(): Promise<void>;
}

const newId = () => randomBytes(16).toString("hex");
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function listAll(store: PackStore): Promise<PackInfo[]> {
  const out: PackInfo[] = [];
  for await (const p of store.list()) out.push(p);
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

function rejectsWith(code: string) {
  return (e: unknown) => {
    assert.ok(isStrataError(e), `expected StrataError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  };
}

export function packStoreContract(name: string, open: () => Promise<OpenedPackStore>): void {
  // Each test gets a store of its own (a fresh directory, bucket or prefix), so list is exact.
  const withStore = (title: string, body: (o: OpenedPackStore) => Promise<void>) =>
    test(title, async () => {
      const opened = await open();
      try {
        await body(opened);
      } finally {
        await opened.close();
      }
    });

  describe(`PackStore contract: ${name}`, () => {
    withStore(
      "put, then byte ranges read back exactly (first, middle, last byte, whole)",
      async ({ store }) => {
        const id = newId();
        const bytes = randomBytes(1024 * 1024 + 13);
        await store.put(id, bytes);
        assert.deepEqual(await store.read(id, 0, 1), bytes.subarray(0, 1));
        assert.deepEqual(await store.read(id, 500_000, 4096), bytes.subarray(500_000, 504_096));
        assert.deepEqual(await store.read(id, bytes.length - 1, 1), bytes.subarray(bytes.length - 1));
        const whole = await store.read(id, 0, bytes.length);
        assert.ok(Buffer.isBuffer(whole));
        assert.equal(sha256(whole), sha256(bytes));
      },
    );

    withStore(
      "an empty range is an empty buffer, and still ChunkMissing for an absent pack",
      async ({ store }) => {
        const id = newId();
        await store.put(id, randomBytes(100));
        assert.equal((await store.read(id, 50, 0)).length, 0);
        await assert.rejects(store.read(newId(), 0, 0), rejectsWith("ChunkMissing"));
      },
    );

    withStore("a range past the end of the pack is ChunkCorrupt, not fewer bytes", async ({ store }) => {
      const id = newId();
      await store.put(id, randomBytes(1000));
      await assert.rejects(store.read(id, 900, 200), rejectsWith("ChunkCorrupt"));
      await assert.rejects(store.read(id, 1000, 1), rejectsWith("ChunkCorrupt"));
    });

    withStore("reading an absent pack is ChunkMissing", async ({ store }) => {
      await assert.rejects(store.read(newId(), 0, 1), rejectsWith("ChunkMissing"));
    });

    withStore("delete, then read is ChunkMissing; deleting an absent pack is fine", async ({ store }) => {
      const id = newId();
      const kept = newId();
      await store.put(id, randomBytes(4096));
      await store.put(kept, Buffer.from("still here"));
      await store.delete(id);
      await assert.rejects(store.read(id, 0, 1), rejectsWith("ChunkMissing"));
      await store.delete(id);
      await store.delete(newId());
      assert.equal((await store.read(kept, 0, 10)).toString(), "still here");
      assert.deepEqual(
        (await listAll(store)).map((p) => p.id),
        [kept],
      );
    });

    withStore("list shows exactly the packs put, with their sizes and when", async ({ store }) => {
      assert.deepEqual(await listAll(store), []);
      // Object stores keep whole seconds.
      const t0 = Date.now() - 2000;
      const sizes = [1, 1000, 70_000, 300_001];
      const put = new Map(sizes.map((n) => [newId(), n]));
      for (const [id, n] of put) await store.put(id, randomBytes(n));
      const listed = await listAll(store);
      assert.deepEqual(
        listed.map((p) => [p.id, p.bytes]),
        [...put].sort((a, b) => a[0].localeCompare(b[0])),
      );
      for (const p of listed) {
        assert.ok(p.modifiedAt instanceof Date);
        const t = p.modifiedAt.getTime();
        assert.ok(t >= t0 && t <= Date.now() + 2000, `modifiedAt ${p.modifiedAt.toISOString()} is not now`);
      }
    });

    withStore("20 packs put concurrently, then all read in parallel", async ({ store }) => {
      const packs = Array.from({ length: 20 }, (_, i) => ({
        id: newId(),
        bytes: randomBytes(64 * 1024 + i * 4099),
      }));
      await Promise.all(packs.map((p) => store.put(p.id, p.bytes)));
      const back = await Promise.all(packs.map((p) => store.read(p.id, 0, p.bytes.length)));
      back.forEach((b, i) => {
        assert.equal(sha256(b), sha256(packs[i].bytes));
      });
      // And many small ranges of all of them at once.
      const ranges = packs.flatMap((p) => [0, 1, 2, 3].map((k) => ({ p, offset: k * 16_000 + 7 })));
      const got = await Promise.all(ranges.map(({ p, offset }) => store.read(p.id, offset, 1000)));
      got.forEach((b, i) => {
        const { p, offset } = ranges[i];
        assert.deepEqual(b, p.bytes.subarray(offset, offset + 1000));
      });
      assert.equal((await listAll(store)).length, 20);
    });

    withStore("a 40 MiB pack round trip", async ({ store }) => {
      const id = newId();
      const bytes = randomBytes(40 * 1024 * 1024);
      await store.put(id, bytes);
      assert.equal(sha256(await store.read(id, 0, bytes.length)), sha256(bytes));
      const quarter = bytes.length / 4;
      const parts = await Promise.all([0, 1, 2, 3].map((k) => store.read(id, k * quarter, quarter)));
      assert.equal(sha256(Buffer.concat(parts)), sha256(bytes));
      assert.deepEqual(
        (await listAll(store)).map((p) => [p.id, p.bytes]),
        [[id, bytes.length]],
      );
    });

    withStore("removeIncompletePuts removes old leftovers and keeps recent ones", async (opened) => {
      const { store } = opened;
      const done = newId();
      await store.put(done, Buffer.from("complete"));
      await opened.leaveIncompletePut(newId());
      await opened.leaveIncompletePut(newId());
      // Another process's put may still be running: an hour's margin keeps both.
      assert.equal(await store.removeIncompletePuts(3_600_000), 0);
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(await store.removeIncompletePuts(0), 2);
      assert.equal(await store.removeIncompletePuts(0), 0);
      assert.equal((await store.read(done, 0, 8)).toString(), "complete");
      assert.deepEqual(
        (await listAll(store)).map((p) => p.id),
        [done],
      );
    });

    withStore("invalid pack ids are rejected", async ({ store }) => {
      const bad = [
        "",
        "../../etc/passwd",
        "ABCDEF0123456789ABCDEF0123456789",
        "0123",
        `${newId()}/x`,
        `${newId()}0`,
      ];
      for (const id of bad) {
        await assert.rejects(store.put(id, Buffer.from("x")), rejectsWith("InvalidParameterValue"), id);
        await assert.rejects(store.read(id, 0, 1), rejectsWith("InvalidParameterValue"), id);
        await assert.rejects(store.delete(id), rejectsWith("InvalidParameterValue"), id);
      }
      assert.deepEqual(await listAll(store), []);
    });
  });
}
