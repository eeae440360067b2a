import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Engine } from "../src/services/engine.ts";
import type { Region } from "../src/services/regions/region.ts";
import { BLOCK_SIZE, MiB, openEngine, seededBytes, sha256, tempDir, textBlock } from "./helpers.ts";

const dataDir = tempDir();
let engine: Engine;
let r: Region;

before(async () => {
  engine = await openEngine(dataDir);
  r = engine.region("us-east-1");
});
after(() => engine.close());

async function volumeWith(sizeGiB: number, blocks: Map<number, Buffer>) {
  const v = await r.volumes.create({ sizeGiB });
  const h = await r.volumes.handle(v.id);
  for (const [i, data] of blocks) await h.write(i * BLOCK_SIZE, data);
  return { v, h };
}

/**
 * Holds the chunk locks of these blocks' contents: a snapshot job that must store one of them
 * stays pending (it cannot reach completion) until the returned release is called. Tests use it
 * to know, not assume, that a job is still running.
 */
function holdChunks(...blocks: Buffer[]): Promise<() => void> {
  return r.meta.lockChunks(blocks.map((b) => sha256(b)));
}

/** Polls `probe` until it returns a value; fails after `ms`. */
async function until<T>(probe: () => Promise<T | undefined>, what: string, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 5));
  }
}

