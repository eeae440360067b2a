// MetadataStore's snapshots: freezing a volume's changes, recording blocks, the three ways to
// complete, failing, deleting, stats, and who sees what.
import assert from "node:assert/strict";
import { it } from "node:test";
import { BLOCK_SIZE, GIB } from "../../src/storage/blocks.ts";
import type { MetadataStore } from "../../src/storage/metadata/metadata-store.ts";
import { account, byteSorted, rejectsWith } from "./harness.ts";
import { image } from "./images.ts";
import {
  completedSnapshot,
  hash,
  type MetadataStores,
  snapshot,
  sorted,
  volume,
} from "./metadata-fixtures.ts";

export function metadataSnapshotsContract(stores: () => MetadataStores): void {
  const m = (): MetadataStore => stores().meta;

  it("beginVolumeSnapshot inserts the snapshot with its tags and freezes the volume's dirty set into it", async () => {
    const owner = account();
    const v = volume(owner);
    await m().insertVolume(v);
    await m().markDirty(v.id, [3, 1, 2]);
    const snap = snapshot(owner, { volumeId: v.id });
    assert.deepEqual(await m().beginVolumeSnapshot(snap, [{ key: "Name", value: "nightly" }]), [1, 2, 3]);
    assert.deepEqual(await m().getSnapshot(snap.id), snap);
    assert.deepEqual(await stores().catalog.tags(snap.id), [{ key: "Name", value: "nightly" }]);
    await m().markDirty(v.id, [2, 9]);
    assert.deepEqual(await m().volumeTracking(v.id), {
      dirty: [2, 9],
      frozen: { snapshotId: snap.id, blocks: [1, 2, 3] },
      remote: [],
      mapped: [],
    });
    assert.ok((await m().pendingSnapshots()).some((p) => p.id === snap.id));
  });

  it("addSnapshotBlocks returns the hashes not yet stored, once each in order; a block given twice keeps its last", async () => {
    const snap = snapshot(account());
    await m().insertSnapshot(snap);
    const [stored, h2, h3] = [hash(), hash(), hash()];
    await m().addChunks([{ hash: stored, storedBytes: 5, pack: null, offset: 0 }]);
    const missing = await m().addSnapshotBlocks(snap.id, [
      { block: 0, hash: h2 },
      { block: 1, hash: stored },
      { block: 2, hash: null },
      { block: 3, hash: h2 },
      { block: 4, hash: h3 },
      { block: 0, hash: h3 },
    ]);
    assert.deepEqual(missing, [h2, h3]);
    assert.deepEqual(await m().recordedRefs(snap.id), [
      { block: 0, hash: h3 },
      { block: 1, hash: stored },
      { block: 2, hash: null },
      { block: 3, hash: h2 },
      { block: 4, hash: h3 },
    ]);
    assert.deepEqual(await m().recordedBlocks(snap.id), [0, 1, 2, 3, 4]);
    assert.deepEqual(await m().snapshotBlocks(snap.id, 0, 2), [
      { block: 1, hash: stored },
      { block: 3, hash: h2 },
    ]);
    // A block written again replaces its reference.
    assert.deepEqual(await m().addSnapshotBlocks(snap.id, [{ block: 1, hash: null }]), []);
    assert.equal(await m().forgetUnstoredBlocks(snap.id, [3, 1, 3]), 1);
    assert.equal(await m().forgetUnstoredBlocks(snap.id), 2);
    assert.deepEqual(await m().recordedRefs(snap.id), [
      { block: 1, hash: null },
      { block: 2, hash: null },
    ]);
    const many = Array.from({ length: 4000 }, (_, i) => ({ block: i, hash: i % 2 ? hash() : null }));
    assert.equal((await m().addSnapshotBlocks(snap.id, many)).length, 2000);
    assert.equal((await m().recordedBlocks(snap.id)).length, 4000);
  });

  it("addSnapshotBlocks refuses a snapshot that is not pending, or gone (IncorrectState)", async () => {
    const done = await completedSnapshot(m(), account(), [{ block: 0, hash: hash() }]);
    await rejectsWith(m().addSnapshotBlocks(done.id, [{ block: 1, hash: hash() }]), "IncorrectState");
    await rejectsWith(m().addSnapshotBlocks("snap-00000000000000000", []), "IncorrectState");
    assert.equal((await m().recordedRefs(done.id)).length, 1);
  });

  it("completeVolumeSnapshot waits for every chunk, then swaps the volume's base map and returns replaced chunks", async () => {
    const owner = account();
    const v = volume(owner);
    await m().insertVolume(v);
    const [a, b, c, d] = [hash(), hash(), hash(), hash()];
    await m().markDirty(v.id, [0, 1, 2]);
    const s1 = snapshot(owner, { volumeId: v.id });
    await m().beginVolumeSnapshot(s1);
    await m().addSnapshotBlocks(s1.id, [
      { block: 0, hash: a },
      { block: 1, hash: b },
      { block: 2, hash: null },
    ]);
    await m().addChunks([a, b].map((x) => ({ hash: x, storedBytes: 10, pack: null, offset: 0 })));
    assert.deepEqual(await m().completeVolumeSnapshot(s1.id), []);
    const done = await m().getSnapshot(s1.id);
    assert.equal(done?.state, "completed");
    assert.equal(done?.progress, 100);
    assert.ok(done?.completedAt && !Number.isNaN(Date.parse(done.completedAt)));
    assert.equal((await m().getVolume(v.id))?.lastSnapshotId, s1.id);
    assert.deepEqual(await m().volumeTracking(v.id), { dirty: [], frozen: null, remote: [], mapped: [0, 1] });

    await m().markDirty(v.id, [1, 0, 5]);
    const s2 = snapshot(owner, { volumeId: v.id });
    assert.deepEqual(await m().beginVolumeSnapshot(s2), [0, 1, 5]);
    const missing = await m().addSnapshotBlocks(s2.id, [
      { block: 0, hash: null },
      { block: 1, hash: c },
      { block: 5, hash: d },
    ]);
    assert.deepEqual(missing, [c, d]);
    await assert.rejects(m().completeVolumeSnapshot(s2.id), /not stored/);
    assert.equal((await m().getSnapshot(s2.id))?.state, "pending");
    await m().addChunks([c, d].map((x) => ({ hash: x, storedBytes: 10, pack: null, offset: 0 })));
    assert.deepEqual(sorted(await m().completeVolumeSnapshot(s2.id)), sorted([a, b]));
    assert.deepEqual(await m().recordedRefs(s2.id), [
      { block: 1, hash: c },
      { block: 5, hash: d },
    ]);
    assert.deepEqual(await m().recordedRefs(s1.id), [
      { block: 0, hash: a },
      { block: 1, hash: b },
    ]);
    assert.deepEqual(await m().volumeTracking(v.id), { dirty: [], frozen: null, remote: [], mapped: [1, 5] });

    // Nothing changed: the next snapshot is the base map as it stands.
    const s3 = snapshot(owner, { volumeId: v.id });
    assert.deepEqual(await m().beginVolumeSnapshot(s3), []);
    assert.deepEqual(await m().completeVolumeSnapshot(s3.id), []);
    assert.deepEqual(await m().recordedRefs(s3.id), await m().recordedRefs(s2.id));
  });

  it("completeCopiedSnapshot refuses while chunks are missing, then drops the zero blocks", async () => {
    const snap = snapshot(account(), {
      sourceRegion: "us-west-2",
      sourceSnapshotId: "snap-0123456789abcdef0",
    });
    await m().insertSnapshot(snap);
    const x = hash();
    await m().addSnapshotBlocks(snap.id, [
      { block: 0, hash: x },
      { block: 1, hash: null },
    ]);
    await assert.rejects(m().completeCopiedSnapshot(snap.id), /not stored/);
    await m().addChunks([{ hash: x, storedBytes: 10, pack: null, offset: 0 }]);
    await m().setSnapshotProgress(snap.id, 60, { blocksRead: 2, bytesTransferred: 10 });
    await m().setSnapshotProgress(snap.id, 80, { bytesStored: 10 });
    await m().completeCopiedSnapshot(snap.id);
    await m().setSnapshotProgress(snap.id, 5, { blocksRead: 1000 });
    const done = await m().getSnapshot(snap.id);
    assert.equal(done?.state, "completed");
    assert.equal(done?.progress, 100);
    assert.deepEqual([done?.blocksRead, done?.bytesStored, done?.bytesTransferred], [2, 10, 10]);
    assert.deepEqual(await m().recordedRefs(snap.id), [{ block: 0, hash: x }]);
  });

  it("completeDirectSnapshot takes unwritten blocks from its parent, refuses a deleted parent, and ends the deadline", async () => {
    const owner = account();
    const [a, b, c, d] = [hash(), hash(), hash(), hash()];
    const parent = await completedSnapshot(m(), owner, [
      { block: 0, hash: a },
      { block: 1, hash: b },
      { block: 2, hash: c },
    ]);
    const child = snapshot(owner, {
      parentSnapshotId: parent.id,
      expiresAt: "2026-01-01T00:00:00.000Z",
      timeoutMinutes: 60,
    });
    await m().insertSnapshot(child);
    assert.ok((await m().expiredSnapshots("2026-06-01T00:00:00.000Z")).includes(child.id));
    await m().extendSnapshot(child.id, "2027-01-01T00:00:00.000Z");
    assert.ok(!(await m().expiredSnapshots("2026-06-01T00:00:00.000Z")).includes(child.id));
    await m().addSnapshotBlocks(child.id, [
      { block: 1, hash: null },
      { block: 3, hash: d },
    ]);
    await m().addChunks([{ hash: d, storedBytes: 10, pack: null, offset: 0 }]);
    await m().completeDirectSnapshot(child.id);
    assert.deepEqual(await m().recordedRefs(child.id), [
      { block: 0, hash: a },
      { block: 2, hash: c },
      { block: 3, hash: d },
    ]);
    const done = await m().getSnapshot(child.id);
    assert.deepEqual([done?.state, done?.expiresAt, done?.timeoutMinutes], ["completed", null, 60]);
    assert.ok(!(await m().expiredSnapshots("2028-01-01T00:00:00.000Z")).includes(child.id));

    const orphan = snapshot(owner, { parentSnapshotId: parent.id });
    await m().insertSnapshot(orphan);
    await m().deleteSnapshot(parent.id);
    await assert.rejects(m().completeDirectSnapshot(orphan.id), (e: unknown) => {
      const err = e as { code?: string; reason?: string };
      assert.deepEqual([err.code, err.reason], ["ValidationException", "INVALID_DEPENDENCY_REQUEST"]);
      return true;
    });
    assert.equal((await m().getSnapshot(orphan.id))?.state, "pending");
  });

  it("failSnapshot gives the frozen blocks back to the volume and returns the chunks it referenced", async () => {
    const owner = account();
    const v = volume(owner);
    await m().insertVolume(v);
    await m().markDirty(v.id, [1, 2]);
    const snap = snapshot(owner, { volumeId: v.id });
    await m().beginVolumeSnapshot(snap);
    await m().markDirty(v.id, [2, 3]);
    const [a, b] = [hash(), hash()];
    await m().addSnapshotBlocks(snap.id, [
      { block: 1, hash: a },
      { block: 2, hash: b },
      { block: 3, hash: a },
    ]);
    assert.deepEqual(sorted(await m().failSnapshot(snap.id, "disk gone")), sorted([a, b]));
    assert.deepEqual(await m().volumeTracking(v.id), {
      dirty: [1, 2, 3],
      frozen: null,
      remote: [],
      mapped: [],
    });
    const failed = await m().getSnapshot(snap.id);
    assert.deepEqual([failed?.state, failed?.stateMessage], ["error", "disk gone"]);
    assert.deepEqual(await m().recordedRefs(snap.id), []);
    assert.ok(!(await m().pendingSnapshots()).some((p) => p.id === snap.id));
    assert.deepEqual(await m().failSnapshot("snap-00000000000000000", "x"), []);
  });

  it("deleteSnapshot refuses while its owner's image uses it (InvalidSnapshot.InUse), then removes everything of it", async () => {
    const owner = account();
    const other = account();
    const [a, b] = [hash(), hash()];
    const snap = await completedSnapshot(m(), owner, [
      { block: 0, hash: a },
      { block: 4, hash: b },
    ]);
    await stores().catalog.setTags([snap.id], [{ key: "k", value: "v" }]);
    await stores().catalog.changePermissions(snap.id, [other], []);
    const uses = (ownerId: string) => {
      const img = image(ownerId, `uses-${snap.id}`);
      const [root] = img.blockDeviceMappings;
      if (root.ebs) root.ebs.snapshotId = snap.id;
      return img;
    };
    const foreign = uses(other);
    await stores().catalog.insertImage(foreign);
    const own = uses(owner);
    await stores().catalog.insertImage(own);
    await rejectsWith(m().deleteSnapshot(snap.id), "InvalidSnapshot.InUse");
    assert.equal((await m().getSnapshot(snap.id))?.state, "completed");
    await stores().catalog.deleteImage(own.id);
    // Another account's image on a shared snapshot does not pin it.
    assert.deepEqual(sorted(await m().deleteSnapshot(snap.id)), sorted([a, b]));
    assert.equal(await m().getSnapshot(snap.id), undefined);
    assert.deepEqual(await m().recordedRefs(snap.id), []);
    assert.deepEqual(await stores().catalog.tags(snap.id), []);
    assert.deepEqual(await stores().catalog.permissions(snap.id), []);
    assert.deepEqual(await m().deleteSnapshot(snap.id), []);
  });

  it("insertImage with snapshotsExist refuses a deleted or another owner's snapshot, and never lands on one a delete takes", async () => {
    const owner = account();
    const uses = (snapshotId: string, ownerId = owner) => {
      const img = image(ownerId, `needs-${snapshotId}-${ownerId}`);
      const [root] = img.blockDeviceMappings;
      if (root.ebs) root.ebs.snapshotId = snapshotId;
      return img;
    };
    const gone = await completedSnapshot(m(), owner, [{ block: 0, hash: hash() }]);
    await m().deleteSnapshot(gone.id);
    const onGone = uses(gone.id);
    await rejectsWith(
      stores().catalog.insertImage(onGone, [{ key: "k", value: "v" }], { snapshotsExist: true }),
      "InvalidSnapshot.NotFound",
    );
    assert.equal(await stores().catalog.getImage(onGone.id), undefined);
    assert.deepEqual(await stores().catalog.tags(onGone.id), []);
    const theirs = await completedSnapshot(m(), account(), [{ block: 0, hash: hash() }]);
    await rejectsWith(
      stores().catalog.insertImage(uses(theirs.id), [], { snapshotsExist: true }),
      "InvalidSnapshot.NotFound",
    );
    // Without the option (CreateImage names snapshots it has yet to make), nothing is checked.
    await stores().catalog.insertImage(uses(gone.id, account()));
    // A register racing a delete: exactly one wins, and an image never names a deleted snapshot.
    for (let i = 0; i < 5; i++) {
      const snap = await completedSnapshot(m(), owner, [{ block: 0, hash: hash() }]);
      const img = uses(snap.id);
      const [insert, del] = await Promise.allSettled([
        stores().catalog.insertImage(img, [], { snapshotsExist: true }),
        m().deleteSnapshot(snap.id),
      ]);
      const inserted = insert.status === "fulfilled";
      assert.equal(del.status === "fulfilled", !inserted, "one of the two wins");
      const lost = (inserted ? del : insert) as PromiseRejectedResult;
      assert.equal(lost.reason.code, inserted ? "InvalidSnapshot.InUse" : "InvalidSnapshot.NotFound");
      assert.equal((await stores().catalog.getImage(img.id)) !== undefined, inserted);
      assert.equal((await m().getSnapshot(snap.id)) !== undefined, inserted);
    }
  });

  it("snapshotStats and ownerSnapshotStats count unique and shared bytes, the latter only among the owner's snapshots", async () => {
    const [owner, other] = [account(), account()];
    const [a, b, c, d] = [hash(), hash(), hash(), hash()];
    const sizes: [string, number][] = [
      [a, 100],
      [b, 200],
      [c, 400],
      [d, 800],
    ];
    await m().addChunks(sizes.map(([x, n]) => ({ hash: x, storedBytes: n, pack: null, offset: 0 })));
    const s1 = await completedSnapshot(m(), owner, [
      { block: 0, hash: a },
      { block: 1, hash: b },
    ]);
    const s2 = await completedSnapshot(m(), owner, [
      { block: 0, hash: a },
      { block: 1, hash: c },
      { block: 2, hash: null },
    ]);
    const s3 = await completedSnapshot(m(), other, [
      { block: 0, hash: b },
      { block: 1, hash: d },
    ]);
    const stats = (blocks: number, stored: number, unique: number, gib = 8) => ({
      logicalBytes: gib * GIB,
      dataBytes: blocks * BLOCK_SIZE,
      storedBytes: stored,
      uniqueBytes: unique,
      sharedBytes: stored - unique,
    });
    assert.deepEqual(await m().snapshotStats(s1.id), stats(2, 300, 0));
    assert.deepEqual(await m().snapshotStats(s2.id), stats(2, 500, 400));
    assert.deepEqual(await m().snapshotStats(s3.id), stats(2, 1000, 800));
    // b is shared with another account's snapshot: to the owner it is unique.
    assert.deepEqual(await m().ownerSnapshotStats(owner, [s1.id]), stats(2, 300, 200));
    assert.deepEqual(await m().ownerSnapshotStats(owner, [s1.id, s1.id]), stats(2, 300, 200));
    assert.deepEqual(await m().ownerSnapshotStats(owner, [s1.id, s2.id]), stats(4, 700, 700, 16));
    assert.deepEqual(await m().ownerSnapshotStats(owner, [s3.id]), stats(0, 0, 0, 0));
    assert.deepEqual(await m().ownerSnapshotStats(owner, []), stats(0, 0, 0, 0));
  });

  it("snapshotsVisibleTo: own, shared with the account or with all; by owner, column patterns and pages", async () => {
    const [me, friend, stranger, hermit] = [account(), account(), account(), account()];
    const at = "2026-11-22T07:00:00.000Z";
    const mine1 = snapshot(me, { description: "web*[1]", startedAt: "2026-11-22T09:00:00.000Z" });
    const mine2 = snapshot(me, { state: "completed", startedAt: at });
    const shared = snapshot(friend, { state: "completed" });
    const open = snapshot(stranger, { state: "completed", description: "public" });
    const hidden = snapshot(hermit, { state: "completed" });
    for (const x of [mine1, mine2, shared, open, hidden]) await m().insertSnapshot(x);
    await stores().catalog.changePermissions(shared.id, [me, hermit], []);
    await stores().catalog.changePermissions(open.id, ["all"], []);
    const ids = async (scope?: Parameters<MetadataStore["snapshotsVisibleTo"]>[1]) =>
      (await m().snapshotsVisibleTo(me, scope)).map((x) => x.id);
    const everything = byteSorted([mine1.id, mine2.id, shared.id, open.id]);
    assert.deepEqual(await ids(), everything);
    assert.deepEqual(await ids({ ownerIds: [friend, hermit] }), [shared.id]);
    assert.deepEqual(await ids({ ownerIds: [me], where: [{ column: "state", patterns: ["pend?ng"] }] }), [
      mine1.id,
    ]);
    assert.deepEqual(
      await ids({ ownerIds: [me], where: [{ column: "description", patterns: ["web\\*\\[1]", "nothing"] }] }),
      [mine1.id],
    );
    assert.deepEqual(await ids({ ownerIds: [me, friend], after: everything[0], limit: 1 }), [
      byteSorted([mine1.id, mine2.id, shared.id]).filter((id) => id > everything[0])[0],
    ]);
    const got = await m().snapshotsVisibleTo(me, { ownerIds: [friend] });
    assert.deepEqual(got, [shared]);
    await stores().catalog.changePermissions(shared.id, [], [me]);
    assert.deepEqual(await ids({ ownerIds: [friend] }), []);
    // listSnapshots: oldest first.
    const listed = (await m().listSnapshots()).map((x) => x.id);
    assert.ok(listed.indexOf(mine2.id) < listed.indexOf(mine1.id));
  });
}
