// Engine-internal snapshots (checkpoints, volume moves): only a volume's latest is kept, and it
// must stay, since a host taking the volume over restores from it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createInternal, INTERNAL_OWNER } from "../src/services/snapshots/internal-snapshots.ts";
import { BLOCK_SIZE, openEngine, seededBytes, tempDir } from "./helpers.ts";

test("two internal snapshots of a volume one after the other: the later one is the one kept", async () => {
  // A checkpoint and a volume move of one volume: the first one's clean-up, polling for its own
  // snapshot to complete, found the second one already completed and deleted it, though it was
  // the volume's last snapshot (the one a takeover restores from); the second then failed.
  const engine = await openEngine(tempDir(), ["us-east-1"], false);
  try {
    const r = engine.region("us-east-1");
    const v = await r.volumes.create({ sizeGiB: 1 });
    const h = await r.volumes.handle(v.id);
    for (let round = 0; round < 4; round++) {
      await h.write(round * BLOCK_SIZE, seededBytes(`round ${round}`, BLOCK_SIZE));
      const first = createInternal(r.snapshots, v.id, `first ${round}`);
      // The first one's snapshot completes; its caller notices at its next poll.
      let pending: string | undefined;
      while (!pending) {
        pending = (await r.meta.pendingSnapshots()).find((s) => s.volumeId === v.id)?.id;
        if (!pending) await new Promise((res) => setImmediate(res));
      }
      await r.snapshots.wait(pending);
      const second = createInternal(r.snapshots, v.id, `second ${round}`);
      const [a, b] = await Promise.all([first, second]);
      const last = (await r.volumes.get(v.id)).lastSnapshotId;
      assert.equal(last, b.id, "the later snapshot is the volume's last");
      assert.equal((await r.snapshots.get(b.id)).state, "completed");
      const internal = (await r.snapshots.list()).filter(
        (s) => s.volumeId === v.id && s.ownerId === INTERNAL_OWNER,
      );
      assert.deepEqual(
        internal.map((s) => s.id),
        [b.id],
        `round ${round}: only the latest is kept (${a.id} goes)`,
      );
    }
  } finally {
    await engine.close();
  }
});
