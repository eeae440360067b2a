import assert from "node:assert/strict";
import { fstatSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, test } from "node:test";
import { DescriptorPool } from "./descriptor-pool.ts";

const dir = mkdtempSync(join(tmpdir(), "strata-descriptor-pool-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function files(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const p = join(dir, `${prefix}-${i}`);
    writeFileSync(p, Buffer.alloc(4096));
    return p;
  });
}

/** A real opener that records opens, closes and datasyncs, and how many descriptors are open. */
function tracking(options: { osLimit?: number } = {}) {
  const live = new Set<FileHandle>();
  const log: string[] = [];
  let peak = 0;
  const openFile = async (path: string): Promise<FileHandle> => {
    if (options.osLimit !== undefined && live.size >= options.osLimit) {
      throw Object.assign(new Error("EMFILE: too many open files"), { code: "EMFILE" });
    }
    const fh = await open(path, "r+");
    live.add(fh);
    peak = Math.max(peak, live.size);
    log.push(`open ${basename(path)}`);
    const close = fh.close.bind(fh);
    fh.close = async () => {
      await close();
      live.delete(fh);
      log.push(`close ${basename(path)}`);
    };
    const datasync = fh.datasync.bind(fh);
    fh.datasync = async () => {
      log.push(`sync ${basename(path)}`);
      await datasync();
    };
    return fh;
  };
  return {
    openFile,
    log,
    get live() {
      return live.size;
    },
    get peak() {
      return peak;
    },
  };
}

