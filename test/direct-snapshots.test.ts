// Engine-level behaviour of EBS direct API snapshots that needs a clock: token expiry, timeouts.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { Engine } from "../src/services/engine.ts";
import { BLOCK_SIZE, seededBytes, tempDir } from "./helpers.ts";

const OWNER = "111111111111";
const b64 = (data: Buffer) => createHash("sha256").update(data).digest("base64");

test("block tokens expire; an unfinished snapshot times out to error and releases its blocks", async () => {
  const engine = await Engine.open({ dataDir: tempDir(), regions: ["us-east-1"], blockTokenTtlMs: 1 });
  try {
    const r = engine.region("us-east-1");
    const block = seededBytes("expiry", BLOCK_SIZE);
    const done = await r.direct.writes.start(OWNER, { volumeSizeGiB: 1 });
    await r.direct.writes.putBlock(OWNER, done.id, 3, block, b64(block));
    await r.direct.writes.complete(OWNER, done.id, 1);
    const { blocks } = await r.direct.reads.listBlocks(OWNER, done.id, 0, 100);
    await new Promise((res) => setTimeout(res, 1100));
    await assert.rejects(r.direct.reads.getBlock(OWNER, done.id, 3, blocks[0].token), {
      code: "ValidationException",
      reason: "INVALID_BLOCK_TOKEN",
      message: /expired/,
    });

    const before = await r.meta.chunkTotals();
    const pending = await r.direct.writes.start(OWNER, { volumeSizeGiB: 1, timeoutMinutes: 10 });
    const other = seededBytes("timeout", BLOCK_SIZE);
    // putBlock moves the buffer to a worker thread: hand it copies.
    await r.direct.writes.putBlock(OWNER, pending.id, 0, Buffer.from(other), b64(other));
    assert.equal((await r.meta.chunkTotals()).chunks, before.chunks + 1);
    assert.deepEqual(await r.direct.writes.expire(new Date(Date.now() + 5 * 60_000)), [], "not yet");
    // Each block written restarts the Timeout: once the clock has moved on, a second block puts
    // the expiry later, so the first expiry time no longer ends it.
    const firstExpiry = Date.parse((await r.snapshots.get(pending.id)).expiresAt!);
    while (Date.now() <= firstExpiry - 10 * 60_000) await new Promise((res) => setTimeout(res, 1));
    await r.direct.writes.putBlock(OWNER, pending.id, 1, Buffer.from(other), b64(other));
    const secondExpiry = Date.parse((await r.snapshots.get(pending.id)).expiresAt!);
    assert.ok(secondExpiry > firstExpiry, `${secondExpiry} > ${firstExpiry}`);
    assert.deepEqual(
      await r.direct.writes.expire(new Date(firstExpiry + 1)),
      [],
      "restarted by the second block",
    );
    assert.deepEqual(await r.direct.writes.expire(new Date(secondExpiry + 1)), [pending.id]);
    const failed = await r.snapshots.get(pending.id);
    assert.equal(failed.state, "error");
    assert.match(failed.stateMessage ?? "", /timed out/);
    assert.deepEqual(await r.meta.chunkTotals(), before, "its block was released");
    await assert.rejects(r.direct.writes.putBlock(OWNER, pending.id, 1, other, b64(other)), {
      code: "ValidationException",
    });
  } finally {
    await engine.close();
  }
});

test("a finished snapshot takes no more blocks, and a child cannot complete once its parent is gone", async () => {
  const engine = await Engine.open({ dataDir: tempDir(), regions: ["us-east-1"] });
  try {
    const r = engine.region("us-east-1");
    const block = seededBytes("parent", BLOCK_SIZE);
    const parent = await r.direct.writes.start(OWNER, { volumeSizeGiB: 1 });
    await r.direct.writes.putBlock(OWNER, parent.id, 0, Buffer.from(block), b64(block));
    await r.direct.writes.complete(OWNER, parent.id, 1);
    await assert.rejects(r.meta.addSnapshotBlocks(parent.id, [{ block: 5, hash: null }]), {
      code: "IncorrectState",
    });
    assert.deepEqual(
      (await r.meta.recordedRefs(parent.id)).map((b) => b.block),
      [0],
    );

    const child = await r.direct.writes.start(OWNER, { volumeSizeGiB: 1, parentSnapshotId: parent.id });
    await r.direct.writes.putBlock(OWNER, child.id, 9, Buffer.from(block), b64(block));
    await r.snapshots.delete(parent.id);
    await assert.rejects(r.direct.writes.complete(OWNER, child.id, 1), {
      code: "ValidationException",
      reason: "INVALID_DEPENDENCY_REQUEST",
    });
    assert.equal((await r.snapshots.get(child.id)).state, "pending");
  } finally {
    await engine.close();
  }
});

test("an image registered on a snapshot still being written turns available when it completes", async () => {
  const engine = await Engine.open({ dataDir: tempDir(), regions: ["us-east-1"] });
  try {
    const r = engine.region("us-east-1");
    const block = seededBytes("pending-image", BLOCK_SIZE);
    const snap = await r.direct.writes.start(OWNER, { volumeSizeGiB: 1 });
    await r.direct.writes.putBlock(OWNER, snap.id, 0, Buffer.from(block), b64(block));
    const image = await r.images.register(OWNER, {
      name: "written-later",
      blockDeviceMappings: [
        {
          deviceName: "/dev/xvda",
          ebs: { snapshotId: snap.id, deleteOnTermination: true, encrypted: false },
        },
      ],
    });
    assert.equal(image.state, "pending");
    await r.direct.writes.complete(OWNER, snap.id, 1);
    assert.equal((await r.images.wait(image.id)).state, "available");
  } finally {
    await engine.close();
  }
});
