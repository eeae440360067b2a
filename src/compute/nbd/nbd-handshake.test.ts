// The NBD handshake byte by byte, with a raw client: options, replies, and what ends a connection.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { NbdExport } from "./nbd-export.ts";
import {
  NBD_CMD_READ,
  NBD_FLAG_CAN_MULTI_CONN,
  NBD_FLAG_FIXED_NEWSTYLE,
  NBD_FLAG_HAS_FLAGS,
  NBD_FLAG_NO_ZEROES,
  NBD_FLAG_SEND_FLUSH,
  NBD_FLAG_SEND_FUA,
  NBD_FLAG_SEND_TRIM,
  NBD_FLAG_SEND_WRITE_ZEROES,
  NBD_INFO_BLOCK_SIZE,
  NBD_INFO_EXPORT,
  NBD_INFO_NAME,
  NBD_OPT_ABORT,
  NBD_OPT_EXPORT_NAME,
  NBD_OPT_EXTENDED_HEADERS,
  NBD_OPT_GO,
  NBD_OPT_INFO,
  NBD_OPT_LIST,
  NBD_OPT_LIST_META_CONTEXT,
  NBD_OPT_SET_META_CONTEXT,
  NBD_OPT_STARTTLS,
  NBD_OPT_STRUCTURED_REPLY,
  NBD_REP_ACK,
  NBD_REP_ERR_INVALID,
  NBD_REP_ERR_UNKNOWN,
  NBD_REP_ERR_UNSUP,
  NBD_REP_INFO,
} from "./nbd-protocol.ts";
import { infoRequest, MemoryExport, RawClient, startServer } from "./test-tools.ts";

const vol = new MemoryExport(1024 * 1024, { fill: Buffer.alloc(1024 * 1024, 0x42) });
const exports: Record<string, NbdExport> = { vol, "slow-vol": vol };
const FLAGS =
  NBD_FLAG_HAS_FLAGS |
  NBD_FLAG_SEND_FLUSH |
  NBD_FLAG_SEND_FUA |
  NBD_FLAG_SEND_TRIM |
  NBD_FLAG_SEND_WRITE_ZEROES |
  NBD_FLAG_CAN_MULTI_CONN;

