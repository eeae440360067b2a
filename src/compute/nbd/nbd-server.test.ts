// The NBD server against real clients: libnbd's nbdinfo/nbdcopy and QEMU's qemu-img/qemu-io.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type NbdExport, NbdServer } from "./nbd-server.ts";
import { hasTool, MemoryExport, nbdUri, run, tempDir } from "./test-tools.ts";

const MiB = 1024 * 1024;
const noLibnbd = !hasTool("nbdinfo") || !hasTool("nbdcopy");
const noQemu = !hasTool("qemu-img") || !hasTool("qemu-io");

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

describe("NBD server with real clients", { skip: noLibnbd && noQemu }, () => {
  const dir = tempDir("strata-nbd-");
  const socket = join(dir.path, "nbd.sock");
  const exports = new Map<string, NbdExport>();
  const logs: string[] = [];
  const server = new NbdServer({ resolve: (name) => exports.get(name), log: (msg) => logs.push(msg) });
  const file = (name: string) => join(dir.path, name);
  const uri = (name: string) => nbdUri(socket, name);

  before(async () => {
    await server.listen({ path: socket });
  });
  after(async () => {
    await server.close();
    dir.remove();
  });

  test("nbdinfo reports the size, flags and block sizes", { skip: noLibnbd }, async () => {
    exports.set("vol-1", new MemoryExport(8 * MiB));
    const info = JSON.parse(await run("nbdinfo", ["--json", uri("vol-1")]));
    const exp = info.exports[0];
    assert.equal(info.protocol, "newstyle-fixed");
    assert.equal(exp["export-size"], 8 * MiB);
    assert.equal(exp.is_read_only, false);
    for (const can of ["can_flush", "can_fua", "can_trim", "can_zero", "can_multi_conn"])
      assert.equal(exp[can], true);
    assert.deepEqual(
      [exp.block_size_minimum, exp.block_size_preferred, exp.block_size_maximum],
      [1, 4096, 32 * MiB],
    );
  });

  test("nbdcopy a random 8 MiB file into an export and back out", { skip: noLibnbd }, async () => {
    const vol = new MemoryExport(8 * MiB);
    exports.set("copy", vol);
    const source = randomBytes(8 * MiB);
    writeFileSync(file("copy-src.raw"), source);
    await run("nbdcopy", ["--flush", file("copy-src.raw"), uri("copy")]);
    assert.equal(sha256(vol.data), sha256(source));
    assert.ok(vol.flushes > 0);
    await run("nbdcopy", [uri("copy"), file("copy-out.raw")]);
    assert.equal(sha256(readFileSync(file("copy-out.raw"))), sha256(source));
  });

  test("qemu-img convert to and from an export, and compare", { skip: noQemu }, async () => {
    const vol = new MemoryExport(16 * MiB, { fill: Buffer.alloc(16 * MiB, 0x5a) });
    exports.set("qemu", vol);
    // Data with holes, so that qemu-img also sends zero writes.
    const source = Buffer.alloc(16 * MiB);
    for (let i = 0; i < 16; i += 3) randomBytes(MiB).copy(source, i * MiB);
    writeFileSync(file("qemu-src.raw"), source);
    await run("qemu-img", ["convert", "-n", "-f", "raw", "-O", "raw", file("qemu-src.raw"), uri("qemu")]);
    assert.ok(vol.data.equals(source));
    await run("qemu-img", ["convert", "-f", "raw", "-O", "raw", uri("qemu"), file("qemu-out.raw")]);
    assert.ok(readFileSync(file("qemu-out.raw")).equals(source));
    await run("qemu-img", ["compare", "-f", "raw", "-F", "raw", file("qemu-src.raw"), uri("qemu")]);
  });

  test("qemu-io: write, read back, flush, discard, write zeroes", { skip: noQemu }, async () => {
    const vol = new MemoryExport(4 * MiB, { fill: Buffer.alloc(4 * MiB, 0x11) });
    exports.set("io", vol);
    const out = await run("qemu-io", [
      ...["-f", "raw", "-c", "write -P 0xab 0 1M", "-c", "read -P 0xab 0 1M", "-c", "flush"],
      ...[
        "-c",
        "discard 0 64k",
        "-c",
        "write -z 1M 64k",
        "-c",
        "read -P 0 1M 64k",
        "-c",
        "write -P 0xcd 3M 512",
      ],
      uri("io"),
    ]);
    assert.doesNotMatch(out, /Pattern verification failed|error/i);
    assert.ok(vol.data.subarray(64 * 1024, MiB).every((b) => b === 0xab));
    assert.ok(vol.data.subarray(0, 64 * 1024).every((b) => b === 0)); // trimmed
    assert.ok(vol.data.subarray(MiB, MiB + 64 * 1024).every((b) => b === 0));
    assert.ok(vol.data.subarray(MiB + 64 * 1024, 3 * MiB).every((b) => b === 0x11));
    assert.ok(vol.data.subarray(3 * MiB, 3 * MiB + 512).every((b) => b === 0xcd));
    assert.ok(vol.flushes >= 1 && vol.trims >= 1);
  });

  test("an unknown export fails cleanly and the server keeps serving", async () => {
    exports.set("vol-1", new MemoryExport(8 * MiB));
    if (!noLibnbd)
      await assert.rejects(
        run("nbdinfo", [uri("no-such-volume")]),
        /No such file or directory for export: no-such-volume/,
      );
    if (!noQemu)
      await assert.rejects(run("qemu-img", ["info", uri("no-such-volume")]), /export not available/);
    if (!noLibnbd) assert.match(await run("nbdinfo", ["--size", uri("vol-1")]), /^8388608$/m);
  });

  test("a read-only export is read-only to clients", async () => {
    exports.set("ro", new MemoryExport(MiB, { readOnly: true, fill: Buffer.alloc(MiB, 7) }));
    if (!noLibnbd) {
      assert.equal(JSON.parse(await run("nbdinfo", ["--json", uri("ro")])).exports[0].is_read_only, true);
      await assert.rejects(run("nbdcopy", [file("copy-src.raw"), uri("ro")]), /read-only/);
    }
    if (!noQemu) {
      await assert.rejects(run("qemu-io", ["-f", "raw", "-c", "write 0 4k", uri("ro")]), /Permission denied/);
      await run("qemu-io", ["-r", "-f", "raw", "-c", "read -P 7 0 1M", uri("ro")]);
    }
  });

  test("garbage from a client closes that connection only", { skip: noLibnbd }, async () => {
    exports.set("vol-1", new MemoryExport(8 * MiB));
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve) => {
        const s = connect(socket, () => s.write(randomBytes(4096)));
        s.on("error", () => {});
        s.on("data", () => {});
        s.on("close", () => resolve());
      });
    }
    assert.ok(logs.some((l) => /unknown client flags|bad option magic/.test(l)));
    assert.match(await run("nbdinfo", ["--size", uri("vol-1")]), /^8388608$/m);
  });

  test("listens on TCP too", { skip: noLibnbd }, async () => {
    exports.set("vol-1", new MemoryExport(8 * MiB));
    const address = await server.listen({ host: "127.0.0.1", port: 0 });
    assert.ok(address.port > 0);
    const size = await run("nbdinfo", ["--size", `nbd://127.0.0.1:${address.port}/vol-1`]);
    assert.equal(size.trim(), String(8 * MiB));
  });
});