/** `p`, or a failure naming `what` after `ms`. */
function within<T>(p: Promise<T>, what: string, ms = 60_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

async function snapshot(volumeId: string) {
  const s = await r.snapshots.wait((await r.snapshots.create(volumeId)).id);
  assert.equal(s.state, "completed", s.stateMessage ?? "");
  return s;
}

describe("incremental snapshots", () => {
  test("the first snapshot reads only written blocks; later ones only changed blocks", async () => {
    const content = new Map<number, Buffer>();
    for (let i = 0; i < 40; i++) content.set(i * 3, i % 2 ? textBlock(i) : seededBytes(`b${i}`, BLOCK_SIZE));
    const { v, h } = await volumeWith(2, content);

    const first = await snapshot(v.id);
    assert.equal(first.blocksRead, 40);
    assert.equal(first.parentSnapshotId, null);
    const firstStats = await r.snapshots.stats(first.id);
    assert.equal(firstStats.dataBytes, 40 * BLOCK_SIZE);
    assert.equal(firstStats.logicalBytes, 2 * 1024 * MiB);
    assert.ok(firstStats.storedBytes < 40 * BLOCK_SIZE, "text blocks are compressed");
    assert.equal(first.bytesStored, firstStats.storedBytes);

    // Change 2 blocks, zero one, and write one new block.
    await h.write(3 * BLOCK_SIZE + 100, Buffer.from("changed"));
    await h.write(6 * BLOCK_SIZE, seededBytes("new6", BLOCK_SIZE));
    await h.write(9 * BLOCK_SIZE, Buffer.alloc(BLOCK_SIZE));
    await h.write(1000 * BLOCK_SIZE, seededBytes("b1000", BLOCK_SIZE));
    const second = await snapshot(v.id);
    assert.equal(second.blocksRead, 4, "only the changed blocks are read");
    assert.equal(second.parentSnapshotId, first.id);
    assert.ok(second.bytesStored > 2 * BLOCK_SIZE && second.bytesStored < 4 * BLOCK_SIZE);
    const stats = await r.snapshots.stats(second.id);
    assert.equal(stats.dataBytes, 40 * BLOCK_SIZE, "one zeroed, one added");
    assert.equal(stats.uniqueBytes, second.bytesStored);
    assert.equal(stats.sharedBytes, stats.storedBytes - stats.uniqueBytes);

    // Unchanged volume: nothing read, nothing stored, same content.
    const third = await snapshot(v.id);
    assert.equal(third.blocksRead, 0);
    assert.equal(third.bytesStored, 0);

    // Each snapshot restores to exactly the content it captured.
    const expectFirst = Buffer.alloc(1001 * BLOCK_SIZE);
    for (const [i, d] of content) d.copy(expectFirst, i * BLOCK_SIZE);
    const restoredFirst = await r.volumes.create({ snapshotId: first.id });
    const rh = await r.volumes.handle(restoredFirst.id);
    assert.equal(sha256(await rh.read(0, 1001 * BLOCK_SIZE)), sha256(expectFirst));
    const restoredSecond = await r.volumes.handle((await r.volumes.create({ snapshotId: second.id })).id);
    assert.equal(
      sha256(await restoredSecond.read(0, 1001 * BLOCK_SIZE)),
      sha256(await h.read(0, 1001 * BLOCK_SIZE)),
    );
  });

  test("a volume restored from a snapshot and never written stores nothing new", async () => {
    const { v } = await volumeWith(1, new Map([[5, seededBytes("restore", BLOCK_SIZE)]]));
    const s = await snapshot(v.id);
    const restored = await r.volumes.create({ snapshotId: s.id });
    assert.equal(restored.sizeGiB, 1);
    const before = await r.meta.chunkTotals();
    const again = await snapshot(restored.id);
    assert.equal(again.blocksRead, 0);
    assert.equal(again.bytesStored, 0);
    assert.equal(again.parentSnapshotId, s.id);
    assert.deepEqual(await r.meta.chunkTotals(), before);
    assert.equal((await r.snapshots.stats(again.id)).dataBytes, BLOCK_SIZE);
  });

  test("identical content in different volumes is stored once (region-wide dedup)", async () => {
    const shared = seededBytes("dedup-shared", BLOCK_SIZE);
    const a = await volumeWith(
      1,
      new Map([
        [0, shared],
        [1, shared],
      ]),
    );
    const b = await volumeWith(1, new Map([[7, shared]]));
    const before = await r.meta.chunkTotals();
    const sa = await snapshot(a.v.id);
    const sb = await snapshot(b.v.id);
    assert.equal(sa.blocksRead, 2);
    assert.ok(sa.bytesStored > BLOCK_SIZE && sa.bytesStored <= BLOCK_SIZE + 1, "two equal blocks, one chunk");
    assert.equal(sb.bytesStored, 0);
    const afterTotals = await r.meta.chunkTotals();
    assert.equal(afterTotals.chunks - before.chunks, 1);
    assert.equal((await r.snapshots.stats(sb.id)).sharedBytes, sa.bytesStored);
  });

  test("a snapshot is point-in-time while the volume is being written (copy-on-write)", async () => {
    const blocks = new Map<number, Buffer>();
    for (let i = 0; i < 96; i++) blocks.set(i, seededBytes(`pit${i}`, BLOCK_SIZE));
    const { v, h } = await volumeWith(1, blocks);
    const expected = sha256(await h.read(0, 96 * BLOCK_SIZE));
    // The job cannot complete while block 0's old content is held, so every write below is
    // issued while it is pending, and some land (copy-on-write) before it is let go.
    const release = await holdChunks(blocks.get(0)!);
    const started = await r.snapshots.create(v.id);
    let landed = 0;
    const writes = [];
    for (let i = 95; i >= 0; i--) {
      writes.push(
        h.write(i * BLOCK_SIZE, seededBytes(`after${i}`, BLOCK_SIZE)).then(() => {
          landed++;
        }),
      );
    }
    await until(async () => (landed > 0 ? true : undefined), "a write to land", 60_000).finally(release);
    assert.equal((await r.snapshots.get(started.id)).state, "pending");
    await Promise.all(writes);
    const done = await r.snapshots.wait(started.id);
    assert.equal(done.state, "completed");
    const restored = await r.volumes.handle((await r.volumes.create({ snapshotId: done.id })).id);
    assert.equal(sha256(await restored.read(0, 96 * BLOCK_SIZE)), expected, "snapshot holds the old content");
    // The writes after the snapshot began are the next snapshot's changes.
    const next = await snapshot(v.id);
    assert.equal(next.blocksRead, 96);
    const restoredNext = await r.volumes.handle((await r.volumes.create({ snapshotId: next.id })).id);
    assert.equal(
      sha256(await restoredNext.read(0, 96 * BLOCK_SIZE)),
      sha256(await h.read(0, 96 * BLOCK_SIZE)),
    );
  });

  test("progress is reported while pending and is 100 when completed", async () => {
    const blocks = new Map<number, Buffer>();
    for (let i = 0; i < 200; i++) blocks.set(i, seededBytes(`prog${i}`, BLOCK_SIZE));
    const { v } = await volumeWith(1, blocks);
    // Nothing can be stored while every chunk is held; then all but the last block's.
    const holdLast = await holdChunks(blocks.get(199)!);
    const holdRest = await holdChunks(...[...blocks.values()].slice(0, 199));
    const s = await r.snapshots.create(v.id);
    assert.equal(s.state, "pending");
    assert.equal(s.progress, 0);
    assert.equal((await r.snapshots.get(s.id)).progress, 0, "nothing stored yet, nothing reported");
    holdRest();
    const midway = await until(async () => {
      const x = await r.snapshots.get(s.id);
      return x.progress > 0 ? x : undefined;
    }, "progress above 0").finally(holdLast);
    assert.equal(midway.state, "pending", "the last block was still held");
    assert.ok(midway.progress > 0 && midway.progress < 100, `progress ${midway.progress}`);
    const done = await r.snapshots.wait(s.id);
    assert.equal(done.state, "completed");
    assert.equal(done.progress, 100);
  });
});

describe("deleting snapshots", () => {
  test("delete frees exactly the chunks no other snapshot or volume references", async () => {
    const a = seededBytes("del-a", BLOCK_SIZE);
    const b = seededBytes("del-b", BLOCK_SIZE);
    const c = seededBytes("del-c", BLOCK_SIZE);
    const { v, h } = await volumeWith(
      1,
      new Map([
        [0, a],
        [1, b],
      ]),
    );
    const s1 = await snapshot(v.id);
    await h.write(BLOCK_SIZE, c); // b -> c
    const s2 = await snapshot(v.id);
    const before = await r.meta.chunkTotals();
    // b is referenced only by s1: deleting s1 frees b, keeps a (s2 and the volume use it).
    await r.snapshots.delete(s1.id);
    const afterS1 = await r.meta.chunkTotals();
    assert.equal(before.chunks - afterS1.chunks, 1);
    assert.deepEqual(
      await r.meta.liveChunks([sha256(a), sha256(b), sha256(c)]),
      new Set([sha256(a), sha256(c)]),
    );
    await assert.rejects(r.snapshots.get(s1.id), { code: "InvalidSnapshot.NotFound" });
    // s2's content is intact.
    const restored = await r.volumes.handle((await r.volumes.create({ snapshotId: s2.id })).id);
    assert.equal(sha256(await restored.read(0, 2 * BLOCK_SIZE)), sha256(Buffer.concat([a, c])));
    // b is gone from the block store too: no location, so no read (its bytes stay, dead, in the
    // pack a lives in, until that pack is repacked).
    await assert.rejects(r.blocks.read(sha256(b)), { code: "ChunkMissing" });
  });

  test("delete racing a snapshot that adds the same chunk never loses it", async () => {
    for (let round = 0; round < 20; round++) {
      const data = seededBytes(`race${round}`, BLOCK_SIZE);
      const a = await volumeWith(1, new Map([[0, data]]));
      const sa = await snapshot(a.v.id);
      await r.volumes.delete(a.v.id); // now only sa references the chunk
      const b = await volumeWith(1, new Map([[0, data]]));
      // Start the delete and a snapshot that needs the same chunk at the same moment.
      const [, sb] = await Promise.all([r.snapshots.delete(sa.id), snapshot(b.v.id)]);
      const restored = await r.volumes.handle((await r.volumes.create({ snapshotId: sb.id })).id);
      assert.equal(sha256(await restored.read(0, BLOCK_SIZE)), sha256(data), `round ${round}`);
      assert.deepEqual(await r.meta.liveChunks([sha256(data)]), new Set([sha256(data)]));
    }
  });

  test("deleting a pending snapshot cancels it and gives its changes back to the volume", async () => {
    const blocks = new Map<number, Buffer>();
    for (let i = 0; i < 300; i++) blocks.set(i, seededBytes(`cancel${i}`, BLOCK_SIZE));
    const { v, h } = await volumeWith(1, blocks);
    const release = await holdChunks(blocks.get(0)!);
    const s = await r.snapshots.create(v.id);
    assert.equal((await r.snapshots.get(s.id)).state, "pending");
    // Let the job go only once the delete has cancelled it (the job is the volume's write hook).
    const job = h.hook as unknown as { cancel(): void };
    const cancel = job.cancel.bind(job);
    const cancelled = new Promise<void>((res) => {
      job.cancel = () => {
        cancel();
        res();
      };
    });
    const deleting = r.snapshots.delete(s.id);
    await within(
      Promise.race([
        cancelled,
        deleting.then(() => assert.fail("the delete finished without cancelling the job")),
      ]),
      "the delete to cancel the job",
    ).finally(release);
    await deleting;
    await assert.rejects(r.snapshots.get(s.id), { code: "InvalidSnapshot.NotFound" });
    const next = await snapshot(v.id);
    assert.equal(next.blocksRead, 300, "the cancelled snapshot's changes are captured by the next one");
  });
});

describe("bad input changes nothing", () => {
  test("typed errors for unknown ids, sizes out of range and busy volumes", async () => {
    const volumesBefore = (await r.volumes.list()).length;
    const snapshotsBefore = (await r.snapshots.list()).length;
    for (const sizeGiB of [0, -1, 16385, 1.5, Number.NaN]) {
      await assert.rejects(
        r.volumes.create({ sizeGiB }),
        { code: "InvalidParameterValue" },
        `size ${sizeGiB}`,
      );
    }
    await assert.rejects(r.volumes.create({}), { code: "MissingParameter" });
    await assert.rejects(r.volumes.create({ snapshotId: "snap-00000000000000000" }), {
      code: "InvalidSnapshot.NotFound",
    });
    await assert.rejects(r.snapshots.create("vol-00000000000000000"), { code: "InvalidVolume.NotFound" });
    await assert.rejects(r.snapshots.delete("snap-00000000000000000"), { code: "InvalidSnapshot.NotFound" });
    await assert.rejects(r.volumes.delete("vol-00000000000000000"), { code: "InvalidVolume.NotFound" });
    await assert.rejects(engine.copySnapshot("us-east-1", "snap-00000000000000000", "eu-west-1"), {
      code: "InvalidSnapshot.NotFound",
    });
    await assert.rejects(engine.copySnapshot("us-east-1", "snap-00000000000000000", "mars-north-1"), {
      code: "InvalidRegion",
    });

    const { v, h } = await volumeWith(1, new Map([[0, seededBytes("small", BLOCK_SIZE)]]));
    await assert.rejects(r.volumes.create({ snapshotId: (await snapshot(v.id)).id, sizeGiB: 0 }), {
      code: "InvalidParameterValue",
    });
    await assert.rejects(h.write(1024 * MiB - 10, Buffer.alloc(20)), { code: "InvalidParameterValue" });
    await assert.rejects(h.read(-1, 10), { code: "InvalidParameterValue" });

    // A second snapshot while one is pending, and deleting the volume meanwhile, are refused.
    for (let i = 1; i < 200; i++) await h.write(i * BLOCK_SIZE, seededBytes(`busy${i}`, BLOCK_SIZE));
    const release = await holdChunks(seededBytes("busy1", BLOCK_SIZE));
    const pending = await r.snapshots.create(v.id);
    try {
      assert.equal((await r.snapshots.get(pending.id)).state, "pending");
      await assert.rejects(r.snapshots.create(v.id), { code: "SnapshotCreationPerVolumeRateExceeded" });
      await assert.rejects(r.volumes.delete(v.id), { code: "VolumeInUse" });
    } finally {
      release();
    }
    assert.equal((await r.snapshots.wait(pending.id)).state, "completed");

    assert.equal((await r.volumes.list()).length, volumesBefore + 1);
    assert.equal((await r.snapshots.list()).length, snapshotsBefore + 2);
  });

  test("a restore from a pending snapshot is refused", async () => {
    const blocks = new Map<number, Buffer>();
    for (let i = 0; i < 200; i++) blocks.set(i, seededBytes(`pend${i}`, BLOCK_SIZE));
    const { v } = await volumeWith(1, blocks);
    const release = await holdChunks(blocks.get(0)!);
    const s = await r.snapshots.create(v.id);
    try {
      assert.equal((await r.snapshots.get(s.id)).state, "pending");
      await assert.rejects(r.volumes.create({ snapshotId: s.id }), { code: "IncorrectState" });
    } finally {
      release();
    }
    assert.equal((await r.snapshots.wait(s.id)).state, "completed");
    // Once completed, the same restore works: the refusal was about the state.
    await r.volumes.create({ snapshotId: s.id });
  });
});

describe("multi-volume snapshots", () => {
  test("snapshots of several volumes share one point in time while all are being written", async () => {
    const vols = [];
    for (let v = 0; v < 3; v++) {
      const blocks = new Map<number, Buffer>();
      for (let i = 0; i < 40; i++) blocks.set(i, seededBytes(`multi${v}-${i}`, BLOCK_SIZE));
      vols.push(await volumeWith(1, blocks));
    }
    const expected = await Promise.all(vols.map(async ({ h }) => sha256(await h.read(0, 40 * BLOCK_SIZE))));
    // Every job stays pending while its volume's block 0 is held: the writes below all happen
    // while the set is being taken, and some land before any job may finish.
    const release = await holdChunks(...[0, 1, 2].map((v) => seededBytes(`multi${v}-0`, BLOCK_SIZE)));
    const snaps = await r.snapshots.createMany(
      vols.map(({ v }) => v.id),
      "consistent set",
    );
    // Overwrite every volume right away; none of it may reach the set.
    let landed = 0;
    const writes = vols.flatMap(({ h }, v) =>
      Array.from({ length: 40 }, (_, i) =>
        h.write(i * BLOCK_SIZE, seededBytes(`later${v}-${i}`, BLOCK_SIZE)).then(() => {
          landed++;
        }),
      ),
    );
    await until(async () => (landed > 0 ? true : undefined), "a write to land").finally(release);
    await Promise.all(writes);
    assert.deepEqual(
      snaps.map((s) => s.volumeId),
      vols.map(({ v }) => v.id),
    );
    for (const [k, s] of snaps.entries()) {
      assert.equal((await r.snapshots.wait(s.id)).state, "completed");
      const restored = await r.volumes.handle((await r.volumes.create({ snapshotId: s.id })).id);
      assert.equal(sha256(await restored.read(0, 40 * BLOCK_SIZE)), expected[k]);
    }
  });
});