describe("NBD handshake", () => {
  let s: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    s = await startServer(async (name) => {
      if (name === "throws") throw new Error("catalog unavailable");
      if (name === "bad-size") return { sizeBytes: -1, read: vol.read, write: vol.write, flush: vol.flush };
      if (name === "slow-vol") await new Promise((r) => setTimeout(r, 20));
      return exports[name];
    });
  });
  after(() => s.stop());

  async function readFirstBlock(c: RawClient): Promise<void> {
    c.request(NBD_CMD_READ, 7, 0, 4);
    const reply = await c.reply(4);
    assert.deepEqual(reply, { error: 0, cookie: 7, data: Buffer.alloc(4, 0x42) });
  }

  test("options other than the export's are answered without ending the negotiation", async () => {
    const c = await RawClient.connect(s.socket);
    assert.equal(await c.hello(), NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
    const cases: [number, Buffer, number][] = [
      [NBD_OPT_LIST, Buffer.alloc(0), NBD_REP_ERR_UNSUP],
      [NBD_OPT_LIST, Buffer.from("x"), NBD_REP_ERR_INVALID],
      [NBD_OPT_STARTTLS, Buffer.alloc(0), NBD_REP_ERR_UNSUP],
      [NBD_OPT_STRUCTURED_REPLY, Buffer.alloc(0), NBD_REP_ERR_UNSUP],
      [NBD_OPT_LIST_META_CONTEXT, infoRequest("vol"), NBD_REP_ERR_UNSUP],
      [NBD_OPT_SET_META_CONTEXT, infoRequest("vol"), NBD_REP_ERR_UNSUP],
      [NBD_OPT_EXTENDED_HEADERS, Buffer.alloc(0), NBD_REP_ERR_UNSUP],
      [999, Buffer.from("whatever"), NBD_REP_ERR_UNSUP],
      [NBD_OPT_INFO, Buffer.from("abc"), NBD_REP_ERR_INVALID],
      [NBD_OPT_GO, Buffer.concat([infoRequest("vol"), Buffer.alloc(1)]), NBD_REP_ERR_INVALID],
      [NBD_OPT_GO, infoRequest("no-such-volume"), NBD_REP_ERR_UNKNOWN],
      [NBD_OPT_GO, infoRequest("throws"), NBD_REP_ERR_UNKNOWN],
      [NBD_OPT_INFO, infoRequest("bad-size"), NBD_REP_ERR_UNKNOWN],
    ];
    for (const [option, data, expected] of cases) {
      c.sendOption(option, data);
      const reply = await c.optionReply();
      assert.deepEqual([reply.option, reply.type], [option, expected], `option ${option}`);
    }
    assert.ok(s.logs.some((l) => l.includes("catalog unavailable")));
    assert.ok(s.logs.some((l) => l.includes("invalid size -1")));

    // INFO, then GO on an async-resolved export: both answer NBD_INFO_EXPORT and NBD_INFO_BLOCK_SIZE.
    for (const option of [NBD_OPT_INFO, NBD_OPT_GO]) {
      c.sendOption(option, infoRequest("slow-vol", [NBD_INFO_NAME, NBD_INFO_BLOCK_SIZE, 1234]));
      const infos = new Map<number, Buffer>();
      for (let r = await c.optionReply(); r.type !== NBD_REP_ACK; r = await c.optionReply()) {
        assert.equal(r.type, NBD_REP_INFO);
        infos.set(r.data.readUInt16BE(0), r.data.subarray(2));
      }
      assert.deepEqual([...infos.keys()].sort(), [NBD_INFO_EXPORT, NBD_INFO_BLOCK_SIZE]);
      const exportInfo = infos.get(NBD_INFO_EXPORT)!;
      assert.equal(exportInfo.readBigUInt64BE(0), 1024n * 1024n);
      assert.equal(exportInfo.readUInt16BE(8), FLAGS);
      const blockSize = infos.get(NBD_INFO_BLOCK_SIZE)!;
      assert.deepEqual(
        [0, 4, 8].map((o) => blockSize.readUInt32BE(o)),
        [1, 4096, 32 * 1024 * 1024],
      );
    }
    await readFirstBlock(c);
    c.socket.end();
  });

  test("NBD_OPT_ABORT is acknowledged, then the server closes", async () => {
    const c = await RawClient.connect(s.socket);
    await c.hello();
    c.sendOption(NBD_OPT_ABORT);
    assert.equal((await c.optionReply()).type, NBD_REP_ACK);
    await c.untilClosed();
  });

  for (const noZeroes of [true, false]) {
    test(`NBD_OPT_EXPORT_NAME ${noZeroes ? "with" : "without"} NBD_FLAG_C_NO_ZEROES`, async () => {
      const c = await RawClient.connect(s.socket);
      await c.hello(noZeroes ? 3 : 1);
      c.sendOption(NBD_OPT_EXPORT_NAME, Buffer.from("vol"));
      const answer = await c.read(noZeroes ? 10 : 134);
      assert.equal(answer.readBigUInt64BE(0), 1024n * 1024n);
      assert.equal(answer.readUInt16BE(8), FLAGS);
      assert.ok(answer.subarray(10).every((b) => b === 0));
      await readFirstBlock(c);
      c.socket.end();
    });
  }

  test("NBD_OPT_EXPORT_NAME of an unknown export ends the connection", async () => {
    const c = await RawClient.connect(s.socket);
    await c.hello();
    c.sendOption(NBD_OPT_EXPORT_NAME, Buffer.from("no-such-volume"));
    await c.untilClosed();
    assert.ok(s.logs.some((l) => l.includes('unknown export "no-such-volume"')));
  });

  test("unknown client flags, a bad option magic or a huge option end the connection", async () => {
    const c1 = await RawClient.connect(s.socket);
    await c1.hello(0x80);
    await c1.untilClosed();
    const c2 = await RawClient.connect(s.socket);
    await c2.hello();
    c2.socket.write(Buffer.alloc(16, 0x41));
    await c2.untilClosed();
    const c3 = await RawClient.connect(s.socket);
    await c3.hello();
    c3.sendOption(NBD_OPT_GO, Buffer.alloc(65 * 1024));
    await c3.untilClosed();
    assert.ok(s.logs.some((l) => l.includes("unknown client flags 0x80")));
    assert.ok(s.logs.some((l) => l.includes("bad option magic")));
    assert.ok(s.logs.some((l) => l.includes(`option ${NBD_OPT_GO} of ${65 * 1024} bytes`)));
  });
});
