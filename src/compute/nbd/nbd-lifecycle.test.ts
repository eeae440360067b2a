// How NBD connections end, with a raw client: DISC, hang-ups, disconnectExport and close().
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { NbdExport } from "./nbd-export.ts";
import { NBD_CMD_DISC, NBD_CMD_READ } from "./nbd-protocol.ts";
import { encodeRequest, MemoryExport, RawClient, startServer } from "./test-tools.ts";

const MiB = 1024 * 1024;

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 2));
}

describe("NBD connection lifecycle", () => {
  const exports = new Map<string, NbdExport>();
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

  test("requests in flight are answered before closing: DISC, client half-close", async () => {
    const vol = new MemoryExport(MiB, { fill: Buffer.alloc(MiB, 3) });
    vol.readDelayMs = 50;
    exports.set("slow-2", vol);
    for (const hangUp of ["disc", "end"]) {
      const c = await client("slow-2");
      c.request(NBD_CMD_READ, 1, 0, 8);
      if (hangUp === "disc") c.request(NBD_CMD_DISC, 2, 0, 0);
      else c.socket.end();
      assert.deepEqual(await c.reply(8), { error: 0, cookie: 1, data: Buffer.alloc(8, 3) });
      await c.untilClosed();
    }
    const c = await client("slow-2");
    c.socket.end(encodeRequest(NBD_CMD_READ, 1, 0, 8).subarray(0, 13)); // hangs up mid-request
    await c.untilClosed();
  });

  test("disconnectExport ends that export's connections after their requests", async () => {
    const a = new MemoryExport(MiB, { fill: Buffer.alloc(MiB, 0xa) });
    a.readDelayMs = 50;
    exports.set("a", a);
    exports.set("b", new MemoryExport(MiB, { fill: Buffer.alloc(MiB, 0xb) }));
    const [a1, a2, b1] = [await client("a"), await client("a"), await client("b")];
    a1.request(NBD_CMD_READ, 1, 0, 4);
    await until(() => a.active === 1);
    await s.server.disconnectExport("a");
    assert.equal(a.active, 0);
    assert.deepEqual(await a1.reply(4), { error: 0, cookie: 1, data: Buffer.alloc(4, 0xa) });
    await Promise.all([a1.untilClosed(), a2.untilClosed()]);
    b1.request(NBD_CMD_READ, 2, 0, 4);
    assert.deepEqual(await b1.reply(4), { error: 0, cookie: 2, data: Buffer.alloc(4, 0xb) });
    b1.socket.end();
  });

  test("close() waits for requests in flight, then closes connections and the socket", async () => {
    const vol = new MemoryExport(MiB, { fill: Buffer.alloc(MiB, 9) });
    vol.readDelayMs = 50;
    const own = await startServer(() => vol);
    const c = await RawClient.connect(own.socket);
    await c.go("anything");
    c.request(NBD_CMD_READ, 1, 0, 4);
    await until(() => vol.active === 1);
    await own.stop();
    assert.deepEqual(await c.reply(4), { error: 0, cookie: 1, data: Buffer.alloc(4, 9) });
    await c.untilClosed();
    assert.equal(existsSync(own.socket), false);
    await assert.rejects(own.server.listen({ path: own.socket }), /closed/);
  });
});