/** Resolves after n turns of the event loop (lets other I/O interleave; no timing assumed). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

test("many concurrent users of many files never hold more than the limit, and each I/O lands in its own file", async () => {
  const paths = files("bound", 12);
  const t = tracking();
  const pool = new DescriptorPool(3, t.openFile);
  let maxHeld = 0;
  const user = (i: number) =>
    pool.use(
      paths[(i * 7) % paths.length],
      async (fh) => {
        maxHeld = Math.max(maxHeld, pool.held);
        await turns(i % 5);
        // Each user writes its own 16 bytes: a descriptor shared by the wrong file would show.
        await fh.write(Buffer.from(`user ${String(i).padStart(11, "0")}`), 0, 16, i * 16);
      },
      true,
    );
  // Four waves of 60 concurrent users: each wave needs every file again, after the previous
  // wave's were evicted.
  for (let wave = 0; wave < 4; wave++) {
    await Promise.all(Array.from({ length: 60 }, (_, i) => user(wave * 60 + i)));
  }
  assert.equal(t.peak, 3, "three files in use at once, never more");
  assert.ok(maxHeld <= 3, `pool held ${maxHeld}`);
  assert.ok(t.log.filter((l) => l.startsWith("open")).length > 12, "files were evicted and reopened");
  for (let i = 0; i < 240; i++) {
    const content = readFileSync(paths[(i * 7) % paths.length]);
    assert.equal(content.subarray(i * 16, i * 16 + 16).toString(), `user ${String(i).padStart(11, "0")}`);
  }
  await pool.closeAll();
  assert.equal(t.live, 0);
  assert.equal(pool.held, 0);
});

test("a pinned descriptor is never closed: a user of another file waits for its release", async () => {
  const [a, b] = files("pinned", 2);
  const t = tracking();
  const pool = new DescriptorPool(1, t.openFile);
  const leaseA = await pool.acquire(a, true);
  let gotB = false;
  const pendingB = pool.acquire(b).then((l) => {
    gotB = true;
    return l;
  });
  await turns(20);
  assert.equal(gotB, false, "b must wait: the only slot is pinned");
  // a's descriptor number is still a's file (a worker thread could be writing through it).
  assert.equal(fstatSync(leaseA.fd).ino, statSync(a).ino);
  assert.deepEqual(t.log, ["open pinned-0"]);
  leaseA.release();
  const leaseB = await pendingB;
  assert.deepEqual(t.log, ["open pinned-0", "close pinned-0", "open pinned-1"]);
  assert.equal(fstatSync(leaseB.fd).ino, statSync(b).ino);
  leaseB.release();
  await pool.closeAll();
});

test("closing a file in use waits for its last release; other users of it wait, then reopen", async () => {
  const [a] = files("doomed", 1);
  const t = tracking();
  const pool = new DescriptorPool(4, t.openFile);
  const lease = await pool.acquire(a);
  await pool.close([a]);
  assert.equal(t.live, 1, "pinned: not closed yet");
  assert.equal(fstatSync(lease.fd).ino, statSync(a).ino);
  let reopened = false;
  const next = pool.use(a, async () => {
    reopened = true;
  });
  await turns(20);
  assert.equal(reopened, false, "a new user does not get the descriptor that is closing");
  lease.release();
  await next;
  assert.deepEqual(t.log, ["open doomed-0", "close doomed-0", "open doomed-0"]);
  await pool.closeAll();
  assert.equal(t.live, 0);
});

test("the least recently used idle descriptor is the one evicted", async () => {
  const [a, b, c, d] = files("lru", 4);
  const t = tracking();
  const pool = new DescriptorPool(3, t.openFile);
  const touch = (p: string) => pool.use(p, async () => {});
  await touch(a);
  await touch(b);
  await touch(c);
  await touch(a); // a is now the most recent: b is the least
  await touch(d);
  assert.deepEqual(
    pool.openPaths.map((p) => basename(p)),
    ["lru-2", "lru-0", "lru-3"],
  );
  assert.deepEqual(t.log.slice(3), ["close lru-1", "open lru-3"]);
  // A pinned least recently used one is skipped: c, pinned, becomes the oldest.
  const pinned = await pool.acquire(c);
  await touch(a);
  await touch(d);
  assert.deepEqual(
    pool.openPaths.map((p) => basename(p)),
    ["lru-2", "lru-0", "lru-3"],
  );
  await touch(b);
  assert.deepEqual(
    pool.openPaths.map((p) => basename(p)),
    ["lru-2", "lru-3", "lru-1"],
  );
  assert.deepEqual(t.log.slice(-2), ["close lru-0", "open lru-1"]);
  pinned.release();
  await pool.closeAll();
});

test("sync covers files written since their last sync, also through a descriptor since closed", async () => {
  const [a, b, c] = files("sync", 3);
  const t = tracking();
  const pool = new DescriptorPool(1, t.openFile);
  await pool.use(a, (fh) => fh.write(Buffer.from("A"), 0, 1, 0), true);
  await pool.use(b, (fh) => fh.read(Buffer.alloc(1), 0, 1, 0)); // read only: nothing to sync
  await pool.use(c, (fh) => fh.write(Buffer.from("C"), 0, 1, 0), true);
  t.log.length = 0;
  await pool.sync([a, b, c]);
  // a was closed (evicted) after its write: it is reopened to be synced; b is not synced at all.
  assert.deepEqual(t.log, [
    "close sync-2",
    "open sync-0",
    "sync sync-0",
    "close sync-0",
    "open sync-2",
    "sync sync-2",
  ]);
  t.log.length = 0;
  await pool.sync([a, b, c]);
  assert.deepEqual(t.log, [], "nothing written since");
  await pool.closeAll();
});

test("a failed open gives its slot back", async () => {
  const [a] = files("failed", 1);
  const pool = new DescriptorPool(1);
  await assert.rejects(
    pool.use(join(dir, "missing"), async () => {}),
    { code: "ENOENT" },
  );
  assert.equal(pool.held, 0);
  assert.equal(await pool.use(a, async (fh) => (await fh.stat()).size), 4096);
  await pool.closeAll();
});

test("out of descriptors in the process (EMFILE), the pool gives up idle ones and retries", async () => {
  const paths = files("emfile", 4);
  const t = tracking({ osLimit: 2 });
  const pool = new DescriptorPool(10, t.openFile);
  for (const p of paths) await pool.use(p, async () => {});
  assert.equal(t.peak, 2);
  assert.deepEqual(
    pool.openPaths.map((p) => basename(p)),
    ["emfile-2", "emfile-3"],
  );
  // Nothing idle to give up: the error reaches the caller.
  const pins = await Promise.all(paths.slice(2).map((p) => pool.acquire(p)));
  await assert.rejects(
    pool.use(paths[0], async () => {}),
    { code: "EMFILE" },
  );
  for (const l of pins) l.release();
  await pool.closeAll();
});

test("the limit must be a positive integer", () => {
  assert.throws(() => new DescriptorPool(0), /positive integer/);
  assert.throws(() => new DescriptorPool(1.5), /positive integer/);
});
