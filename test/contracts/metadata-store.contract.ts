// What every MetadataStore must do, checked through the interface (with the CatalogStore and
// InstanceStore of the same database for tags, permissions, images and attachments).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { MetadataStore } from "../../src/storage/metadata/metadata-store.ts";
import { account, type Open, type Opened, rejectsWith } from "./harness.ts";
import {
  completedSnapshot,
  hash,
  type MetadataStores,
  snapshot,
  sorted,
  stillPending,
  volume,
} from "./metadata-fixtures.ts";
import { metadataSnapshotsContract } from "./metadata-snapshots.contract.ts";

export function metadataStoreContract(name: string, open: Open<MetadataStores>): void {
  describe(`MetadataStore contract: ${name}`, () => {
    let h: Opened<MetadataStores>;
    let s: MetadataStore;
    before(async () => {
      h = await open();
      s = h.store.meta;
    });
    after(() => h.close());
    metadataSnapshotsContract(() => h.store);

    it("inserts a volume with its tags (a key given twice keeps its last value) and reads it back exactly", async () => {
      const owner = account();
      const a = volume(owner, { createdAt: "2026-11-22T08:00:00.000Z", volumeType: "io2", iops: 3000 });
      const b = volume(owner, { createdAt: "2026-11-22T07:00:00.000Z" });
      await s.insertVolume(a, [
        { key: "Name", value: "first" },
        { key: "Name", value: "äpfel" },
        { key: "env", value: "" },
      ]);
      await s.insertVolume(b);
      assert.deepEqual(await s.getVolume(a.id), a);
      assert.deepEqual(await s.getVolume(b.id), b);
      assert.equal(await s.getVolume("vol-00000000000000000"), undefined);
      assert.deepEqual(await h.store.catalog.tags(a.id), [
        { key: "Name", value: "äpfel" },
        { key: "env", value: "" },
      ]);
      // Oldest first, then by id.
      assert.deepEqual(
        (await s.listVolumes(owner)).map((v) => v.id),
        [b.id, a.id],
      );
      const all = (await s.listVolumes()).map((v) => v.id);
      assert.ok(all.indexOf(b.id) < all.indexOf(a.id));
      await s.updateVolume(a.id, { sizeGiB: 20, volumeType: "gp3" });
      assert.deepEqual(await s.getVolume(a.id), { ...a, sizeGiB: 20, volumeType: "gp3", iops: null });
    });

    it("a volume from a completed snapshot maps its non-zero blocks as remote; markLocal hydrates them", async () => {
      const owner = account();
      const [x, y] = [hash(), hash()];
      const snap = await completedSnapshot(s, owner, [
        { block: 7, hash: x },
        { block: 2, hash: y },
        { block: 3, hash: null },
        { block: 9, hash: x },
      ]);
      const v = volume(owner, { sourceSnapshotId: snap.id, lastSnapshotId: snap.id });
      await s.insertVolume(v);
      const t = await s.volumeTracking(v.id);
      assert.deepEqual(t, { dirty: [], frozen: null, remote: [2, 7, 9], mapped: [2, 7, 9] });
      assert.equal(await s.hasRemoteBlocks(v.id), true);
      assert.deepEqual(await s.hydrationCounts(v.id), { mapped: 3, remote: 3 });
      assert.deepEqual(
        await s.remoteBlockHashes(v.id, 3, 9),
        new Map([
          [7, x],
          [9, x],
        ]),
      );
      await s.markLocal(v.id, [7, 2, 100]);
      assert.deepEqual((await s.volumeTracking(v.id)).remote, [9]);
      assert.deepEqual(await s.hydrationCounts(v.id), { mapped: 3, remote: 1 });
      await s.markLocal(v.id, [9]);
      assert.equal(await s.hasRemoteBlocks(v.id), false);
      assert.deepEqual((await s.volumeTracking(v.id)).mapped, [2, 7, 9]);
      assert.deepEqual(await s.hydrationCounts(v.id), { mapped: 3, remote: 0 });
      assert.deepEqual(await s.hydrationCounts("vol-00000000000000000"), { mapped: 0, remote: 0 });
    });

    it("a volume from a pending or unknown snapshot fails InvalidSnapshot.NotFound, writing nothing", async () => {
      const owner = account();
      const pending = snapshot(owner);
      await s.insertSnapshot(pending);
      await s.addSnapshotBlocks(pending.id, [{ block: 0, hash: hash() }]);
      for (const source of [pending.id, "snap-00000000000000000"]) {
        const v = volume(owner, { sourceSnapshotId: source });
        await rejectsWith(s.insertVolume(v, [{ key: "k", value: "v" }]), "InvalidSnapshot.NotFound");
        assert.equal(await s.getVolume(v.id), undefined);
        assert.deepEqual(await h.store.catalog.tags(v.id), []);
        assert.deepEqual((await s.volumeTracking(v.id)).mapped, []);
      }
    });

    it("deleteVolume refuses an attached volume (VolumeInUse); detached, it goes with its map, dirty set and tags", async () => {
      const owner = account();
      const [x, y] = [hash(), hash()];
      const snap = await completedSnapshot(s, owner, [
        { block: 0, hash: x },
        { block: 1, hash: y },
        { block: 2, hash: x },
      ]);
      const v = volume(owner, { sourceSnapshotId: snap.id });
      await s.insertVolume(v, [{ key: "Name", value: "doomed" }]);
      await s.markDirty(v.id, [4]);
      const attachment = {
        volumeId: v.id,
        instanceId: "i-0123456789abcdef0",
        device: "/dev/sdf",
        attachedAt: "2026-11-22T09:00:00.000Z",
        deleteOnTermination: true,
      };
      await h.store.instances.attachVolume(attachment);
      const attached = await s.getVolume(v.id);
      assert.deepEqual(attached?.attachment, {
        instanceId: attachment.instanceId,
        device: attachment.device,
        attachedAt: attachment.attachedAt,
        deleteOnTermination: true,
      });
      assert.equal(attached?.state, "in-use");
      await rejectsWith(s.deleteVolume(v.id), "VolumeInUse");
      assert.deepEqual((await s.volumeTracking(v.id)).mapped, [0, 1, 2]);
      await h.store.instances.detachVolume(v.id);
      assert.deepEqual(sorted(await s.deleteVolume(v.id)), sorted([x, y]));
      assert.equal(await s.getVolume(v.id), undefined);
      assert.deepEqual(await s.volumeTracking(v.id), { dirty: [], frozen: null, remote: [], mapped: [] });
      assert.deepEqual(await h.store.catalog.tags(v.id), []);
      assert.deepEqual(await s.deleteVolume(v.id), []);
    });

    it("markDirty keeps each block once, in block order, thousands at a time", async () => {
      const v = volume(account());
      await s.insertVolume(v);
      await s.markDirty(v.id, [5, 3, 5, 1]);
      await s.markDirty(v.id, [3, 7]);
      assert.deepEqual((await s.volumeTracking(v.id)).dirty, [1, 3, 5, 7]);
      const many = Array.from({ length: 5000 }, (_, i) => 4999 - i);
      await s.markDirty(v.id, many);
      const dirty = (await s.volumeTracking(v.id)).dirty;
      assert.equal(dirty.length, 5000);
      assert.deepEqual(
        dirty,
        [...dirty].sort((a, b) => a - b),
      );
      await s.markDirty(v.id, []);
      await s.markLocal(v.id, []);
    });

    it("addChunks records chunks once (a repeat keeps the first); liveChunks answers for thousands at once", async () => {
      const before = await s.chunkTotals();
      const [a, b] = [hash(), hash()];
      await s.addChunks([
        { hash: a, storedBytes: 10, pack: null, offset: 0 },
        { hash: a, storedBytes: 99, pack: null, offset: 0 },
        { hash: b, storedBytes: 20, pack: null, offset: 0 },
      ]);
      await s.addChunks([{ hash: b, storedBytes: 77, pack: null, offset: 0 }]);
      assert.deepEqual(await s.chunkTotals(), {
        chunks: before.chunks + 2,
        storedBytes: before.storedBytes + 30,
      });
      const many = Array.from({ length: 3000 }, () => hash());
      await s.addChunks(many.map((x, i) => ({ hash: x, storedBytes: i, pack: null, offset: 0 })));
      const absent = hash();
      const live = await s.liveChunks([absent, ...many, a, a]);
      assert.equal(live.size, 3001);
      assert.equal(live.has(absent), false);
      assert.deepEqual([...live], [...many, a]);
      assert.deepEqual(await s.liveChunks([]), new Set());
      const after = await s.chunkTotals();
      assert.equal(after.chunks, before.chunks + 3002);
      assert.equal(after.storedBytes, before.storedBytes + 30 + (2999 * 3000) / 2);
    });

    it("dropUnreferencedChunks deletes only candidates no snapshot or volume map references, each once", async () => {
      const owner = account();
      const [free1, free2, bySnapshot, byVolume] = [hash(), hash(), hash(), hash()];
      await s.addChunks([free1, free2].map((x) => ({ hash: x, storedBytes: 1, pack: null, offset: 0 })));
      const pinning = await completedSnapshot(s, owner, [{ block: 3, hash: bySnapshot }]);
      const source = await completedSnapshot(s, owner, [{ block: 0, hash: byVolume }]);
      const v = volume(owner, { sourceSnapshotId: source.id });
      await s.insertVolume(v);
      // The volume's map still holds byVolume once its snapshot (the only other reference) goes.
      assert.deepEqual(await s.deleteSnapshot(source.id), [byVolume]);
      const mine = new Set([free1, free2, bySnapshot, byVolume]);
      const unreferenced = (await s.unreferencedChunks()).filter((x) => mine.has(x));
      assert.deepEqual(sorted(unreferenced), sorted([free1, free2]));
      const gone = hash();
      assert.deepEqual(await s.dropUnreferencedChunks([free2, byVolume, gone, free1, free2, bySnapshot]), [
        free2,
        free1,
      ]);
      assert.deepEqual(
        await s.liveChunks([free1, free2, bySnapshot, byVolume]),
        new Set([bySnapshot, byVolume]),
      );
      assert.deepEqual(await s.dropUnreferencedChunks([]), []);
      assert.deepEqual(await s.deleteSnapshot(pinning.id), [bySnapshot]);
      assert.deepEqual(await s.deleteVolume(v.id), [byVolume]);
      assert.deepEqual(await s.dropUnreferencedChunks([byVolume, bySnapshot]), [byVolume, bySnapshot]);
      assert.deepEqual(
        (await s.unreferencedChunks()).filter((x) => mine.has(x)),
        [],
      );
    });

    it("lockChunks excludes a second locker of a key until release; other keys do not wait", async () => {
      const [a, b, c] = [hash(), hash(), hash()];
      const first = await s.lockChunks([a, b, a]);
      const second = s.lockChunks([c, b]);
      assert.equal(await stillPending(second), true);
      (await s.lockChunks([hash()]))();
      first();
      const release = await second;
      // A long list waits for the one key of it that is held, then gets them all.
      const many = [...Array.from({ length: 2000 }, () => hash()), c];
      const third = s.lockChunks(many);
      assert.equal(await stillPending(third), true);
      (await s.lockChunks([a]))();
      release();
      (await third)();
      (await s.lockChunks([]))();
      (await s.lockChunks([c, b]))();
    });
  });
}
