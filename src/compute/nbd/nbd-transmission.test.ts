// NBD requests with a raw client: fragmented and pipelined input, error replies, backpressure.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { NbdExport } from "./nbd-export.ts";
import {
  NBD_CMD_FLAG_FUA,
  NBD_CMD_FLAG_NO_HOLE,
  NBD_CMD_FLUSH,
  NBD_CMD_READ,
  NBD_CMD_TRIM,
  NBD_CMD_WRITE,
  NBD_CMD_WRITE_ZEROES,
  NBD_EINVAL,
  NBD_EIO,
  NBD_ENOSPC,
  NBD_EPERM,
  NBD_FLAG_READ_ONLY,
  NBD_FLAG_SEND_TRIM,
} from "./nbd-protocol.ts";
import { encodeRequest, MemoryExport, RawClient, startServer } from "./test-tools.ts";

const MiB = 1024 * 1024;
const TiB = 2 ** 40;
const tick = () => new Promise((r) => setImmediate(r));

/** A 1 TiB export of zeros that ignores writes. */
const huge: NbdExport = {
  sizeBytes: TiB,
  read: async (_offset, length) => Buffer.alloc(length),
  write: async () => {},
  flush: async () => {},
  trim: async () => {},
};

describe("NBD transmission", () => {
  const exports = new Map<string, NbdExport>([["huge", huge]]);
  let s: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    s = await startServer((name) => exports.get(name));
  });
  after(() => s.stop());

  async function client(name: string): Promise<RawClient> {
    const c = await RawClient.connect(s.socket);
    await c.go(name);
    return c;
  }

  test("requests arriving a byte at a time, or many in one write, are all answered", async () => {
    const vol = new MemoryExport(MiB, { fill: Buffer.alloc(MiB, 0xee) });
    exports.set("mem", vol);
    const c = await client("mem");
    const stream = Buffer.concat([
      encodeRequest(NBD_CMD_WRITE, 1, 100, 11, 0, Buffer.from("hello world")),
      encodeRequest(NBD_CMD_WRITE_ZEROES, 2, 4096, 8192, NBD_CMD_FLAG_NO_HOLE),
      encodeRequest(NBD_CMD_TRIM, 3, 65536, 4096, NBD_CMD_FLAG_FUA),
      encodeRequest(NBD_CMD_FLUSH, 4, 0, 0),
    ]);
    for (const byte of stream) {
      c.socket.write(Buffer.of(byte));
      await tick();
    }
    const replies = [await c.reply(), await c.reply(), await c.reply(), await c.reply()];
    assert.deepEqual(replies.map((r) => [r.cookie, r.error]).sort(), [
      [1, 0],
      [2, 0],
      [3, 0],
      [4, 0],
    ]);
    assert.equal(vol.data.toString("latin1", 100, 111), "hello world");
    assert.ok(vol.data.subarray(4096, 12288).every((b) => b === 0));
    assert.equal(vol.data[12288], 0xee);
    assert.equal(vol.trims, 1);
    assert.equal(vol.flushes, 2); // FUA, FLUSH

    const lengths: Record<number, number> = { 5: 11, 6: 16, 7: 4 };
    c.socket.write(
      Buffer.concat([encodeRequest(NBD_CMD_READ, 5, 100, 11), encodeRequest(NBD_CMD_READ, 6, 4090, 16)]),
    );
    c.request(NBD_CMD_READ, 7, MiB - 4, 4);
    const reads = new Map<number, Buffer>();
    for (let i = 0; i < 3; i++) {
      const r = await c.reply((cookie) => lengths[cookie]);
      reads.set(r.cookie, r.data);
    }
    assert.equal(reads.get(5)?.toString("latin1"), "hello world");
    assert.deepEqual(reads.get(6), Buffer.concat([Buffer.alloc(6, 0xee), Buffer.alloc(10)]));
    assert.deepEqual(reads.get(7), Buffer.alloc(4, 0xee));
    c.socket.end();
  });

  test("bad ranges, flags and commands get error replies and the connection carries on", async () => {
    const c = await client("huge");
    const cases: [type: number, offset: number | bigint, length: number, flags: number, error: number][] = [
      [NBD_CMD_READ, TiB - 4096, 4096, 0, 0],
      [NBD_CMD_READ, TiB - 4096, 4097, 0, NBD_EINVAL],
      [NBD_CMD_READ, 0, 32 * MiB + 1, 0, NBD_EINVAL],
      [NBD_CMD_READ, 2n ** 63n, 1, 0, NBD_EINVAL],
      [NBD_CMD_READ, 0, 0, 0, 0],
      [NBD_CMD_READ, 0, 512, NBD_CMD_FLAG_FUA, 0],
      [NBD_CMD_READ, 0, 512, 1 << 7, NBD_EINVAL],
      [NBD_CMD_READ, 0, 512, NBD_CMD_FLAG_NO_HOLE, NBD_EINVAL],
      [NBD_CMD_WRITE_ZEROES, TiB - 1, 2, 0, NBD_ENOSPC],
      [NBD_CMD_WRITE_ZEROES, 0, 2 ** 32 - 1, NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FUA, 0],
      [NBD_CMD_TRIM, TiB, 1, 0, NBD_EINVAL],
      [NBD_CMD_TRIM, 0, 2 ** 32 - 1, 0, 0],
      [NBD_CMD_FLUSH, 0, 0, 0, 0],
      [5 /* CACHE */, 0, 512, 0, NBD_EINVAL],
      [7 /* BLOCK_STATUS */, 0, 512, 0, NBD_EINVAL],
      [99, 0, 0, 0, NBD_EINVAL],
    ];
    for (const [i, [type, offset, length, flags, error]] of cases.entries()) {
      c.request(type, i, offset, length, flags);
      const reply = await c.reply(type === NBD_CMD_READ ? length : 0);
      assert.deepEqual([reply.cookie, reply.error], [i, error], `case ${i}`);
    }
    // A refused WRITE's payload is still consumed.
    c.request(NBD_CMD_WRITE, 100, TiB - 2, 4, 0, Buffer.from("abcd"));
    c.request(NBD_CMD_WRITE, 101, 0, 4, NBD_CMD_FLAG_NO_HOLE, Buffer.from("abcd"));
    c.request(NBD_CMD_WRITE, 102, 0, 4, NBD_CMD_FLAG_FUA, Buffer.from("abcd"));
    const writes = [await c.reply(), await c.reply(), await c.reply()];
    assert.deepEqual(
      writes.map((r) => [r.cookie, r.error]),
      [
        [100, NBD_ENOSPC],
        [101, NBD_EINVAL],
        [102, 0],
      ],
    );
    c.socket.end();
  });

  test("read-only exports refuse changes; exports without trim refuse TRIM", async () => {
    exports.set("ro", new MemoryExport(MiB, { readOnly: true }));
    const ro = await RawClient.connect(s.socket);
    assert.ok((await ro.go("ro")).flags & NBD_FLAG_READ_ONLY);
    ro.request(NBD_CMD_WRITE, 1, 0, 4, 0, Buffer.from("abcd"));
    ro.request(NBD_CMD_TRIM, 2, 0, 4096);
    ro.request(NBD_CMD_WRITE_ZEROES, 3, 0, 4096);
    ro.request(NBD_CMD_FLUSH, 4, 0, 0);
    ro.request(NBD_CMD_READ, 5, 0, 4);
    const errors: number[][] = [];
    for (let i = 0; i < 5; i++) {
      const r = await ro.reply((cookie) => (cookie === 5 ? 4 : 0));
      errors.push([r.cookie, r.error]);
    }
    assert.deepEqual(errors, [
      [1, NBD_EPERM],
      [2, NBD_EPERM],
      [3, NBD_EPERM],
      [4, 0],
      [5, 0],
    ]);
    ro.socket.end();

    const { trim: _, ...noTrim } = huge;
    exports.set("no-trim", noTrim);
    const c = await RawClient.connect(s.socket);
    assert.equal((await c.go("no-trim")).flags & (NBD_FLAG_SEND_TRIM | NBD_FLAG_READ_ONLY), 0);
    c.request(NBD_CMD_TRIM, 1, 0, 4096);
    assert.equal((await c.reply()).error, NBD_EINVAL);
    c.socket.end();
  });

  test("a failing backend gives NBD_EIO, logged, and the connection carries on", async () => {
    const vol = new MemoryExport(MiB);
    vol.failReads = true;
    exports.set("failing", vol);
    const c = await client("failing");
    c.request(NBD_CMD_READ, 1, 0, 512);
    assert.equal((await c.reply(512)).error, NBD_EIO);
    assert.ok(s.logs.some((l) => l.includes("READ offset=0 length=512 failed: simulated disk failure")));
    c.request(NBD_CMD_WRITE, 2, 0, 2, 0, Buffer.from("ok"));
    assert.equal((await c.reply()).error, 0);
    c.socket.end();
  });

  test("a WRITE over 32 MiB or a bad request magic ends that connection only", async () => {
    const c1 = await client("huge");
    c1.request(NBD_CMD_WRITE, 1, 0, 32 * MiB + 1);
    await c1.untilClosed();
    const c2 = await client("huge");
    c2.socket.write(Buffer.alloc(28, 0x55));
    await c2.untilClosed();
    assert.ok(s.logs.some((l) => l.includes(`WRITE of ${32 * MiB + 1} bytes`)));
    assert.ok(s.logs.some((l) => l.includes("bad request magic")));
    const c3 = await client("huge");
    c3.request(NBD_CMD_FLUSH, 1, 0, 0);
    assert.equal((await c3.reply()).error, 0);
    c3.socket.end();
  });

  test("no more than 64 requests of a connection run at once", async () => {
    const vol = new MemoryExport(MiB);
    vol.readDelayMs = 10;
    exports.set("slow", vol);
    const c = await client("slow");
    const count = 300;
    c.socket.write(
      Buffer.concat(Array.from({ length: count }, (_, i) => encodeRequest(NBD_CMD_READ, i, 0, 4096))),
    );
    const cookies = new Set<number>();
    for (let i = 0; i < count; i++) cookies.add((await c.reply(4096)).cookie);
    assert.equal(cookies.size, count);
    assert.ok(vol.maxActive > 1 && vol.maxActive <= 64, `maxActive ${vol.maxActive}`);
    c.socket.end();
  });
});
