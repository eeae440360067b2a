// The volume layer over a pool of only two descriptors for all volumes: every I/O of several
// volumes (hydration on worker threads included) competes for them, so descriptors are evicted
// and reopened all the time. A worker writing through a descriptor closed and reused by another
// file, or a flush missing a file written through a closed descriptor, shows up as wrong bytes.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Engine } from "../src/services/engine.ts";
import { GIB } from "../src/storage/blocks.ts";
import { BLOCK_SIZE, seededBytes, sha256, tempDir } from "./helpers.ts";

const TIB = 1024 * GIB;
const SIZE_GIB = 2048; // two segment files
// Blocks with data in each of the two segments.
const BLOCKS = [0, 1, 2, 7, 100, 2047, 2048 * 1024 - 1].flatMap((b) => [b, b + TIB / BLOCK_SIZE]);

function open(dataDir: string): Promise<Engine> {
  return Engine.open({ dataDir, regions: ["us-east-1"], maxOpenVolumeFiles: 2 });
}

test("with two descriptors for everything, restored volumes hydrate, read, write, grow and keep their bytes across a restart", async () => {
  const dataDir = tempDir();
  let engine = await open(dataDir);
  const restored: string[] = [];
  const own = (id: string, b: number) => seededBytes(`${id}/${b}`, 4096);
  const blockOf = (b: number) => seededBytes(`source/${b}`, BLOCK_SIZE);
  // A block after its partial write (bytes 100.. of it: the rest must come from the snapshot).
  const patched = (id: string, b: number) => {
    const block = blockOf(b);
    own(id, b).copy(block, 100);
    return block;
  };
  try {
    const r = engine.region("us-east-1");
    const source = await r.volumes.create({ sizeGiB: SIZE_GIB });
    const sh = await r.volumes.handle(source.id);
    for (const b of BLOCKS) await sh.write(b * BLOCK_SIZE, blockOf(b));
    const snap = await r.snapshots.wait((await r.snapshots.create(source.id)).id);
    assert.equal(snap.state, "completed");

    // Four restored volumes: their hydrators and these readers and writers all run at once.
    for (let i = 0; i < 4; i++) restored.push((await r.volumes.create({ snapshotId: snap.id })).id);
    await Promise.all(
      restored.map(async (id) => {
        const h = await r.volumes.handle(id);
        await Promise.all(
          BLOCKS.map(async (b) => {
            assert.equal(sha256(await h.read(b * BLOCK_SIZE, BLOCK_SIZE)), sha256(blockOf(b)));
            await h.write(b * BLOCK_SIZE + 100, own(id, b));
          }),
        );
      }),
    );
    for (const id of restored) {
      await r.volumes.hydrator(id)?.done;
      assert.equal((await r.volumes.handle(id)).hydration.remaining, 0);
    }
    // Grown by a third segment, which is then written, while the others are flushed.
    const grown = await r.volumes.modify(restored[0], { sizeGiB: SIZE_GIB + 1024 });
    assert.equal(grown.sizeGiB, SIZE_GIB + 1024);
    const gh = await r.volumes.handle(restored[0]);
    assert.equal(gh.sizeBytes, (SIZE_GIB + 1024) * GIB);
    await Promise.all([
      gh.write(2 * TIB + 12345, own("grown", 0)),
      ...restored.map(async (id) => (await r.volumes.handle(id)).flush()),
    ]);
    await gh.flush();
    assert.ok(engine.descriptors.held <= 2);
    assert.equal(readdirSync(join(dataDir, "regions", "us-east-1", "volumes", restored[0])).length, 3);
  } finally {
    await engine.close();
  }

  engine = await open(dataDir);
  try {
    const r = engine.region("us-east-1");
    for (const id of restored) {
      const h = await r.volumes.handle(id);
      for (const b of BLOCKS) {
        assert.equal(sha256(await h.read(b * BLOCK_SIZE, BLOCK_SIZE)), sha256(patched(id, b)));
      }
    }
    const gh = await r.volumes.handle(restored[0]);
    assert.equal(sha256(await gh.read(2 * TIB + 12345, 4096)), sha256(own("grown", 0)));
  } finally {
    await engine.close();
  }
});
